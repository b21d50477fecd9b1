"""Deferred waits in real DAG runs against the emulator with its once-a-minute rule ON (window
scaled down to 0.5 s, the gateway clock sped up): no status query is refused as a repeat, and
the task log says what changed, once."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from airflow_provider_cascade.testing.dagruns import run_dag, task_states, xcom
from airflow_provider_cascade.testing.emulator import CascadeEmulator

FILE = "cascade_test_dags.py"
WINDOW = 0.5  # real seconds; the DAGs ask every 0.2 s, which must be raised to this
PROGRESS = re.compile(r"Cascade: (\d+/\d+ final[^\[\n]*?)\s*\[")


@pytest.fixture
def windowed(
    airflow_home: Path, cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch
) -> CascadeEmulator:
    gw = cascade_gateway
    gw.behaviour.repeat_window = WINDOW
    gw.set_time_scale(1200)  # the Viber -> SMS fallthrough takes a few real seconds
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", gw.conn_uri("json"))
    return gw


@pytest.mark.parametrize(
    ("dag_id", "task_id"),
    [("cascade_test_single", "wait"), ("cascade_test_wait_in_operator", "send")],
)
def test_deferred_wait_makes_no_refused_request_and_logs_changes_once(
    windowed: CascadeEmulator, capfd: pytest.CaptureFixture[str], dag_id: str, task_id: str
) -> None:
    dr = run_dag(FILE, dag_id)
    assert str(dr.state) == "success", task_states(dr)
    gw = windowed
    polls = [r for r in gw.requests if r.kind == "state"]
    assert len(polls) >= 3  # the task's own query, then the trigger's, several windows apart
    assert gw.counters["repeat_refused"] == 0
    out = capfd.readouterr().out
    lines = PROGRESS.findall(out)
    assert lines, out[-3000:]
    # one line per change: the run lasts seconds, so no "nothing changed for a minute" lines
    assert all(a != b for a, b in itertools.pairwise(lines)), lines
    assert len(lines) < len(polls)
    assert "none yet" not in out
    assert out.count("shorter than the gateway's repeat window") == 1  # said once, by the task
    ids = xcom(dr, "send")
    prices = xcom(dr, task_id, "prices")
    assert prices == {i: {c: str(p) for c, p in gw.final_prices(i).items()} for i in ids}
    (final,) = re.findall(r"Cascade: (\d+ final: [^\[\n]*?)\s*\[", out)
    assert re.fullmatch(
        r"\d+ final: [a-z_ ,0-9]+; cost sms [0-9.]+ \+ viber [0-9.]+ = [0-9.]+", final
    )
