"""Secrets and phones in what a campaign hands on: the delivery report (every format), its
XCom summary, the outlets' asset events and the lineage of the send and the wait hold neither
the password nor the token, and with masking on no full phone (the metrics of a real run:
tests/reporting/test_results_flow_on.py)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from airflow_provider_cascade.reporting import REPORT_KEY
from airflow_provider_cascade.testing.dagruns import load_dag, run_dag, task_states, xcom
from airflow_provider_cascade.testing.emulator import CascadeEmulator

from .test_secrets_in_dag_runs import PASSWORD, TOKEN, use_secret_connection

SMS = {"send_sms": 1, "sender_sms": "Shop", "text_sms": "Sale"}


def asset_events_text(run: Any) -> str:
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(AssetEvent.extra).where(AssetEvent.source_run_id == run.run_id)
        ).all()
    assert rows, "no asset event"
    return json.dumps([r[0] for r in rows], ensure_ascii=False)


def lineage_text(dag_id: str, facts_of: dict[str, Any]) -> str:
    """The lineage the send and the wait give, as the OpenLineage client serializes it."""
    from openlineage.client.serde import Serde

    dag = load_dag("cascade_report_dags.py", dag_id)
    out = []
    for task_id, facts in facts_of.items():
        task = dag.get_task(task_id)
        task._facts = facts
        out.append(Serde.to_json(task.get_openlineage_facets_on_complete(None)))
    return "\n".join(out)


@pytest.mark.parametrize("auth", ["password", "token"])
def test_no_secret_and_no_full_phone_in_reports_events_or_lineage(
    airflow_home: Path, cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch,
    figures: Counter[str], tmp_path: Path, auth: str,
) -> None:  # fmt: skip
    gw = cascade_gateway
    conn = use_secret_connection(gw, monkeypatch, "json", auth)
    conn["extra"]["mask_phones"] = True
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(conn))
    phones = [f"7971{i:07d}" for i in range(60)]
    gw.add_base("9001", [(p, "") for p in phones[:5]])  # some rejected: their rows too
    messages = tmp_path / "m.jsonl"
    messages.write_text(json.dumps({**SMS, "phones": [{"phone": p} for p in phones],
                                    "stop_base": ["9001"]}) + "\n")  # fmt: skip
    report = tmp_path / "out" / "report"
    run = run_dag("cascade_report_dags.py", "cascade_report_file", messages=str(messages),
                  report=str(report))  # fmt: skip
    assert str(run.state) == "success", task_states(run)
    inline = tmp_path / "inline.jsonl"
    run2 = run_dag("cascade_report_dags.py", "cascade_report_inline", report=str(inline))
    assert str(run2.state) == "success", task_states(run2)
    texts = {
        "csv": Path(f"{report}.csv").read_text(),
        "parquet": json.dumps(pq.read_table(f"{report}.parquet").to_pylist(), default=str),
        "jsonl": inline.read_text(),
        "xcom": json.dumps(
            [
                xcom(run, "wait", REPORT_KEY),
                xcom(run, "wait_parquet", REPORT_KEY),
                xcom(run2, "send", REPORT_KEY),
            ]
        ),
        "asset events": asset_events_text(run) + asset_events_text(run2),
    }
    assert "*" in texts["csv"] and "стоп-листе" in texts["csv"] and "null" not in texts["xcom"]
    from airflow_provider_cascade.reporting import CampaignFacts

    facts = CampaignFacts(campaign="c", gateway="127.0.0.1", inputs=[str(messages)])
    texts["lineage"] = lineage_text("cascade_report_file", {"send": facts, "wait": facts})
    everyone = phones + [f"7953{i:07d}" for i in range(20)]
    for name, text in texts.items():
        for secret in (PASSWORD, TOKEN):
            assert secret not in text, name
        assert not [p for p in everyone if p in text], name
    figures["result outputs checked for leaks"] += len(texts)
    figures["leaks"] += sum(t.count(s) for t in texts.values() for s in (PASSWORD, TOKEN))


def test_a_report_url_with_credentials_is_shown_without_them() -> None:
    from airflow_provider_cascade.ledger._report import public_url

    shown = public_url(f"https://user:{PASSWORD}@host/r.csv?token={TOKEN}&x=1")
    assert PASSWORD not in shown and TOKEN not in shown
    assert shown.startswith("https://user@host/r.csv?token=")
    assert public_url("s3://aws_default@bucket/key.csv") == "s3://aws_default@bucket/key.csv"
