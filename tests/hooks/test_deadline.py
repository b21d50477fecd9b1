"""A request has a total deadline: a gateway that keeps the connection open without
answering fails the request with a typed error that says so, once the deadline passes."""

from __future__ import annotations

import json

import pytest

from airflow_provider_cascade.gateway import SMS, CascadeTransportError, Message
from airflow_provider_cascade.hooks.cascade import CascadeHook
from airflow_provider_cascade.testing.emulator import CascadeEmulator


@pytest.mark.parametrize("protocol", ["json", "get"])
def test_a_silent_gateway_fails_the_request_at_its_deadline(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, protocol: str
) -> None:
    conn = cascade_gateway.conn_dict(protocol, deadline=0.5, timeout=30, retry_limit=0)
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(conn))
    cascade_gateway.faults.slow_next(1, seconds=5)
    with pytest.raises(CascadeTransportError) as err:
        CascadeHook().send([Message([SMS("Hi", "Shop")], ["79000000001"])])
    assert "the request deadline passed (0.5 s);" in str(err.value)
    assert err.value.may_have_sent
