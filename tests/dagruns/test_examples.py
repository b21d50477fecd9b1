"""The example DAGs import cleanly and run to success against the emulator."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_cascade.testing.dagruns import answering_approvals, run_dag, xcom
from airflow_provider_cascade.testing.emulator import CascadeEmulator

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p.stem for p in (ROOT / "example_dags").glob("example_cascade_*.py"))


def test_the_demo_runs_every_example() -> None:
    """A new example DAG is shown by the README's demo, or this fails."""
    source = (ROOT / "scripts" / "demo.py").read_text()
    assert EXAMPLES and all(f'"{name}.py", "{name}"' in source for name in EXAMPLES)


def test_no_import_errors(airflow_home: Path) -> None:
    airflow = Path(sys.executable).parent / "airflow"
    subprocess.run(
        [str(airflow), "dags", "reserialize"], check=True, capture_output=True, timeout=300
    )
    out = subprocess.run([str(airflow), "dags", "list-import-errors", "-o", "json"],
                         check=True, capture_output=True, text=True, timeout=300)  # fmt: skip
    last = out.stdout.strip().splitlines()[-1]  # Airflow prints warnings before the JSON
    assert json.loads(last) == [], out.stdout


@pytest.mark.parametrize("dag_id", EXAMPLES)
def test_example_runs(
    airflow_home: Path, cascade_conn: str, cascade_gateway: CascadeEmulator, dag_id: str
) -> None:
    cascade_gateway.load_bases(ROOT / "example_dags" / "bases.json")
    with answering_approvals("Approve"):  # an example may ask a person to approve
        run = run_dag(f"{dag_id}.py", dag_id)
    assert str(run.state) == "success"
    assert cascade_gateway.counters["recipients_accepted"] > 0
    if dag_id == "example_cascade_base_campaign":
        report = xcom(run, "report")
        assert report["states"]["deliver"] == 5
        assert report["cost"] == {"by_channel": {"sms": "6.15", "viber": "3.85"}, "total": "10.00"}
        assert cascade_gateway.counters["stop_listed"] == 1
