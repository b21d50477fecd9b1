"""Waiting (sensor, trigger, the end of a wait), against the emulator with its once-a-minute
rule on."""

from __future__ import annotations

import time
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_cascade.gateway import CascadeError, Channel, MessageState, MessageStatus
from airflow_provider_cascade.sensors.cascade import CascadeMessageStateSensor
from airflow_provider_cascade.testing.emulator import CascadeEmulator
from airflow_provider_cascade.triggers.cascade import CascadeMessageStateTrigger
from airflow_provider_cascade.waiting import finish

from .test_waiting_emulator import WINDOW, context, run, send, state_queries


@pytest.fixture
def gw(cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch) -> CascadeEmulator:
    cascade_gateway.behaviour.repeat_window = WINDOW
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", cascade_gateway.conn_uri("json"))
    return cascade_gateway


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


def test_the_sensor_raises_its_poke_interval_to_the_window(gw: CascadeEmulator) -> None:
    """Airflow's poke loop sleeps ``poke_interval``: a shorter one than the gateway's repeat
    window would ask inside it."""
    sensor = CascadeMessageStateSensor(task_id="w", id_messages=send(["79000000001"]),
                                       poke_interval=0.05)  # fmt: skip
    sensor.poke(context())
    assert sensor.poke_interval == WINDOW


def test_the_sensor_poke_fails_on_undelivered(gw: CascadeEmulator) -> None:
    gw.steer("79000000777", "not_deliver")
    ids = send(["79000000777", "79000000001"])
    sensor = CascadeMessageStateSensor(task_id="w", id_messages=ids, fail_on_undelivered=True)
    with pytest.raises(CascadeError, match="1 message"):
        for _ in range(40):
            if sensor.poke(context()):  # done without failing: undelivered went unnoticed
                break
            time.sleep(WINDOW / 2)


def test_the_trigger_keeps_the_handed_over_query_time() -> None:
    """The task's last query time survives serialization: the triggerer must not ask again
    inside the window the task's query opened."""
    trigger = CascadeMessageStateTrigger(["1"], end_time=500.0, repeat_window=2.0,
                                         last_polled_at=100.5, last_progress="0/1 final")  # fmt: skip
    path, kwargs = trigger.serialize()
    assert kwargs["last_polled_at"] == 100.5 and kwargs["repeat_window"] == 2.0
    assert kwargs["last_progress"] == "0/1 final"
    assert CascadeMessageStateTrigger(**kwargs).serialize() == (path, kwargs)


def test_the_trigger_reports_its_deadline_instead_of_asking_past_it(gw: CascadeEmulator) -> None:
    """The task asked just before deferring; the window that query opened (3 s here) ends after
    the deadline (1 s), so the trigger must not ask at all: it reports the timeout on time."""
    gw.set_time_scale(1.0)  # stays "send"
    ids = send(["79000000001"])
    started = time.time()
    trigger = CascadeMessageStateTrigger(ids, end_time=started + 1.0, repeat_window=3.0,
                                         last_polled_at=started)  # fmt: skip
    event = run(trigger)
    assert event["status"] == "timeout" and time.time() - started < 2.5
    assert state_queries(gw) == []
