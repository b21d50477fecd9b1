"""Recipient files in real DAG runs (dag.test()) against the emulator: a file the gateway
would refuse in a later request fails the task before the first request, and an Excel
export in its own code page is sent when its encoding is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_cascade.testing.dagruns import run_dag, task_states, xcom
from airflow_provider_cascade.testing.emulator import CascadeEmulator

FILE = "cascade_ledger_dags.py"


@pytest.fixture
def env(airflow_home: Path, cascade_conn: str, cascade_gateway: CascadeEmulator) -> CascadeEmulator:
    return cascade_gateway


def test_client_ids_repeated_across_requests_fail_the_run_with_nothing_sent(
    env: CascadeEmulator, tmp_path: Path
) -> None:
    """Was: 1,000 people messaged, then the task failed on request 2, never resumed."""
    csv = tmp_path / "crm.csv"
    rows = [f"7973{k:07d},{1100 if k == 1401 else k}" for k in range(1, 1501)]
    csv.write_text("phone,client_id_message\n" + "\n".join(rows) + "\n")
    dr = run_dag(FILE, "cascade_ledger_file", recipients=str(csv))
    assert str(dr.state) == "failed", task_states(dr)
    assert task_states(dr)["send"] == "failed"
    assert env.requests == []


def test_an_excel_export_in_its_code_page_is_sent_when_named(
    env: CascadeEmulator, tmp_path: Path
) -> None:
    csv = tmp_path / "excel.csv"
    lines = ["Имя,phone"] + [f"Анна {k},7974{k:07d}" for k in range(1200)]
    csv.write_bytes("\r\n".join(lines).encode("cp1251"))
    dr = run_dag(FILE, "cascade_ledger_file_cp1251", recipients=str(csv))
    assert str(dr.state) == "success", task_states(dr)
    assert xcom(dr, "send")["accepted"] == 1200
    assert len(env.accepted_per_phone()) == 1200
