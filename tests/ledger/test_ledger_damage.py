"""A ledger as deployments leave it: another worker's clock, damaged or foreign records, a
folder shared by mistake. Each is a typed error naming the ledger and the file, or handled
without a guess; never a raw exception, never a second copy to anyone."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_cascade.gateway import CascadeError
from airflow_provider_cascade.ledger import Ledger, LedgerSender, Plan, task_folder
from airflow_provider_cascade.ledger._send import progress_line
from airflow_provider_cascade.testing.emulator import CascadeEmulator

from .conftest import WINDOW, make_hook
from .test_ledger_send import RUN_KEY, Crash, CrashAfterRequest, feed, log, phones, send


def records(folder: Path, kind: str) -> list[Path]:
    return sorted((folder / "send").glob(f"*.{kind}.jsonl"))


def rewrite_head(path: Path, **changes: Any) -> None:
    lines = path.read_text().splitlines()
    head = json.loads(lines[0])
    head.update(changes)
    path.write_text("\n".join([json.dumps(head), *lines[1:]]) + "\n")


def crashed_after_first_request(hook: Any, folder: Path, numbers: list[str]) -> None:
    ledger = Ledger(str(folder))
    ledger.start()
    with pytest.raises(Crash):
        LedgerSender(ledger, CrashAfterRequest(hook.client, crash_on=1), repeat_window=WINDOW,
                     log=log, run_key=RUN_KEY).run(feed(Plan(RUN_KEY, 10), numbers))  # fmt: skip


@pytest.mark.parametrize("at", [3600.0, 30 * 86400.0, 1e12, math.inf, math.nan])
def test_a_resume_waits_by_its_own_clock_whatever_time_a_record_holds(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, at: float
) -> None:
    """The crashed worker's clock was ahead (or the record holds no finite time): the resume
    waits at most the repeat window and its margin, then resends under the same client ids."""
    hook = make_hook(monkeypatch, gw, "json")
    numbers = phones(10)
    crashed_after_first_request(hook, tmp_path, numbers)
    (intent,) = records(tmp_path, "intent")
    ahead = at if not math.isfinite(at) or at > 1e11 else json.loads(
        intent.read_text().splitlines()[0])["at"] + at  # fmt: skip
    text = intent.read_text().splitlines()
    head = json.loads(text[0])
    head["at"] = ahead
    intent.write_text(
        "\n".join([json.dumps(head), *text[1:]]) + "\n"
    )  # NaN/Infinity as JSON has them
    waits: list[float] = []
    second = LedgerSender(Ledger(str(tmp_path)), hook.client, repeat_window=WINDOW, log=log, run_key=RUN_KEY,
                          sleep=lambda s: (waits.append(s), time.sleep(s)))  # fmt: skip
    totals = second.run(feed(Plan(RUN_KEY, 10), numbers))
    assert waits and all(0 < w <= WINDOW + 0.1 for w in waits), waits
    assert gw.counters["repeat_refused"] == 0  # and it did wait the window out
    assert totals.accepted == 10 and set(gw.accepted_per_phone().values()) == {1}


def test_an_answered_batch_whose_intent_is_damaged_is_not_sent_again(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """GET, no client ids: the outcome proves the request left; a resend would message ten
    people twice."""
    hook = make_hook(monkeypatch, gw, "get")
    numbers = phones(10)
    send(hook, Ledger(str(tmp_path)), numbers)
    (intent,) = records(tmp_path, "intent")
    intent.write_text(intent.read_text()[:40])  # cut by a disk fault
    before = len(gw.requests)
    totals = send(hook, Ledger(str(tmp_path)), numbers)
    assert len(gw.requests) == before
    assert totals.accepted == 10 and set(gw.accepted_per_phone().values()) == {1}


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        ({"fate": "delivered_maybe"}, "unknown fate"),
        ({"fate": "accepted", "id": None}, "accepted without an id"),
        ({"id": "12; DROP"}, "not digits"),
    ],
)
def test_a_record_this_version_never_writes_is_a_typed_error_naming_the_file(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    damage: dict[str, Any], why: str,
) -> None:  # fmt: skip
    hook = make_hook(monkeypatch, gw, "json")
    send(hook, Ledger(str(tmp_path)), phones(3))
    (outcome,) = records(tmp_path, "outcome")
    lines = outcome.read_text().splitlines()
    row = {**json.loads(lines[1]), **damage}
    row = {k: v for k, v in row.items() if v is not None}
    outcome.write_text("\n".join([lines[0], json.dumps(row), *lines[2:]]) + "\n")
    with pytest.raises(CascadeError, match=why) as info:
        send(hook, Ledger(str(tmp_path)), phones(3))
    assert outcome.name in str(info.value) and str(tmp_path) in str(info.value)
    assert type(info.value).__name__ == "CascadeLedgerDamaged"


def test_records_of_another_format_version_are_refused_not_read_as_this_one(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hook = make_hook(monkeypatch, gw, "json")
    send(hook, Ledger(str(tmp_path)), phones(3))
    (outcome,) = records(tmp_path, "outcome")
    rewrite_head(outcome, v=7)
    with pytest.raises(CascadeError, match="format 7") as info:
        send(hook, Ledger(str(tmp_path)), phones(3))
    assert outcome.name in str(info.value)


def test_a_ledger_of_another_format_version_is_refused_on_open(tmp_path: Path) -> None:
    (tmp_path / "ledger.json").write_text(json.dumps({"format": "cascade-ledger", "version": 1}))
    with pytest.raises(CascadeError, match="format 1") as info:
        Ledger(str(tmp_path)).start(dag_id="d")
    assert "ledger.json" in str(info.value)


def test_a_ledger_of_another_task_instance_is_refused_on_open(tmp_path: Path) -> None:
    Ledger(str(tmp_path)).start(dag_id="d", run_id="r", task_id="t", map_index=-1)
    Ledger(str(tmp_path)).start(dag_id="d", run_id="r", task_id="t", map_index=-1)  # same: fine
    with pytest.raises(CascadeError, match="belongs to run_id 'r'") as info:
        Ledger(str(tmp_path)).start(dag_id="d", run_id="other", task_id="t", map_index=-1)
    assert type(info.value).__name__ == "CascadeLedgerMismatch"


@pytest.mark.parametrize("run_id", ["..", "."])
def test_a_run_id_of_dots_cannot_share_another_runs_folder(tmp_path: Path, run_id: str) -> None:
    with pytest.raises(CascadeError, match="run_id"):
        task_folder(str(tmp_path), "dag", run_id, "task", -1)


def test_progress_after_a_resume_counts_only_what_this_try_sends() -> None:
    """900 of 1,000 finished by an earlier try, 50 sent by this one in 10 s: 5/s, and the
    50 left take about 10 s more (not '95 %, about 0 s left, 95/s')."""
    from airflow_provider_cascade.ledger import Totals

    line = progress_line(900, 50, 1000, 10.0, Totals())
    assert line.startswith("950/1,000 recipients (95%), about 10 s left, 5/s"), line
