"""The budget cap in real DAG runs: over max_cost, nothing reaches the gateway, no shard is
written, and the task fails once although it has retries."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_cascade.testing.dagruns import run_dag, task_states
from airflow_provider_cascade.testing.emulator import CascadeEmulator

from .test_ledger_dagruns import try_number

FILE = "cascade_cost_dags.py"


@pytest.fixture
def env(airflow_home: Path, cascade_conn: str, cascade_gateway: CascadeEmulator) -> CascadeEmulator:
    return cascade_gateway


def test_a_send_over_its_cap_fails_without_retries_and_sends_nothing(
    env: CascadeEmulator, capfd: pytest.CaptureFixture[str]
) -> None:
    # 40 recipients * (1.20 + 2.80 * 1 part) = 160.00 > 100
    dr = run_dag(FILE, "cascade_cost_over_budget")
    assert task_states(dr) == {"send": "failed"}
    assert try_number(dr, "send") == 1  # retries=2, but no retry changes the cost
    assert env.requests == []
    out = "".join(capfd.readouterr())  # the task's log: the typed error and the policy's word
    assert "CascadeBudgetExceeded: estimated cost 160.00 (worst case) exceeds max_cost 100" in out
    assert "over max_cost: a retry would cost the same" in out


def test_a_split_over_its_cap_writes_no_shard(
    env: CascadeEmulator, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    recipients = tmp_path / "all.csv"
    recipients.write_text("phone\n" + "".join(f"7953100{i:04d}\n" for i in range(30)))
    shards = tmp_path / "shards"
    dr = run_dag(FILE, "cascade_cost_split_over_budget", recipients=str(recipients),
                 destination=str(shards))  # fmt: skip
    assert task_states(dr) == {"split": "failed"}
    assert try_number(dr, "split") == 1
    assert not shards.exists()
    assert env.requests == []
    out = "".join(capfd.readouterr())
    assert "CascadeBudgetExceeded: estimated cost 120.00 (worst case) exceeds max_cost 100" in out
