"""Faults in a real DAG run: answers dropped after sends were accepted (at random, fixed
seed) and status queries failing at random; nothing is sent twice, nothing is lost."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from airflow_provider_cascade.testing.dagruns import run_dag, task_states, xcom
from airflow_provider_cascade.testing.emulator import CascadeEmulator


def test_5000_recipient_campaign_with_dropped_answers(
    airflow_home: Path, cascade_conn: str, cascade_gateway: CascadeEmulator, figures: Counter[str]
) -> None:
    gw = cascade_gateway
    # The clients never resend a send that may have arrived; the ledger resends it after the
    # repeat window under the same client ids, at most 4 requests per batch over all tries.
    gw.faults.randomly(drop_rate=0.6, state_fail_rate=0.3, seed=7)
    run = run_dag("cascade_test_dags.py", "cascade_test_faulty_campaign")
    assert str(run.state) == "success", task_states(run)
    sends = [r for r in gw.requests if r.kind == "send"]
    accepted = gw.accepted_per_phone()
    assert len(accepted) == 5000 and set(accepted.values()) == {1}  # exactly once each
    results = xcom(run, "send", "send_results")
    assert len(results) == 5000 and all(r["id_message"] for r in results)
    ids = xcom(run, "send")
    assert len(ids) == 5000
    states = xcom(run, "wait")
    assert set(states) == set(ids)
    prices = xcom(run, "wait", "prices")
    assert prices == {i: {c: str(p) for c, p in gw.final_prices(i).items()} for i in ids}
    dropped = sum(1 for r in sends) - 5  # every send beyond the five needed was a retry
    figures["recipients in fault runs"] += 5000
    figures["send answers dropped"] += dropped
    figures["status queries failed"] += sum(r.kind == "fault" for r in gw.requests)
    figures["task retries"] += tries(run, "send") - 1
    figures["duplicates delivered"] += sum(v - 1 for v in accepted.values())
    figures["recipients lost"] += 5000 - len({r["phone"] for r in results if r["id_message"]})
    assert dropped > 0  # the faults really happened


def tries(run: object, task_id: str) -> int:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return int(session.execute(select(TaskInstance.try_number).where(
            TaskInstance.run_id == run.run_id, TaskInstance.task_id == task_id)).scalar_one())  # type: ignore[attr-defined]  # fmt: skip
