"""Operators, notifier and sensor in real DAG runs (dag.test(), SQLite) against the emulator."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from airflow_provider_cascade.testing.dagruns import run_dag, task_states, xcom
from airflow_provider_cascade.testing.emulator import CascadeEmulator

FILE = "cascade_test_dags.py"


@pytest.fixture
def env(airflow_home: Path, cascade_conn: str, cascade_gateway: CascadeEmulator) -> CascadeEmulator:
    return cascade_gateway


def test_single_message_and_deferrable_sensor(env: CascadeEmulator) -> None:
    dr = run_dag(FILE, "cascade_test_single")
    assert str(dr.state) == "success", task_states(dr)
    ids = xcom(dr, "send")
    assert len(ids) == 3
    prices = xcom(dr, "wait", "prices")
    assert prices == {i: {c: str(p) for c, p in env.final_prices(i).items()} for i in ids}
    totals = xcom(dr, "wait", "price_totals")
    expected = sum((p for i in ids for p in env.final_prices(i).values()), Decimal(0))
    assert Decimal(totals["total"]) == expected
    states = xcom(dr, "wait")
    assert Counter(s["state"] for s in states.values()) == {"deliver": 2, "not_deliver": 1}
    received = {d.phone: d for d in env.deliveries}
    assert received["79000000001"].received["text_viber"] == "Hello from cascade_test_single"
    assert all(d.client_id_message for d in env.deliveries)


def test_personalised_batch_of_1000(env: CascadeEmulator) -> None:
    dr = run_dag(FILE, "cascade_test_batch")
    assert str(dr.state) == "success", task_states(dr)
    assert len(xcom(dr, "send")) == 1000
    assert sum(r.kind == "send" for r in env.requests) == 1  # 1,000 recipients fit one request
    assert env.counters["recipients_accepted"] == 1000
    ids = xcom(dr, "send")
    assert xcom(dr, "wait", "prices") == {  # the non-deferrable sensor, exact to the cent
        i: {c: str(p) for c, p in env.final_prices(i).items()} for i in ids
    }
    results = xcom(dr, "send", "send_results")
    assert len(results) == 1000 and all(r["error"] is None for r in results)


def test_base_campaign_stop_list_and_time_zone(env: CascadeEmulator) -> None:
    env.add_base("21", [("79000000061", "Анна"), ("79000000062", "Борис")])
    env.add_base("22", [("79000000063", "Вера")])
    env.add_base("23", [("79000000062", "")])
    dr = run_dag(FILE, "cascade_test_base")
    assert str(dr.state) == "success", task_states(dr)
    results = xcom(dr, "campaign", "send_results")
    assert [(r["base"], r["phone"], r["error"] is None) for r in results] == [
        ("21", "79000000061", True),
        ("21", "79000000062", False),
        ("22", "79000000063", True),
    ]
    send = next(r for r in env.requests if r.kind == "send")
    import json

    (message,) = json.loads(send.body)["message"]
    # 09:30 in London (BST, UTC+1) is 11:30 in Moscow (UTC+3), the connection's zone
    assert message["base"][0] == {"base": "21", "time_send": "2030-06-01 11:30"}
    assert message["stop_base"] == [{"base": "23"}]
    anna = next(d for d in env.deliveries if d.phone == "79000000061")
    assert anna.received["text_sms"] == "Анна, sale today"
    assert env.state(anna.id_message)["state"] == "send"  # waits for its time_send


def test_base_campaign_refuses_other_variants(
    airflow_home: Path, cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", cascade_gateway.conn_uri("xml"))
    dr = run_dag(FILE, "cascade_test_base")
    assert str(dr.state) == "failed"
    assert cascade_gateway.requests == []


def test_dynamic_mapping_over_three_groups(env: CascadeEmulator) -> None:
    dr = run_dag(FILE, "cascade_test_mapped")
    assert str(dr.state) == "success", task_states(dr)
    assert [len(xcom(dr, "send", map_index=i)) for i in range(3)] == [2, 1, 2]
    assert sum(r.kind == "send" for r in env.requests) == 3
    assert len({d.client_id_message for d in env.deliveries}) == 5


def test_operator_waits_for_completion(env: CascadeEmulator) -> None:
    dr = run_dag(FILE, "cascade_test_wait_in_operator")
    assert str(dr.state) == "success", task_states(dr)
    ids = xcom(dr, "send")
    assert xcom(dr, "send", "prices") == {
        i: {c: str(p) for c, p in env.final_prices(i).items()} for i in ids
    }


def test_notifier_fires_from_failing_task(env: CascadeEmulator) -> None:
    dr = run_dag(FILE, "cascade_test_notifier")
    assert str(dr.state) == "failed"
    (alert,) = env.deliveries
    assert alert.phone == "79000000051"
    assert alert.received["text_viber"] == "cascade_test_notifier.broken failed"


def test_task_retry_never_sends_twice(env: CascadeEmulator) -> None:
    env.faults.drop_after_accept_next(4)  # every attempt of the hook in the first try
    dr = run_dag(FILE, "cascade_test_retry")
    assert str(dr.state) == "success", task_states(dr)
    assert set(env.accepted_per_phone().values()) == {1}
    assert len(env.accepted_per_phone()) == 20
    results = xcom(dr, "send", "send_results")
    assert len(results) == 20 and all(r["already_sent"] for r in results)
    assert len(xcom(dr, "send")) == 20


def test_sensor_in_reschedule_mode(env: CascadeEmulator) -> None:
    env.set_time_scale(1200)  # the fallthrough to SMS takes ~6 s: several reschedules
    dr = run_dag(FILE, "cascade_test_reschedule")
    assert str(dr.state) == "success", task_states(dr)
    ids = xcom(dr, "send")
    assert xcom(dr, "wait", "prices") == {
        i: {c: str(p) for c, p in env.final_prices(i).items()} for i in ids
    }
    assert sum(r.kind == "state" for r in env.requests) >= 2  # it poked more than once
