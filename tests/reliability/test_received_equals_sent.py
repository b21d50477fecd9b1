"""For random valid messages, what the emulator received equals what was sent, in all
three variants (the emulator parses with its own code, not the provider's codecs)."""

from __future__ import annotations

import os
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_cascade.gateway import Message
from airflow_provider_cascade.hooks.cascade import CascadeHook
from airflow_provider_cascade.testing.emulator import CascadeEmulator
from tests.gateway.test_properties import expected, messages


@pytest.mark.parametrize("protocol", ["json", "xml", "get"])
def test_received_equals_sent(
    cascade_emulator: CascadeEmulator, figures: Counter[str], protocol: str
) -> None:
    @settings(
        max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    @given(st.lists(messages(), min_size=1, max_size=3))
    def check(batch: list[Message]) -> None:
        cascade_emulator.reset()
        os.environ["AIRFLOW_CONN_CASCADE_DEFAULT"] = cascade_emulator.conn_uri(protocol)
        phones_seen: set[str] = set()
        unique = []
        for m in batch:  # one phone, one message: the emulator indexes deliveries by phone
            rest = tuple(r for r in m.recipients if r.phone not in phones_seen)
            phones_seen.update(r.phone for r in rest)
            if rest:
                unique.append(m.with_recipients(rest, bases=()))
        results = CascadeHook().send(unique)
        assert all(r.accepted for r in results)
        received = {d.phone: d.received for d in cascade_emulator.deliveries}
        for m in unique:
            want = expected(m)
            phones = want.pop("phones")
            for phone in phones:
                assert received[phone] == want
        figures["random messages round-tripped"] += len(unique)

    try:
        check()
    finally:
        os.environ.pop("AIRFLOW_CONN_CASCADE_DEFAULT", None)
