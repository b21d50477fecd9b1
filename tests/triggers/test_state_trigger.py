"""CascadeMessageStateTrigger: serialize() and run() against the emulator."""

from __future__ import annotations

import asyncio
import json
import math
import time
from typing import Any

import pytest

from airflow_provider_cascade.gateway import SMS, Message
from airflow_provider_cascade.hooks.cascade import CascadeHook
from airflow_provider_cascade.testing.emulator import CascadeEmulator
from airflow_provider_cascade.triggers.cascade import CascadeMessageStateTrigger


def send(gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, protocol: str, phones: list[str],
         **extra: Any) -> list[str]:  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", gw.conn_uri(protocol, **extra))
    results = CascadeHook().send([Message([SMS("x", "S")], phones)])
    return [r.id_message for r in results if r.id_message]


def events(trigger: CascadeMessageStateTrigger) -> list[dict[str, Any]]:
    async def collect() -> list[dict[str, Any]]:
        return [e.payload async for e in trigger.run()]

    return asyncio.run(collect())


def test_serialize_holds_only_ids_and_settings(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    trigger = CascadeMessageStateTrigger(["1", "2"], end_time=123.0, poll_interval=5)
    path, kwargs = trigger.serialize()
    assert path == "airflow_provider_cascade.triggers.cascade.CascadeMessageStateTrigger"
    assert kwargs == {"id_messages": ["1", "2"], "end_time": 123.0, "cascade_conn_id": "cascade_default",
                      "poll_interval": 5.0, "max_transient_failures": 5, "repeat_window": None,
                      "last_polled_at": None, "last_progress": None, "ledgers": None}  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", cascade_gateway.conn_uri("json"))
    text = json.dumps(kwargs)
    assert cascade_gateway.password not in text and cascade_gateway.token not in text
    assert CascadeMessageStateTrigger(**kwargs).serialize() == (path, kwargs)


def test_all_final(cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = send(cascade_gateway, monkeypatch, "json", ["79000000001", "79000000006"])
    (event,) = events(
        CascadeMessageStateTrigger(ids, end_time=time.time() + 30, poll_interval=0.05)
    )
    assert event["status"] == "success"
    assert [event["states"][i]["state"] for i in ids] == ["deliver", "not_deliver"]
    json.dumps(event)  # a JSON event


def test_deadline_after_one_last_poll(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    cascade_gateway.set_time_scale(1.0)  # stays "send"
    ids = send(cascade_gateway, monkeypatch, "xml", ["79000000001"])
    (event,) = events(
        CascadeMessageStateTrigger(ids, end_time=time.time() + 0.3, poll_interval=0.1)
    )
    assert event["status"] == "timeout" and event["states"][ids[0]]["state"] == "send"


def test_transient_5xx_then_success(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = send(cascade_gateway, monkeypatch, "json", ["79000000001"])
    cascade_gateway.faults.fail_next(6, status=503, retry_after=0)  # more than one poll's retries
    (event,) = events(
        CascadeMessageStateTrigger(ids, end_time=time.time() + 30, poll_interval=0.05)
    )
    assert event["status"] == "success"


def test_persistent_failure(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = send(cascade_gateway, monkeypatch, "json", ["79000000001"])
    cascade_gateway.faults.garbage_next(100)
    (event,) = events(CascadeMessageStateTrigger(ids, end_time=time.time() + 30, poll_interval=0.01,
                                                 max_transient_failures=2))  # fmt: skip
    assert event["status"] == "error" and "keeps failing" in event["message"]
    assert cascade_gateway.password not in json.dumps(event)


def test_auth_error_is_immediate(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = {**cascade_gateway.conn_dict("json"), "password": "wrong-pw-123"}
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(conn))
    (event,) = events(
        CascadeMessageStateTrigger(["1"], end_time=time.time() + 30, poll_interval=0.01)
    )
    assert event["status"] == "error" and "Неправильный логин или пароль" in event["message"]
    assert "wrong-pw-123" not in json.dumps(event)


def test_get_respects_once_a_minute(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    cascade_gateway.behaviour.repeat_window = 60
    cascade_gateway.set_time_scale(1.0)
    ids = send(cascade_gateway, monkeypatch, "get", ["79000000001", "79000000002"])
    (event,) = events(
        CascadeMessageStateTrigger(ids, end_time=time.time() + 1.0, poll_interval=0.1)
    )
    assert event["status"] == "timeout"
    assert sum(r.kind == "state" for r in cascade_gateway.requests) == 2  # one per id, not ~10
    assert cascade_gateway.counters["repeat_refused"] == 0


def test_ten_thousand_ids_in_batches(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    phones = [f"7903{i:07d}" for i in range(10_000)]
    ids = send(cascade_gateway, monkeypatch, "json", phones, max_state_ids=500)
    (event,) = events(
        CascadeMessageStateTrigger(ids, end_time=time.time() + 60, poll_interval=0.05)
    )
    assert event["status"] == "success" and len(event["states"]) == 10_000
    assert {s["state"] for s in event["states"].values()} >= {"deliver", "not_deliver"}
    assert "error" not in {s["state"] for s in event["states"].values()}
    assert sum(r.kind == "state" for r in cascade_gateway.requests) == math.ceil(10_000 / 500)
