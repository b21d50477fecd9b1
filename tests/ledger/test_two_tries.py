"""Two tries of one task instance at once, as Airflow makes them when a worker stalls and is
declared a zombie: the old try comes back to life while its retry sends. Against the strict
emulator (the once-a-minute rule on), both tries in one process, the old one on a thread."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_cascade.gateway import CascadeError
from airflow_provider_cascade.ledger import Fate, Ledger, LedgerSender, Plan
from airflow_provider_cascade.testing.emulator import CascadeEmulator

from .conftest import WINDOW, make_hook
from .test_ledger_send import RUN_KEY, feed, log, phones


class StallsOnSecondAnswer:
    """The old try: its second request reaches the gateway, and the answer comes back only
    after the new try has finished (a stopped process resumed)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.codec, self.calls = inner, inner.codec, 0
        self.stalled, self.resume = threading.Event(), threading.Event()

    def send_request(self, batch: Any, *rest: Any) -> Any:
        self.calls += 1
        answer = self.inner.send_request(batch, *rest)
        if self.calls == 2:
            self.stalled.set()
            self.resume.wait(60)
        return answer


def ledger_ids(folder: Path) -> set[str]:
    ids = set()
    for record in Ledger(str(folder)).records():
        for row in record.rows.values():
            if row.fate is Fate.ACCEPTED and row.id_message:
                ids.add(row.id_message)
    return ids


@pytest.mark.parametrize(
    ("protocol", "duplicate_answer"),
    [("get", "with_id"), ("json", "with_id"), ("json", "without_id"), ("xml", "without_id")],
)
def test_a_stalled_try_and_its_retry_message_nobody_twice_and_keep_every_id(
    gw: CascadeEmulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    protocol: str,
    duplicate_answer: str,
) -> None:
    gw.behaviour.duplicate_answer = duplicate_answer
    hook = make_hook(monkeypatch, gw, protocol)
    numbers = phones(60)
    client_ids = protocol != "get"

    def sender(client: Any, try_number: int) -> LedgerSender:
        ledger = Ledger(str(tmp_path))
        ledger.start(variant=protocol)
        return LedgerSender(
            ledger, client, repeat_window=WINDOW, log=log, run_key=RUN_KEY, try_number=try_number
        )

    old_client = StallsOnSecondAnswer(hook.client)
    old_error: list[BaseException] = []

    def old_try() -> None:
        try:
            sender(old_client, 1).run(feed(Plan(RUN_KEY, 10, client_ids=client_ids), numbers))
        except CascadeError as exc:
            old_error.append(exc)

    thread = threading.Thread(target=old_try)
    thread.start()
    try:
        assert old_client.stalled.wait(30), "the old try never sent its second request"
        new = sender(hook.client, 2).run(feed(Plan(RUN_KEY, 10, client_ids=client_ids), numbers))
    finally:
        old_client.resume.set()
        thread.join(60)
    assert not thread.is_alive()

    per_phone = gw.accepted_per_phone()
    assert len(per_phone) == 60 and set(per_phone.values()) == {1}  # nobody twice, nobody lost
    assert old_client.calls == 2  # the old try sent nothing after it came back
    assert old_error and "later try" in str(old_error[0])
    # every id the gateway gave is in the ledger, the stalled answer's ones included
    assert ledger_ids(tmp_path) == {d.id_message for d in gw.deliveries}
    assert new.accepted + new.untracked == 60 and new.rejected == 0


def test_a_try_asked_to_stop_sends_no_further_request(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Airflow's on_kill (a superseded try's SIGTERM): the request under way is answered and
    recorded, and nothing more leaves; the next try sends the rest, nobody twice."""
    hook = make_hook(monkeypatch, gw, "json")
    ledger = Ledger(str(tmp_path))
    ledger.start()
    holder: list[LedgerSender] = []

    class StopDuringSecond:
        def __init__(self, inner: Any) -> None:
            self.inner, self.codec, self.calls = inner, inner.codec, 0

        def send_request(self, batch: Any, *rest: Any) -> Any:
            self.calls += 1
            if self.calls == 2:
                holder[0].stop()
            return self.inner.send_request(batch, *rest)

    client = StopDuringSecond(hook.client)
    first = LedgerSender(ledger, client, repeat_window=WINDOW, log=log, run_key=RUN_KEY)
    holder.append(first)
    with pytest.raises(CascadeError, match="asked to stop"):
        first.run(feed(Plan(RUN_KEY, 10), phones(50)))
    assert client.calls == 2 and len(gw.accepted_per_phone()) == 20
    second = LedgerSender(
        Ledger(str(tmp_path)), hook.client, repeat_window=WINDOW, log=log, run_key=RUN_KEY
    )
    totals = second.run(feed(Plan(RUN_KEY, 10), phones(50)))
    assert totals.accepted == 50 and set(gw.accepted_per_phone().values()) == {1}
    assert len(gw.accepted_per_phone()) == 50
