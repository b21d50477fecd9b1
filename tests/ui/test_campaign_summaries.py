"""Per-campaign summaries under the ledger root: what the send and the wait write, and the
list read from them alone (one LIST and a page of reads)."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from airflow_provider_cascade.ledger import Ledger, task_folder
from airflow_provider_cascade.ledger._campaigns import (
    INDEX_DIR,
    CampaignSummaries,
    campaign_sent,
    campaign_started,
    campaign_waited,
    parse_name,
    shown_url,
    summary_name,
)
from airflow_provider_cascade.ui import _render

RUN = "manual__2026-12-04T19:00:00.123456+00:00"


def _send(root: Path, dag: str, run: str, task: str, map_index: int = -1, **sent: object) -> Ledger:
    ledger = Ledger(task_folder(str(root), dag, run, task, map_index))
    ledger.start(dag_id=dag, run_id=run, task_id=task, map_index=map_index, variant="json")
    campaign_started(ledger, dag_id=dag, run_id=run, task_id=task, map_index=map_index,
                     planned=10, variant="json", mask_phones=None)  # fmt: skip
    counts = {"total": 10, "accepted": 8, "already_sent": 0, "rejected": 1, "untracked": 1,
              "requests": 1, "untracked_sample": ["79001234567"],
              "first_errors": ["79007654321: stop-listed"]}  # fmt: skip
    counts.update(sent)
    campaign_sent(ledger, counts)
    return ledger


def test_a_name_carries_what_the_list_filters_on() -> None:
    started = datetime(2026, 12, 4, 19, 0, 1, 5, tzinfo=timezone.utc)
    name = summary_name(started, "dag,with,commas", RUN, "send", 2)
    key = parse_name(name)
    assert key is not None
    assert (key.started, key.dag_id, key.run_id, key.task_id, key.map_index) == (
        started, "dag,with,commas", RUN, "send", 2,
    )  # fmt: skip
    assert parse_name("notes.txt") is None and parse_name("a,b.json") is None


def test_the_send_and_the_wait_keep_one_summary_current(tmp_path: Path) -> None:
    ledger = _send(tmp_path, "d", RUN, "send")
    summaries = CampaignSummaries(str(tmp_path))
    (campaign,) = summaries.of_run("d", RUN)
    assert campaign.status() == "waiting" and campaign.recipients == 10
    progress = {"total": 8, "final": 3, "by_state": {"deliver": 3},
                "price_totals": {"by_channel": {"sms": "3.00"}, "total": "3.00"}}  # fmt: skip
    campaign_waited(ledger, progress)
    campaign_waited(ledger, progress)  # the same counts: no second snapshot
    done = {
        **progress,
        "final": 8,
        "by_state": {"deliver": 7, "expired": 1},
        "price_totals": {"by_channel": {"sms": "6.00", "viber": "1.50"}, "total": "7.50"},
    }
    campaign_waited(ledger, done)
    (campaign,) = summaries.of_run("d", RUN)
    assert campaign.status() == "done"
    assert campaign.by_state() == {"deliver": 7, "expired": 1}
    assert campaign.cost_total() == "7.50"
    assert [s[1] for s in campaign.first["wait"]["snapshots"]] == [3, 8]
    # a retry of the send keeps the same summary (its name and start time)
    _send(tmp_path, "d", RUN, "send", accepted=9, rejected=0)
    assert len(list((tmp_path / INDEX_DIR).iterdir())) == 1
    (campaign,) = summaries.of_run("d", RUN)
    assert campaign.total("send", "accepted") == 9


def test_the_list_reads_only_summaries_newest_first_of_readable_dags(tmp_path: Path) -> None:
    for i in range(7):
        _send(tmp_path, f"dag_{i % 3}", f"run_{i}", "send")
    _send(tmp_path, "dag_0", "run_0", "send", 1)  # a second shard of one campaign
    for folder in tmp_path.iterdir():  # no ledger record left: the list needs none
        if folder.name != INDEX_DIR:
            shutil.rmtree(folder)
    summaries = CampaignSummaries(str(tmp_path))
    page = summaries.page(lambda d: d != "dag_2", limit=3)
    assert page.matching == 5 and page.dags == ["dag_0", "dag_1"]
    # run_0's second shard started last: the campaign counts as started then
    assert [c.first["run_id"] for c in page.rows] == ["run_0", "run_6", "run_4"]
    assert len(page.rows[0].shards) == 2 and page.rows[0].recipients == 20
    rest = summaries.page(lambda d: d != "dag_2", offset=3, limit=3)
    assert [c.first["run_id"] for c in rest.rows] == ["run_3", "run_1"]
    only = summaries.page(lambda d: True, dag_id="dag_2")
    assert {c.first["dag_id"] for c in only.rows} == {"dag_2"} and only.matching == 2
    later = datetime.now(timezone.utc) + timedelta(days=1)
    assert summaries.page(lambda d: True, since=later).matching == 0


def test_pages_mask_phones_and_show_no_credentials(tmp_path: Path) -> None:
    _send(tmp_path, "d", RUN, "send")
    (campaign,) = CampaignSummaries(str(tmp_path)).of_run("d", RUN)
    html = _render.campaign_html(campaign, "waiting", "")
    assert "79001234567" not in html and "79007654321" not in html
    assert "79*****4567" in html and "79*****4321: stop-listed" in html
    unmasked = CampaignSummaries(str(tmp_path))
    name = next((tmp_path / INDEX_DIR).iterdir())
    data = json.loads(name.read_text())
    data["mask_phones"] = False
    name.write_text(json.dumps(data))
    (campaign,) = unmasked.of_run("d", RUN)
    assert "79001234567" in _render.campaign_html(campaign, "waiting", "")
    assert shown_url("s3://key:secret@bucket/ledgers") == "s3://key:***@bucket/ledgers"
    assert shown_url("s3://aws_default@bucket/x") == "s3://aws_default@bucket/x"


def test_a_summary_that_cannot_be_written_fails_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / INDEX_DIR).write_text("a file where the folder should be")
    _send(tmp_path, "d", RUN, "send")  # neither the start nor the end raises
    assert "campaign summary not updated" in caplog.text
    assert CampaignSummaries(str(tmp_path)).keys() == []


def test_pages_show_gateway_texts_as_text_not_markup(tmp_path: Path) -> None:
    _send(tmp_path, "d", RUN, "send", first_errors=['79007654321: <img src=x onerror="alert(1)">'])
    (campaign,) = CampaignSummaries(str(tmp_path)).of_run("d", RUN)
    html = _render.campaign_html(campaign, "waiting", "")
    assert "<img" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
