"""The end of a wait, each test aimed at one mutant of ``tests/mutants.py``."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from airflow_provider_cascade.gateway import Channel, MessageState, MessageStatus
from airflow_provider_cascade.waiting import finish


def test_finish_pushes_exact_prices_and_totals() -> None:
    states = {
        "1": MessageState("1", "deliver", MessageStatus.DELIVER,
                          prices={Channel.SMS: Decimal("0.10"), Channel.VIBER: Decimal("0.20")}),
        "2": MessageState("2", "deliver", MessageStatus.DELIVER,
                          prices={Channel.SMS: Decimal("0.20")}),
    }  # fmt: skip
    pushed: dict[str, Any] = {}
    ti = SimpleNamespace(xcom_push=lambda key, value: pushed.__setitem__(key, value))
    lines: list[str] = []
    log = SimpleNamespace(info=lambda msg, *a: lines.append(msg % a))
    out = finish({"ti": ti}, states, log)
    assert set(out) == {"1", "2"} and set(pushed) == {"prices", "price_totals"}
    totals = pushed["price_totals"]
    assert Decimal(str(totals["total"])) == Decimal("0.50")
    assert {k: Decimal(str(v)) for k, v in totals["by_channel"].items()} == {
        "sms": Decimal("0.30"), "viber": Decimal("0.20")}  # fmt: skip
    assert "0.30" in lines[0] and "0.50" in lines[0]
