"""The provider inside a real Airflow: the UI's connection metadata and a real triggerer."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pytest

from airflow_provider_cascade.provider_info import CONN_FIELDS
from tests.stack.conftest import Stack

pytestmark = pytest.mark.slow


def test_hook_meta_describes_the_form(airflow_stack: Stack) -> None:
    meta = airflow_stack.api("GET", "/ui/connections/hook_meta")
    (cascade,) = [m for m in meta if m["connection_type"] == "cascade"]
    assert cascade["hook_name"] == "Cascade"
    assert cascade["standard_fields"]["host"]["title"] == "Gateway URL"
    assert cascade["standard_fields"]["port"]["hidden"] is False  # the Test button needs it
    extra = cascade["extra_fields"]
    assert extra["token"]["schema"]["format"] == "password"
    assert extra["protocol"]["schema"]["enum"] == ["json", "xml", "get"]
    assert extra["protocol"]["value"] == "json"
    assert list(extra) == list(CONN_FIELDS)
    for name, declared in CONN_FIELDS.items():  # what the UI renders, field by field
        assert extra[name]["schema"]["title"] == declared["label"], name
        assert extra[name]["schema"]["type"] == declared["schema"]["type"], name
        assert extra[name]["value"] == declared["schema"].get("default"), name


def test_real_triggerer_runs_the_deferred_sensor(airflow_stack: Stack) -> None:
    gw = airflow_stack.emulator
    run = airflow_stack.run_dag("cascade_test_single")
    assert run["state"] == "success"
    run_id = urllib.parse.quote(run["dag_run_id"], safe="")
    base = f"/api/v2/dags/cascade_test_single/dagRuns/{run_id}/taskInstances"
    ids = airflow_stack.api("GET", f"{base}/send/xcomEntries/return_value")["value"]
    prices = airflow_stack.api("GET", f"{base}/wait/xcomEntries/prices")["value"]
    assert prices == {i: {c: str(p) for c, p in gw.final_prices(i).items()} for i in ids}
    logs = Path(airflow_stack.home, "logs", "dag_id=cascade_test_single")
    trigger_logs = list(logs.glob("run_id=*/task_id=wait/attempt=1.log.trigger.*.log"))
    assert trigger_logs, "the sensor did not defer to the triggerer"
    assert "final:" in trigger_logs[0].read_text()  # progress lines from the trigger
    for file in logs.rglob("*.log*"):
        assert gw.password not in file.read_text(errors="replace"), file
