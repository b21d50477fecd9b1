"""Manual runs without a logical date (Airflow 3's default for a run triggered from the UI or
the REST API with ``logical_date: null``): templates must not need ``ds``."""

from __future__ import annotations

from pathlib import Path

from airflow_provider_cascade.testing.dagruns import load_dag, task_states
from airflow_provider_cascade.testing.emulator import CascadeEmulator


def test_notification_example_runs_without_a_logical_date(
    airflow_home: Path, cascade_conn: str, cascade_gateway: CascadeEmulator
) -> None:
    dag = load_dag("example_cascade_notification.py", "example_cascade_notification")
    run = dag.test(logical_date=None)
    assert run.logical_date is None
    assert task_states(run) == {"notify": "success", "wait_for_delivery": "success"}
    (send,) = [r for r in cascade_gateway.requests if r.kind == "send"]
    day = run.run_after.strftime("%Y-%m-%d")
    assert f"Nightly load {day} finished".encode() in send.body, send.body[:400]
