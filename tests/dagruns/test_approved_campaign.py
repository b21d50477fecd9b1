"""The approval example: a dry run's estimate in front of a person, then the send."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_cascade.testing.dagruns import (
    answering_approvals,
    approval_bodies,
    run_dag,
    task_states,
    xcom,
)
from airflow_provider_cascade.testing.emulator import CascadeEmulator

pytest.importorskip("airflow.providers.standard.operators.hitl")  # Airflow 3.1+
DAG_ID = "example_cascade_approved_campaign"


def test_the_person_approving_reads_the_estimate_and_the_send_follows(
    airflow_home: Path, cascade_conn: str, cascade_gateway: CascadeEmulator
) -> None:
    with answering_approvals("Approve"):
        dr = run_dag(f"{DAG_ID}.py", DAG_ID)
    assert str(dr.state) == "success", task_states(dr)
    estimate = xcom(dr, "dry_run")
    # 8 customers, one opted out: 7 * (1.10 + 2.50 * 1 part of 24 Cyrillic characters)
    assert (estimate["recipients"], estimate["suppressed"], estimate["worst_case"]) == (
        7, 1, "25.20")  # fmt: skip
    (body,) = approval_bodies(dr)
    assert "'worst_case': '25.20'" in body and "by_window" in body
    sent = {d.phone for d in cascade_gateway.deliveries}
    assert len(sent) == 7 and "79310000007" not in sent


def test_a_rejected_estimate_sends_nothing(
    airflow_home: Path, cascade_conn: str, cascade_gateway: CascadeEmulator
) -> None:
    with answering_approvals("Reject"):
        dr = run_dag(f"{DAG_ID}.py", DAG_ID)
    states = task_states(dr)
    assert states["dry_run"] == "success" and states["send"] != "success", states
    assert cascade_gateway.requests == []
