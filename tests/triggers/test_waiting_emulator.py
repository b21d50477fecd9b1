"""One waiting policy for the sensor, the trigger and the send operator, against the emulator
with its once-a-minute rule on (a 0.4 s window): nothing asked twice inside the window, refusals
waited out, ``max_transient_failures`` honoured in every mode, one query before deferring."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import TaskDeferred

from airflow_provider_cascade.gateway import SMS, CascadeError, Message
from airflow_provider_cascade.hooks.cascade import CascadeHook
from airflow_provider_cascade.operators.cascade import CascadeSendMessageOperator
from airflow_provider_cascade.sensors.cascade import CascadeMessageStateSensor
from airflow_provider_cascade.testing.emulator import CascadeEmulator
from airflow_provider_cascade.triggers.cascade import CascadeMessageStateTrigger

WINDOW = 0.4
SMS_ONLY = [{"channel": "sms", "text": "x", "sender": "S"}]


@pytest.fixture
def gw(cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch) -> CascadeEmulator:
    cascade_gateway.behaviour.repeat_window = WINDOW
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", cascade_gateway.conn_uri("json"))
    return cascade_gateway


def send(phones: list[str]) -> list[str]:
    return [r.id_message for r in CascadeHook().send([Message([SMS("x", "S")], phones)])
            if r.id_message]  # fmt: skip


def state_queries(gw: CascadeEmulator) -> list[float]:
    return [r.received_at for r in gw.requests if r.kind in ("state", "refused")]


def run(trigger: CascadeMessageStateTrigger) -> dict[str, Any]:
    async def collect() -> list[dict[str, Any]]:
        return [e.payload async for e in trigger.run()]

    (event,) = asyncio.run(collect())
    return event


def context() -> dict[str, Any]:
    pushed: dict[str, Any] = {}
    # a run id of its own: a send's ledger belongs to one task instance (dag, run, task, map)
    ti = SimpleNamespace(dag_id="d", run_id=f"r-{uuid.uuid4()}", task_id="t", map_index=-1,
                         pushed=pushed,
                         xcom_push=lambda key, value: pushed.__setitem__(key, value))  # fmt: skip
    return {"ti": ti}


def test_trigger_does_not_repeat_the_tasks_last_query(gw: CascadeEmulator) -> None:
    ids = send(["79000000001", "79000000002"])
    CascadeHook().get_states(ids)  # the task's query, just before it defers
    asked_at = time.time()
    event = run(CascadeMessageStateTrigger(ids, end_time=time.time() + 30, poll_interval=0.05,
                                           repeat_window=WINDOW, last_polled_at=asked_at))  # fmt: skip
    assert event["status"] == "success"
    assert gw.counters["repeat_refused"] == 0
    first, second = state_queries(gw)[:2]
    assert second - first >= WINDOW


def test_a_refusal_is_waited_out_not_counted(
    gw: CascadeEmulator, capfd: pytest.CaptureFixture[str]
) -> None:
    ids = send(["79000000001", "79000000002"])
    time.sleep(0.1)  # final at the emulator's fast clock
    CascadeHook().get_states(ids)  # someone else asks the very same question ...
    trigger = CascadeMessageStateTrigger(ids, end_time=time.time() + 30, poll_interval=0.05,
                                         max_transient_failures=0)  # fmt: skip
    event = run(trigger)  # ... and the trigger, knowing nothing of it, is refused once
    assert event["status"] == "success"  # a refusal is not a failure, even with 0 tolerated
    assert gw.counters["repeat_refused"] == 1
    queries = state_queries(gw)
    assert len(queries) == 3 and queries[2] - queries[1] >= WINDOW
    assert capfd.readouterr().out.count("refused a status query for 2 id(s) as a repeat") == 1


def test_trigger_does_not_ask_inside_the_window_before_its_deadline(gw: CascadeEmulator) -> None:
    gw.set_time_scale(1.0)  # stays "send"
    ids = send(["79000000001"])
    event = run(CascadeMessageStateTrigger(ids, end_time=time.time() + 1.0, poll_interval=0.05,
                                           repeat_window=WINDOW))  # fmt: skip
    assert event["status"] == "timeout" and event["final"] == 0 and event["total"] == 1
    queries = state_queries(gw)
    assert 2 <= len(queries) <= 3 and gw.counters["repeat_refused"] == 0


@pytest.mark.parametrize("mode", ["sensor-poke", "operator-in-worker"])
def test_max_transient_failures_honoured_outside_the_triggerer(
    gw: CascadeEmulator, mode: str
) -> None:
    ids = send(["79000000001"])
    gw.faults.garbage_next(100)  # every answer unreadable from now on
    if mode == "sensor-poke":
        sensor = CascadeMessageStateSensor(task_id="w", id_messages=ids, deferrable=False,
                                           poke_interval=0, max_transient_failures=2)  # fmt: skip
        call = lambda: sensor.execute(context())  # noqa: E731
    else:
        op = CascadeSendMessageOperator(task_id="s", channels=SMS_ONLY, phones=["79000000001"],
                                        wait_for_completion=True, deferrable=False,
                                        poll_interval=0, max_transient_failures=2)  # fmt: skip
        call = lambda: op.wait(context(), ids)  # noqa: E731  (what execute does after sending)
    with pytest.raises(CascadeError, match=r"keeps failing \(3 times in a row"):
        call()
    faulted = [r.received_at for r in gw.requests if r.kind == "fault"]
    assert len(faulted) == 3  # 2 tolerated, the 3rd ends the wait
    assert all(b - a >= WINDOW for a, b in itertools.pairwise(faulted))  # raised to the window


def test_operator_polls_once_then_defers_with_when_it_asked(gw: CascadeEmulator) -> None:
    gw.set_time_scale(1.0)  # not final for a while
    op = CascadeSendMessageOperator(task_id="s", channels=SMS_ONLY, phones=["79000000001"],
                                    wait_for_completion=True, deferrable=True, poll_interval=120)  # fmt: skip
    before = time.time()
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context())
    assert len(state_queries(gw)) == 1
    trigger = deferred.value.trigger
    assert isinstance(trigger, CascadeMessageStateTrigger)
    kwargs = trigger.serialize()[1]
    assert before <= kwargs["last_polled_at"] <= time.time()
    assert kwargs["repeat_window"] == WINDOW and kwargs["poll_interval"] == 120
    assert kwargs["last_progress"] == "0/1 final; 1 in progress"


def test_operator_does_not_defer_when_all_final_at_once(gw: CascadeEmulator) -> None:
    gw.steer(".", "first")  # final at once
    op = CascadeSendMessageOperator(task_id="s", channels=SMS_ONLY, phones=["79000000001"],
                                    wait_for_completion=True, deferrable=True)  # fmt: skip
    ctx = context()
    time.sleep(0.05)
    ids = op.execute(ctx)
    assert len(ids) == 1 and set(ctx["ti"].pushed) >= {"prices", "price_totals", "send_results"}
    assert len(state_queries(gw)) == 1  # one query, no deferral


def test_sensor_hands_its_query_time_and_line_to_the_trigger(gw: CascadeEmulator) -> None:
    gw.set_time_scale(1.0)
    ids = send(["79000000001", "79000000002"])
    sensor = CascadeMessageStateSensor(task_id="w", id_messages=ids, deferrable=True,
                                       poke_interval=1)  # fmt: skip
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context())
    assert len(state_queries(gw)) == 1
    kwargs = deferred.value.trigger.serialize()[1]
    assert kwargs["id_messages"] == ids and kwargs["repeat_window"] == WINDOW
    assert kwargs["poll_interval"] == 1 and kwargs["last_polled_at"] is not None
    assert kwargs["last_progress"] == "0/2 final; 2 in progress"


def test_without_an_interval_it_asks_as_often_as_the_window_allows(
    gw: CascadeEmulator, capfd: pytest.CaptureFixture[str]
) -> None:
    gw.set_time_scale(1200)  # the Viber -> SMS fallthrough takes a few real seconds
    viber_then_sms = [{"channel": "viber", "text": "x", "sender": "S"}, *SMS_ONLY]
    op = CascadeSendMessageOperator(task_id="s", channels=viber_then_sms, phones=["79000000006"],
                                    wait_for_completion=True, deferrable=False)  # fmt: skip
    assert op.execute(context())
    queries = state_queries(gw)
    gaps = [b - a for a, b in itertools.pairwise(queries)]
    assert len(queries) >= 3 and gw.counters["repeat_refused"] == 0
    assert all(WINDOW <= g < WINDOW + 0.3 for g in gaps), gaps  # the window, not 60 s
    assert "shorter than the gateway's repeat window" not in capfd.readouterr().out
    gw.set_time_scale(1.0)  # stays in flight: the sensor defers
    sensor = CascadeMessageStateSensor(task_id="w", id_messages=send(["79000000001"]),
                                       deferrable=True)  # fmt: skip
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context())
    assert deferred.value.trigger.serialize()[1]["poll_interval"] is None
