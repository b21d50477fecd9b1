"""The ledger's promises, against the strict emulator (the once-a-minute rule on), no Airflow
processes."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from airflow_provider_cascade.gateway import SMS, CascadeValidationError, Message
from airflow_provider_cascade.ledger import Fate, Ledger, LedgerSender, Plan, check_not_past
from airflow_provider_cascade.ledger._records import Entry, fold, intent_lines
from airflow_provider_cascade.testing.emulator import CascadeEmulator

from .conftest import WINDOW, make_hook
from .test_ledger_send import RUN_KEY, Crash, CrashAfterRequest, feed, log, phones, send

MSK = ZoneInfo("Europe/Moscow")


def test_time_send_tolerance_is_in_the_past_only() -> None:
    """A campaign a few minutes ahead is fine, a few minutes late is tolerated (clock skew,
    a slow start), well in the past is refused naming the field."""
    now = datetime(2030, 5, 1, 12, 0, tzinfo=timezone.utc)
    for minutes in (2, 60, -3):
        message = Message([SMS("hi", "Shop")], ["79000000001"],
                          time_send=now + timedelta(minutes=minutes))  # fmt: skip
        check_not_past(message, MSK, now, "")
    late = Message([SMS("hi", "Shop")], ["79000000001"], time_send=now - timedelta(minutes=10))
    with pytest.raises(CascadeValidationError, match="in the past") as info:
        check_not_past(late, MSK, now, "message[2].")
    assert info.value.field == "message[2].time_send"


def test_already_sent_without_an_id_is_untracked_not_accepted(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The gateway answers a repeated client id with only an error text: sent, not pollable."""
    gw.behaviour.duplicate_answer = "without_id"
    hook = make_hook(monkeypatch, gw, "json")
    first = send(hook, Ledger(str(tmp_path / "a")), phones(3))
    assert first.accepted == 3
    gw.behaviour.repeat_window = 0  # the same request again: only the client ids refuse it
    again = send(hook, Ledger(str(tmp_path / "b")), phones(3))  # a lost ledger, same task
    assert (again.accepted, again.untracked, again.rejected) == (0, 3, 0)
    assert again.ids == [] and len(gw.deliveries) == 3


def test_a_recipient_missing_from_the_answer_is_resent_not_rejected(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An answer naming only one of two recipients: the other may not have arrived. It is
    resent after the window under its client id, never counted as refused."""
    hook = make_hook(monkeypatch, gw, "json")
    a, b = phones(2)
    plan = Plan(RUN_KEY, 100)
    cid_a = next(iter(plan.recipients(0, [a], "phones"))).client_id_message
    row = {"id_message": "77", "client_id_message": cid_a, "phone": a, "count_message": "1"}
    gw.faults.reply_next(json.dumps({"message": [[row]]}).encode(), content_type="application/json")
    totals = send(hook, Ledger(str(tmp_path)), [a, b])
    assert (totals.accepted, totals.rejected, totals.untracked) == (2, 0, 0)
    assert list(gw.accepted_per_phone()) == [b] and totals.resent == 1


def test_a_5xx_send_without_client_ids_is_untracked_never_resent(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A 5xx answer to a send says nothing about whether it was taken: without client ids
    (GET) a resend could message people twice, so they are untracked."""
    hook = make_hook(monkeypatch, gw, "get")
    gw.faults.fail_next(1, 503, on="send")
    totals = send(hook, Ledger(str(tmp_path)), phones(3))
    assert (totals.untracked, totals.accepted, totals.requests) == (3, 0, 1)
    assert gw.deliveries == []


def test_an_intent_without_its_outcome_folds_to_in_flight() -> None:
    """A crash between the request and its outcome record: perhaps at the gateway."""
    entries = [Entry(0, "79000000001", "11"), Entry(0, "79000000002", "12")]
    lines = list(intent_lines(1, 1, 100.0, entries, [0, 1]))
    name = "0000001.001.000001-0123abcd.intent.jsonl"
    record = fold(1, [(name, lines)])
    assert record.indexes(Fate.IN_FLIGHT) == [0, 1] and record.attempts == 1
    cut = fold(1, [(name, lines[:-1])])  # no trailer: never left
    assert cut.indexes(Fate.UNSENT) == [] and cut.entries == [] and cut.attempts == 0


def test_get_crash_after_the_request_resumes_without_a_second_copy(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hook = make_hook(monkeypatch, gw, "get")
    numbers = phones(3)
    ledger = Ledger(str(tmp_path))
    ledger.start()
    crashing = CrashAfterRequest(hook.client, crash_on=1)
    with pytest.raises(Crash):
        LedgerSender(ledger, crashing, repeat_window=WINDOW, log=log, run_key=RUN_KEY).run(
            feed(Plan(RUN_KEY, 100, client_ids=False), numbers)
        )
    totals = LedgerSender(
        Ledger(str(tmp_path)), hook.client, repeat_window=WINDOW, log=log, run_key=RUN_KEY
    ).run(feed(Plan(RUN_KEY, 100, client_ids=False), numbers))
    assert totals.untracked == 3 and set(gw.accepted_per_phone().values()) == {1}


class LedgerWatchingClient:
    """The real client, checking at the moment each request leaves that the ledger already
    announced it (an intent record for this batch and attempt)."""

    def __init__(self, inner: Any, folder: Path) -> None:
        self.inner, self.codec, self.folder, self.seen = inner, inner.codec, folder, 0

    def send_request(self, batch: Any) -> Any:
        self.seen += 1
        intents = sorted(p.name[:11] for p in (self.folder / "send").glob("*.intent.jsonl"))
        assert f"{self.seen:07d}.001" in intents, f"request {self.seen} left before its intent"
        return self.inner.send_request(batch)


def test_the_intent_is_on_disk_before_the_request_leaves(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hook = make_hook(monkeypatch, gw, "json")
    ledger = Ledger(str(tmp_path))
    ledger.start()
    client = LedgerWatchingClient(hook.client, tmp_path)
    totals = LedgerSender(ledger, client, repeat_window=WINDOW, log=log, run_key=RUN_KEY).run(
        feed(Plan(RUN_KEY, 2), phones(5))
    )
    assert totals.accepted == 5 and client.seen == 3


def test_a_row_with_a_channel_id_but_no_id_message_is_untracked_not_rejected(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The gateway may have sent (and billed) it on that channel: it is named untracked, never
    counted as refused, never resent."""
    hook = make_hook(monkeypatch, gw, "json")
    (a,) = phones(1)
    cid = next(iter(Plan(RUN_KEY, 100).recipients(0, [a], "phones"))).client_id_message
    row = {"client_id_message": cid, "phone": a, "id_sms": "5551", "error": "Ошибка маршрута"}
    gw.faults.reply_next(json.dumps({"message": [[row]]}).encode(), content_type="application/json")
    totals = send(hook, Ledger(str(tmp_path)), [a])
    assert (totals.accepted, totals.rejected, totals.untracked) == (0, 0, 1)
    assert totals.requests == 1
