"""The trigger waiting on a ledger, run on a real event loop against the emulator: the
asyncio driver of :class:`LedgerWatch` must end its rounds (no Airflow processes: fast tier)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path

import pytest

from airflow_provider_cascade.gateway import SMS, Message
from airflow_provider_cascade.ledger import Ledger, LedgerSender, LedgerWatch, Plan
from airflow_provider_cascade.testing.emulator import CascadeEmulator
from airflow_provider_cascade.triggers.cascade import CascadeMessageStateTrigger

from .conftest import make_hook

log = logging.getLogger("test.ledger.trigger")


def sent_ledger(gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, root: Path, n: int) -> Ledger:
    hook = make_hook(monkeypatch, gw, "json")
    numbers = [f"7912{i:07d}" for i in range(n)]
    plan = Plan(("dag", "run", "wait", -1), 100)
    ledger = Ledger(str(root))
    ledger.start(variant="json")
    message = Message([SMS("Hi", "Shop")], numbers[:1])
    LedgerSender(ledger, hook.client, repeat_window=hook.settings.repeat_window, log=log).run(
        plan.chunks([(0, message, plan.recipients(0, numbers, "phones"))])
    )
    return ledger


def test_trigger_on_a_ledger_ends_with_counts(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ledger = sent_ledger(gw, monkeypatch, tmp_path, 250)
    trigger = CascadeMessageStateTrigger(
        [], end_time=time.time() + 30, poll_interval=0.3, ledgers=[ledger.url]
    )

    async def first_event() -> dict[str, object]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("no event")

    payload = asyncio.run(asyncio.wait_for(first_event(), timeout=20))
    assert payload["status"] == "success", payload
    assert len(json.dumps(payload)) < 2048  # counts, not states
    progress = LedgerWatch(ledger.url).stored_progress()
    assert progress is not None and progress.total == progress.final == 250
    assert sum(progress.by_state.values()) == 250
