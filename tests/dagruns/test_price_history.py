"""The sensor keeps what a campaign cost beside the ledger root; the next estimate learns
unit prices and fall-through shares from it."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from airflow_provider_cascade.gateway._channels import Channel
from airflow_provider_cascade.ledger._prices import PriceHistory
from airflow_provider_cascade.testing.dagruns import run_dag, task_states
from airflow_provider_cascade.testing.emulator import CascadeEmulator


@pytest.fixture
def env(
    airflow_home: Path,
    cascade_conn: str,
    cascade_gateway: CascadeEmulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> CascadeEmulator:
    monkeypatch.setenv("AIRFLOW__CASCADE__LEDGER_PATH", str(tmp_path / "ledgers"))
    return cascade_gateway


def learned_from(env: CascadeEmulator) -> tuple[dict[Channel, Decimal], Counter[int]]:
    units: Counter[str] = Counter()
    cost: dict[str, Decimal] = {}
    reached: Counter[int] = Counter()
    for d in env.deliveries:
        charged = {c: p for c, p in env.final_prices(d.id_message).items() if p}
        for c, p in charged.items():
            units[c] += d.parts if c == "sms" else 1
            cost[c] = cost.get(c, Decimal(0)) + p
        reached[len(charged)] += 1
    return {Channel(c): (cost[c] / units[c]).quantize(Decimal("0.0001")) for c in units}, reached


@pytest.mark.parametrize("dag_id", ["cascade_ledger_file", "cascade_ledger_inline"])
def test_the_sensor_keeps_the_campaigns_prices(
    env: CascadeEmulator, tmp_path: Path, dag_id: str
) -> None:
    csv = tmp_path / "recipients.csv"
    csv.write_text("phone\n" + "".join(f"7956{i:07d}\n" for i in range(40)))
    dr = run_dag("cascade_ledger_dags.py", dag_id, recipients=str(csv))
    assert str(dr.state) == "success", task_states(dr)
    history = PriceHistory(str(tmp_path / "ledgers"), "cascade_default")
    assert len(history.campaigns) == 1
    prices, reached = learned_from(env)
    assert history.unit_prices() == prices
    total = len(env.deliveries)
    assert history.campaigns[0]["messages"] == total
    reach = history.reach()
    assert reach is not None
    assert reach[1] == Decimal(sum(n for k, n in reached.items() if k >= 2)) / total
