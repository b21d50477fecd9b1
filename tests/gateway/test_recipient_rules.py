"""The recipient's inline check for usual values agrees with the full rules on every edge."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_cascade.gateway import CascadeValidationError, Recipient
from airflow_provider_cascade.gateway import _checks as rules

PHONES: list[Any] = [
    "79000000001", "7900000", "790000000012345", "7900000000123456", "790000", "0790000000",
    "79000a0001", "７９０００００００１", "7900000²", "", " 79000000001", 79000000001, None, True,
]  # fmt: skip
CLIENT_IDS: list[Any] = [
    None, "", "0", "00", "007", "123456789012345678", "1234567890123456789",
    "9223372036854775807", "9223372036854775808", "1000000000000000000", "9999999999999999999",
    "12345678901234567890", "-1", "1.0", 5, "１", "1 ", False,
]  # fmt: skip


def _by_rules(phone: Any, cid: Any) -> tuple[Any, ...]:
    try:
        return rules.phone("phone", phone), rules.client_id("client_id_message", cid)
    except CascadeValidationError as exc:
        return "refused", exc.field, exc.rule


@pytest.mark.parametrize("phone", PHONES)
def test_recipient_agrees_with_the_rules(phone: Any) -> None:
    for cid in CLIENT_IDS:
        try:
            r = Recipient(phone, cid)
            got: tuple[Any, ...] = (r.phone, r.client_id_message)
        except CascadeValidationError as exc:
            got = ("refused", exc.field, exc.rule)
        assert got == _by_rules(phone, cid), (phone, cid)
