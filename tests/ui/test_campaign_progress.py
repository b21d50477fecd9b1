"""A campaign's summary follows a real send and wait against the emulator: a page refreshed
during the wait shows the messages final so far, then the end."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from airflow_provider_cascade.gateway import SMS, Message, MessageState
from airflow_provider_cascade.hooks.cascade import CascadeHook
from airflow_provider_cascade.ledger import Ledger, LedgerSender, LedgerWatch, Plan, task_folder
from airflow_provider_cascade.ledger._campaigns import (
    CampaignSummaries,
    campaign_sent,
    campaign_started,
)
from airflow_provider_cascade.testing.emulator import CascadeEmulator

log = logging.getLogger("test.ui.progress")


def test_the_summary_shows_the_wait_as_it_goes(
    cascade_conn: str, cascade_gateway: CascadeEmulator, tmp_path: Path
) -> None:
    hook = CascadeHook(cascade_conn)
    ledger = Ledger(task_folder(str(tmp_path), "dag", "run_1", "send", -1))
    ledger.start(variant="json")
    campaign_started(ledger, dag_id="dag", run_id="run_1", task_id="send", map_index=-1,
                     planned=40, variant="json")  # fmt: skip
    summaries = CampaignSummaries(str(tmp_path))
    (sending,) = summaries.of_run("dag", "run_1")
    assert sending.status() == "sending" and sending.recipients == 40

    numbers = [f"7912{i:07d}" for i in range(40)]
    plan = Plan(("dag", "run_1", "send", -1), 100)
    message = Message([SMS("Hi", "Shop")], numbers[:1])
    totals = LedgerSender(ledger, hook.client, repeat_window=1.0, log=log).run(
        plan.chunks([(0, message, plan.recipients(0, numbers, "phones"))])
    )
    campaign_sent(ledger, {**totals.counts(), "untracked_sample": [], "first_errors": []})
    (sent,) = summaries.of_run("dag", "run_1")
    assert sent.status() == "waiting" and sent.total("send", "accepted") == 40

    answered: dict[str, MessageState] = {}

    def some(ids: list[str]) -> dict[str, MessageState]:  # the gateway answers for 10 ids
        answered.update(hook.client.get_states(ids[:10]))
        return answered

    watch = LedgerWatch(ledger.url)
    watch.poll(some)
    final = sum(1 for s in answered.values() if s.is_final)
    (waiting,) = summaries.of_run("dag", "run_1")
    assert waiting.status() == "waiting" and sum(waiting.by_state().values()) == final < 40
    for _ in range(20):  # the emulator's clock runs fast; its repeat window is a second
        time.sleep(1.1)
        if watch.poll(hook.client.get_states).done:
            break
    (done,) = summaries.of_run("dag", "run_1")
    assert done.status() == "done" and sum(done.by_state().values()) == 40
    assert [s[1] for s in done.first["wait"]["snapshots"]][:1] == [final]
    assert done.first["wait"]["snapshots"][-1][1] == 40
    assert set(done.by_channel_state()) == {"sms"}  # the one channel this cascade has
    assert sum(done.by_channel_state()["sms"].values()) == 40
    assert pytest.approx(float(done.cost_total())) == float(
        watch.stored_progress().price_totals()["total"]  # type: ignore[union-attr]
    )
