"""The delivery report in real DAG runs (dag.test()) against the emulator with its rules on:
every recipient of a campaign (accepted, rejected, untracked) one row, prices exact, loaded
as is by DuckDB; written too when the wait times out; phones masked when the connection asks."""

from __future__ import annotations

import csv
import gzip
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from airflow_provider_cascade.gateway import CascadeValidationError
from airflow_provider_cascade.ledger._report import (
    CascadeReportError,
    check_report_path,
    report_format,
)
from airflow_provider_cascade.testing.dagruns import run_dag, task_states, xcom
from airflow_provider_cascade.testing.emulator import CascadeEmulator

FILE = "cascade_report_dags.py"
#: The documented schema, spelled out: a renamed or reordered column breaks warehouse loads
SCHEMA = [
    "dag_id",
    "run_id",
    "task_id",
    "map_index",
    "campaign",
    "phone",
    "client_id_message",
    "id_message",
    "fate",
    "error",
    "state",
    "final",
    "delivered_channel",
    "state_sms",
    "state_viber",
    "state_whatsapp",
    "state_vk",
    "num_parts_sms",
    "price_sms",
    "price_viber",
    "price_whatsapp",
    "price_vk",
    "price_total",
    "time_change_state",
]
#: CSV holds prices as exact decimal strings: declared DECIMAL they load exactly
PRICES = {f"price_{c}": "DECIMAL(20,6)" for c in ("sms", "viber", "whatsapp", "vk", "total")}
SMS = {"send_sms": 1, "sender_sms": "Shop", "text_sms": "Sale"}


@pytest.fixture
def env(airflow_home: Path, cascade_conn: str, cascade_gateway: CascadeEmulator) -> CascadeEmulator:
    return cascade_gateway


def asset_extras(dag_run: Any, task_id: str) -> list[dict[str, Any]]:
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(AssetEvent.extra).where(
                AssetEvent.source_dag_id == dag_run.dag_id,
                AssetEvent.source_run_id == dag_run.run_id,
                AssetEvent.source_task_id == task_id,
            )
        ).all()
    return [dict(r[0]) for r in rows]


def campaign_file(tmp_path: Path, gw: CascadeEmulator, n: int) -> tuple[Path, list[str], list[str]]:
    """``n`` recipients in messages of 1,000: every 200th on the stop list (rejected); the
    answer to the first request is lost after the gateway took it, and the resend under the
    same client ids is answered "already sent" without an id: its recipients are untracked."""
    phones = [f"7955{i:07d}" for i in range(n)]
    stopped = phones[::200]
    gw.add_base("9001", [(p, "") for p in stopped])
    gw.behaviour.duplicate_answer = "without_id"
    gw.faults.drop_after_accept_next(1)
    untracked = [p for p in phones[:1000] if p not in set(stopped)]
    path = tmp_path / "campaign.jsonl"
    with path.open("w") as f:
        for start in range(0, n, 1000):
            items = [{"phone": p} for p in phones[start : start + 1000]]
            f.write(json.dumps({**SMS, "phones": items, "stop_base": ["9001"]}) + "\n")
    return path, stopped, untracked


def test_a_campaign_of_100000_reports_every_recipient_with_the_sensors_price_total(
    env: CascadeEmulator, tmp_path: Path
) -> None:
    n = 100_000
    messages, stopped, untracked = campaign_file(tmp_path, env, n)
    report = tmp_path / "out" / "report"
    dr = run_dag(FILE, "cascade_report_file", messages=str(messages), report=str(report))
    assert str(dr.state) == "success", task_states(dr)
    totals = xcom(dr, "wait", "price_totals")
    db = duckdb.connect()
    for form in ("csv", "parquet"):
        source = (f"read_csv_auto('{report}.csv', types={PRICES})" if form == "csv"
                  else f"read_parquet('{report}.parquet')")  # fmt: skip
        cols = [d[0] for d in db.execute(f"select * from {source} limit 0").description]
        assert cols == SCHEMA
        rows, cost = db.execute(f"select count(*), sum(price_total) from {source}").fetchone()
        assert rows == n
        assert Decimal(str(cost)) == Decimal(totals["total"]), form
        fates = dict(db.execute(f"select fate, count(*) from {source} group by fate").fetchall())
        assert fates == {"accepted": n - len(stopped) - len(untracked),
                         "rejected": len(stopped), "untracked": len(untracked)}  # fmt: skip
        by_channel = dict(db.execute(
            f"select 'sms', sum(price_sms) from {source} union all "
            f"select 'viber', sum(price_viber) from {source}").fetchall())  # fmt: skip
        for channel, value in totals["by_channel"].items():
            assert Decimal(str(by_channel[channel])) == Decimal(value)
        errors = db.execute(
            f"select distinct error from {source} where fate = 'rejected'").fetchall()  # fmt: skip
        assert errors == [("Номер телефона присутствует в стоп-листе.",)]
        unfinal = db.execute(
            f"select count(*) from {source} where fate = 'accepted' and not final"
        ).fetchone()
        assert unfinal == (0,)
    summary = xcom(dr, "wait", "delivery_report")
    assert summary["rows"] == n and summary["complete"] is True
    assert summary["cost_total"] == totals["total"]
    (extra,) = asset_extras(dr, "wait")
    assert extra["fates"] == {"accepted": n - len(stopped) - len(untracked),
                              "rejected": len(stopped), "untracked": len(untracked)}  # fmt: skip
    assert extra["cost_total"] == totals["total"] and extra["recipients"] == n
    assert extra["cost_by_channel"] == totals["by_channel"]
    assert extra["report"].endswith("report.csv") and extra["report_complete"] is True
    assert extra["gateway_host"] == f"127.0.0.1:{env.url.rsplit(':', 1)[-1].strip('/')}"
    assert sum(extra["final_states"].values()) == n - len(stopped) - len(untracked)
    (send_extra,) = asset_extras(dr, "send")
    assert send_extra["fates"] == extra["fates"] and send_extra["report"] is None


