"""The campaign ledger in real DAG runs (dag.test()) against the emulator with its
once-a-minute rule on: lost answers, untracked recipients, files, mapped shards."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from airflow_provider_cascade.testing.dagruns import run_dag, task_states, xcom
from airflow_provider_cascade.testing.emulator import CascadeEmulator

FILE = "cascade_ledger_dags.py"


@pytest.fixture
def env(airflow_home: Path, cascade_conn: str, cascade_gateway: CascadeEmulator) -> CascadeEmulator:
    return cascade_gateway


def task_state(dag_run: object, task_id: str, key: str) -> dict[str, object] | None:
    try:
        from airflow.models.task_state_store import TaskStateStoreModel
    except ImportError:
        return None
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        value = session.execute(
            select(TaskStateStoreModel.value).where(
                TaskStateStoreModel.dag_id == dag_run.dag_id,  # type: ignore[attr-defined]
                TaskStateStoreModel.run_id == dag_run.run_id,  # type: ignore[attr-defined]
                TaskStateStoreModel.task_id == task_id,
                TaskStateStoreModel.key == key,
            )
        ).scalar_one_or_none()
    return None if value is None else json.loads(value)


def try_number(dag_run: object, task_id: str) -> int:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return int(session.execute(
            select(TaskInstance.try_number).where(
                TaskInstance.dag_id == dag_run.dag_id,  # type: ignore[attr-defined]
                TaskInstance.run_id == dag_run.run_id,  # type: ignore[attr-defined]
                TaskInstance.task_id == task_id,
            )
        ).scalar_one())  # fmt: skip


def cost(gw: CascadeEmulator, ids: list[str] | None = None) -> dict[str, str]:
    totals: dict[str, Decimal] = {}
    for d in gw.deliveries:
        if ids is not None and d.id_message not in ids:
            continue
        for channel, price in gw.final_prices(d.id_message).items():
            if price:
                totals[channel] = totals.get(channel, Decimal(0)) + price
    return {c: str(v) for c, v in sorted(totals.items())}


def test_first_answer_lost_after_acceptance_run_succeeds(env: CascadeEmulator) -> None:
    env.faults.drop_after_accept_next(1)
    dr = run_dag(FILE, "cascade_ledger_inline")
    assert str(dr.state) == "success", task_states(dr)
    assert set(env.accepted_per_phone().values()) == {1} and len(env.accepted_per_phone()) == 3
    ids = xcom(dr, "send")
    assert sorted(ids) == sorted(d.id_message for d in env.deliveries)
    prices = xcom(dr, "wait", "prices")
    assert set(prices) == set(ids)  # the sensor's prices cover every message
    assert env.counters["repeat_refused"] == 0


def test_repeated_client_ids_answered_without_id_are_untracked(
    env: CascadeEmulator, capfd: pytest.CaptureFixture[str]
) -> None:
    env.behaviour.duplicate_answer = "without_id"
    env.faults.drop_after_accept_next(1)
    dr = run_dag(FILE, "cascade_ledger_inline")
    assert str(dr.state) == "success", task_states(dr)
    assert set(env.accepted_per_phone().values()) == {1}  # nobody messaged twice
    summary = xcom(dr, "send", "send_summary")
    assert summary["untracked"] == 3 and summary["accepted"] == 0
    assert sorted(summary["untracked_sample"]) == [f"7950{i:07d}" for i in range(3)]
    log = capfd.readouterr().out
    assert "3 recipients are UNTRACKED" in log and "79500000001" in log
    assert xcom(dr, "send") == []  # nothing to poll; the wait ends at once


def test_campaign_from_a_file_keeps_xcom_and_trigger_small(
    env: CascadeEmulator, tmp_path: Path
) -> None:
    csv = tmp_path / "recipients.csv"
    phones = [f"7951{i:07d}" for i in range(2500)]
    csv.write_text("phone\n" + "\n".join([*phones, phones[0]]) + "\n")  # one repeat
    dr = run_dag(FILE, "cascade_ledger_file", recipients=str(csv))
    assert str(dr.state) == "success", task_states(dr)
    ref = xcom(dr, "send")
    assert ref["accepted"] == 2500 and ref["untracked"] == 0 and "cascade_ledger" in ref
    assert len(json.dumps(ref)) < 1024
    assert set(env.accepted_per_phone().values()) == {1} and len(env.accepted_per_phone()) == 2500
    totals = xcom(dr, "wait", "price_totals")
    assert totals["by_channel"] == cost(env)
    counts = xcom(dr, "wait", "state_counts")
    assert sum(counts.values()) == 2500
    result = xcom(dr, "wait")
    assert len(json.dumps(result)) < 2048 and result["final"] == 2500
    assert env.counters["repeat_refused"] == 0
    stored = task_state(dr, "send", "cascade_ledger")
    if stored is not None:  # Airflow 3.3+: the ledger's place and checkpoint in the state store
        assert stored["url"] == ref["cascade_ledger"] and stored["state"] == "sent"
        assert stored["accepted"] == 2500


def test_a_wrong_password_fails_at_once_despite_retries(
    env: CascadeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("airflow.sdk.definitions.retry_policy")  # Airflow 3.3+
    conn = env.conn_dict("json")
    conn["password"] = "wrong"
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_WRONG_PASSWORD", json.dumps(conn))
    dr = run_dag(FILE, "cascade_ledger_bad_credentials")
    assert task_states(dr) == {"send": "failed"}
    assert try_number(dr, "send") == 1  # the retry policy: no retry can fix credentials
    assert len(env.requests) == 1


def test_other_failures_keep_airflows_retries(env: CascadeEmulator) -> None:
    dr = run_dag(FILE, "cascade_ledger_missing_conn")  # a connection nobody defined (yet)
    assert task_states(dr) == {"send": "failed"} and try_number(dr, "send") == 2


def test_sharded_campaign_example(env: CascadeEmulator) -> None:
    dr = run_dag("example_cascade_sharded_campaign.py", "example_cascade_sharded_campaign")
    assert str(dr.state) == "success", task_states(dr)
    states = task_states(dr)
    assert {k for k in states if k.startswith("send[")} == {"send[0]", "send[1]", "send[2]"}
    assert len(env.accepted_per_phone()) == 300 and set(env.accepted_per_phone().values()) == {1}
    refs = [xcom(dr, "send", map_index=i) for i in range(3)]
    assert len({r["cascade_ledger"] for r in refs}) == 3
    assert sum(r["accepted"] for r in refs) == 300
    assert xcom(dr, "delivered", "price_totals")["by_channel"] == cost(env)
