"""Client ids a user gives (from a CRM export, 1..N every run, as the one public client of this
API does): the gateway refuses a repeat without messaging anyone, so such a recipient is
rejected with the reason, never counted accepted under another person's id, never untracked.
Against the strict emulator (the once-a-minute rule on)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_cascade.gateway import SMS, Message
from airflow_provider_cascade.ledger import Fate, Ledger, LedgerSender, Plan, Totals
from airflow_provider_cascade.testing.emulator import CascadeEmulator

from .conftest import WINDOW, make_hook
from .test_ledger_send import log, phones


def send_rows(
    hook: Any, folder: Path, run: str, rows: list[dict[str, str]], per_request: int = 10
) -> Totals:
    run_key = ("dag", run, "task", -1)
    plan = Plan(run_key, per_request)
    message = Message([SMS("Hi", "Shop")], [rows[0]["phone"]])
    ledger = Ledger(str(folder))
    ledger.start()
    sender = LedgerSender(ledger, hook.client, repeat_window=WINDOW, log=log, run_key=run_key)
    return sender.run(plan.chunks([(0, message, plan.recipients(0, rows, "recipients_file"))]))


def numbered(numbers: list[str]) -> list[dict[str, str]]:
    return [{"phone": p, "client_id_message": str(n)} for n, p in enumerate(numbers, start=1)]


@pytest.mark.parametrize("duplicate_answer", ["with_id", "without_id"])
def test_a_second_run_reusing_client_ids_reports_nobody_as_messaged(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, duplicate_answer: str
) -> None:
    gw.behaviour.duplicate_answer = duplicate_answer
    hook = make_hook(monkeypatch, gw, "json")
    first = send_rows(hook, tmp_path / "run1", "run1", numbered(phones(40, "7911")))
    assert first.accepted == 40
    second = send_rows(hook, tmp_path / "run2", "run2", numbered(phones(40, "7912")))
    assert not any(p.startswith("7912") for p in gw.accepted_per_phone())  # nobody new messaged
    assert (second.accepted, second.untracked, second.rejected) == (0, 0, 40)
    assert second.id_reused == 40 and second.ids == []
    assert len(second.id_reused_sample) == 20 and second.id_reused_sample[0].startswith("7912")


def test_a_repeat_answered_with_the_earlier_persons_row_is_not_taken_for_this_one(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A gateway that answers the repeat with the earlier row whole (its phone, its id)."""
    hook = make_hook(monkeypatch, gw, "json")
    first = send_rows(hook, tmp_path / "run1", "run1", numbered(["79110000001"]))
    (earlier,) = first.ids
    row = {"id_message": earlier, "client_id_message": "1", "phone": "79110000001",
           "error": "Данное сообщение уже было отправлено."}  # fmt: skip
    gw.faults.reply_next(json.dumps({"message": [[row]]}).encode(), content_type="application/json")
    second = send_rows(hook, tmp_path / "run2", "run2", numbered(["79120000001"]))
    assert earlier not in second.ids and second.accepted == 0
    for record in Ledger(str(tmp_path / "run2")).records():
        assert all(r.id_message != earlier for r in record.rows.values())


def test_one_client_id_in_two_requests_never_gives_the_second_person_the_first_ones_id(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hook = make_hook(monkeypatch, gw, "json")
    rows = numbered(phones(15))
    rows[12]["client_id_message"] = rows[2]["client_id_message"]  # request 2 repeats request 1's
    totals = send_rows(hook, tmp_path, "run", rows)
    assert "79100000012" not in gw.accepted_per_phone()
    assert (totals.accepted, totals.rejected, totals.id_reused) == (14, 1, 1)
    (second,) = [r for r in Ledger(str(tmp_path)).records() if r.batch == 2]
    row = second.rows[2]
    assert row.fate is Fate.REJECTED and row.id_message is None and "earlier send" in str(row.error)