def test_an_inline_send_that_waits_reports_its_recipients(
    env: CascadeEmulator, tmp_path: Path
) -> None:
    report = tmp_path / "inline.jsonl"
    dr = run_dag(FILE, "cascade_report_inline", report=str(report))
    assert str(dr.state) == "success", task_states(dr)
    rows = [json.loads(x) for x in report.read_text().splitlines()]
    assert [list(r) for r in rows] == [SCHEMA] * 20
    assert {r["phone"] for r in rows} == {f"7953{i:07d}" for i in range(20)}
    assert all(r["final"] is True and r["dag_id"] == "cascade_report_inline" for r in rows)
    assert all(r["task_id"] == "send" and r["map_index"] == -1 for r in rows)
    for r in rows:  # exact prices, as strings, equal to what the gateway charged
        charged = env.final_prices(r["id_message"])
        assert Decimal(r["price_total"]) == sum(charged.values(), Decimal(0))
        assert all(Decimal(r[f"price_{c}"]) == p for c, p in charged.items() if r[f"price_{c}"])
    totals = xcom(dr, "send", "price_totals")
    assert sum(Decimal(r["price_total"]) for r in rows) == Decimal(totals["total"])
    (extra,) = asset_extras(dr, "send")
    assert extra["report"] == f"file://{report}" or extra["report"].endswith("inline.jsonl")
    assert extra["cost_total"] == totals["total"] and extra["fates"] == {"accepted": 20}


@pytest.mark.parametrize("dag_id", ["cascade_report_timeout", "cascade_report_timeout_deferred"])
def test_a_wait_that_times_out_writes_the_states_known_so_far_and_says_so(
    env: CascadeEmulator, tmp_path: Path, dag_id: str
) -> None:
    env.set_time_scale(1)  # a cascade of real minutes: nothing final before the timeout
    recipients = tmp_path / "r.csv"
    recipients.write_text("phone\n" + "\n".join(f"7956{i:07d}" for i in range(30)) + "\n")
    report = tmp_path / "late.csv.gz"
    dr = run_dag(FILE, dag_id, recipients=str(recipients), report=str(report))
    assert task_states(dr)["wait"] == "failed"
    with gzip.open(report, "rt", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 30 and {r["fate"] for r in rows} == {"accepted"}
    assert {r["final"] for r in rows} == {"false"} and {r["state"] for r in rows} <= {"send", ""}
    summary = xcom(dr, "wait", "delivery_report")
    assert summary["complete"] is False and summary["rows"] == 30


def test_masking_on_in_the_connection_masks_every_phone_of_the_report(
    env: CascadeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", env.conn_uri("json", mask_phones=True))
    report = tmp_path / "masked.csv"
    dr = run_dag(FILE, "cascade_report_inline", report=str(report))
    assert str(dr.state) == "success", task_states(dr)
    text = report.read_text()
    assert not any(f"7953{i:07d}" in text for i in range(20))
    phones = [r["phone"] for r in csv.DictReader(text.splitlines())]
    assert len(phones) == 20 and all(p.startswith("79") and "*" in p for p in phones)


def test_a_report_path_with_another_extension_is_refused_naming_the_field() -> None:
    with pytest.raises(CascadeValidationError, match=r"report_path.*\.csv, \.jsonl"):
        report_format("s3://bucket/report.xlsx")
    assert report_format("s3://aws@bucket/r.CSV.GZ") == ".csv.gz"


def test_parquet_without_pyarrow_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real = builtins.__import__

    def no_pyarrow(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("pyarrow"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(CascadeReportError, match=r"airflow-provider-cascade\[parquet\]"):
        check_report_path("/tmp/r.parquet")
    check_report_path("/tmp/r.csv")  # the other formats need nothing


def test_a_send_that_waits_but_had_nothing_accepted_still_reports_everyone(
    env: CascadeEmulator, tmp_path: Path
) -> None:
    env.add_base("9002", [(f"7957{i:07d}", "") for i in range(4)])
    report = tmp_path / "none.csv"
    dr = run_dag(FILE, "cascade_report_none_accepted", report=str(report))
    assert str(dr.state) == "success", task_states(dr)
    rows = list(csv.DictReader(report.read_text().splitlines()))
    assert [(r["phone"], r["fate"], r["final"]) for r in rows] == [
        (f"7957{i:07d}", "rejected", "") for i in range(4)
    ]


def test_a_wait_on_mapped_shards_reports_every_shards_recipients_once(
    env: CascadeEmulator, tmp_path: Path
) -> None:
    phones = [f"7958{i:07d}" for i in range(90)]
    recipients = tmp_path / "r.csv"
    recipients.write_text("phone\n" + "\n".join(phones) + "\n")
    report = tmp_path / "shards.jsonl"
    dr = run_dag(FILE, "cascade_report_shards", recipients=str(recipients), report=str(report))
    assert str(dr.state) == "success", task_states(dr)
    rows = [json.loads(x) for x in report.read_text().splitlines()]
    assert sorted(r["phone"] for r in rows) == phones
    assert {r["map_index"] for r in rows} == {0, 1, 2} and {r["task_id"] for r in rows} == {"send"}
    assert all(r["final"] for r in rows)
    totals = xcom(dr, "wait", "price_totals")
    assert sum(Decimal(r["price_total"]) for r in rows) == Decimal(totals["total"])
