"""Secrets in real DAG runs: across variants, auth kinds and a failing run, neither the
password nor the token appears in any output (dag.test() prints task logs unmasked), XCom,
rendered template, task-instance resume data or trigger row."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_cascade.testing.dagruns import run_dag
from airflow_provider_cascade.testing.emulator import CascadeEmulator

PASSWORD = "pw-Dag-Secret-4411"
TOKEN = "tok-Dag-Secret-9922"


def stored_text(run: Any) -> str:
    """Everything Airflow keeps about a run that could echo a value back."""
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.trigger import Trigger
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        xcoms = session.execute(select(XComModel.value).where(XComModel.run_id == run.run_id)).all()
        rendered = session.execute(select(RenderedTaskInstanceFields.rendered_fields).where(
            RenderedTaskInstanceFields.run_id == run.run_id)).all()  # fmt: skip
        resume = session.execute(select(TaskInstance.next_kwargs).where(
            TaskInstance.run_id == run.run_id)).all()  # fmt: skip
        triggers = session.execute(select(Trigger.encrypted_kwargs)).all()
    return json.dumps([list(map(str, rows)) for rows in (xcoms, rendered, resume, triggers)])


def use_secret_connection(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, protocol: str, auth: str
) -> dict[str, Any]:
    """The default connection, carrying this module's password or token (both accepted by the
    emulator's account)."""
    gw.gateway.add_account(gw.login, PASSWORD, (TOKEN,))
    conn = gw.conn_dict(protocol, auth=auth)
    if auth == "token":
        conn["extra"]["token"] = TOKEN
    else:
        conn["password"] = PASSWORD
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(conn))
    return conn


@pytest.mark.parametrize("auth", ["password", "token"])
@pytest.mark.parametrize("protocol", ["json", "xml", "get"])
def test_no_secret_anywhere(
    airflow_home: Path, cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str], figures: Counter[str], protocol: str, auth: str,
) -> None:  # fmt: skip
    gw = cascade_gateway
    gw.steer(".", "first")  # final at once: over GET an id may be asked about once a minute
    conn = use_secret_connection(gw, monkeypatch, protocol, auth)
    ok = run_dag("cascade_test_dags.py", "cascade_test_single")
    assert str(ok.state) == "success"
    # and a failing run: the gateway refuses the credentials
    bad = {**conn, "password": PASSWORD + "-wrong"} if auth == "password" else {
        **conn, "extra": {**conn["extra"], "token": TOKEN + "-wrong"}}  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(bad))
    failed = run_dag("cascade_test_dags.py", "cascade_test_single")
    assert str(failed.state) == "failed"
    out, err = capfd.readouterr()
    everything = out + err + stored_text(ok) + stored_text(failed)
    assert "Неправильный логин или пароль" in everything  # the failure was reported
    for secret in (PASSWORD, TOKEN):
        assert secret not in everything
    figures["DAG runs checked for leaks"] += 2
    figures["leaks"] += sum(everything.count(s) for s in (PASSWORD, TOKEN))


@pytest.mark.parametrize("auth", ["password", "token"])
@pytest.mark.parametrize("protocol", ["json", "xml"])
def test_no_secret_in_a_file_campaign_or_its_ledger(
    airflow_home: Path, cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str], figures: Counter[str], tmp_path: Path, protocol: str,
    auth: str,
) -> None:  # fmt: skip
    """The ledger, its wait files, the task state store, XCom and the trigger row hold no
    secret (the codecs scrub echoes before anything is recorded: test_secret_forms.py)."""
    gw = cascade_gateway
    use_secret_connection(gw, monkeypatch, protocol, auth)
    csv = tmp_path / "recipients.csv"
    csv.write_text("phone\n" + "".join(f"7970{i:07d}\n" for i in range(120)))
    run = run_dag("cascade_ledger_dags.py", "cascade_ledger_file", recipients=str(csv))
    assert str(run.state) == "success"
    out, err = capfd.readouterr()
    ledger_root = airflow_home / "cascade_ledger" / "cascade_ledger_file"
    files = [p for p in ledger_root.rglob("*") if p.is_file()]
    assert any(p.name.endswith(".outcome.jsonl") for p in files)
    assert any(p.parent.name == "wait" for p in files)
    everything = out + err + stored_text(run) + state_store_text(run)
    everything += "".join(p.read_text(errors="replace") for p in files)
    for secret in (PASSWORD, TOKEN):
        assert secret not in everything
    figures["DAG runs checked for leaks"] += 1
    figures["leaks"] += sum(everything.count(s) for s in (PASSWORD, TOKEN))


def state_store_text(run: Any) -> str:
    try:
        from airflow.models.task_state_store import TaskStateStoreModel
    except ImportError:  # Airflow < 3.3
        return ""
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(TaskStateStoreModel.value).where(TaskStateStoreModel.run_id == run.run_id)
        ).all()
    return json.dumps([str(r) for r in rows])
