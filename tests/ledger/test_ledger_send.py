"""The ledger against a strict emulator (once-a-minute rule on): lost answers, resume after a
crash, answers that do not match, GET without client ids. No Airflow processes: fast tier."""

from __future__ import annotations

import errno
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_cascade.gateway import (
    SMS,
    CascadeGatewayError,
    CascadeValidationError,
    Message,
)
from airflow_provider_cascade.hooks.cascade import CascadeHook
from airflow_provider_cascade.ledger import (
    CascadeLedgerError,
    Fate,
    Ledger,
    LedgerInputChanged,
    LedgerSender,
    Plan,
    Totals,
)
from airflow_provider_cascade.testing.emulator import CascadeEmulator

from .conftest import WINDOW, make_hook, record, record_names

log = logging.getLogger("test.ledger")
RUN_KEY = ("dag", "run", "task", -1)


def phones(n: int, prefix: str = "7910") -> list[str]:
    return [f"{prefix}{i:07d}" for i in range(n)]


def feed(plan: Plan, numbers: list[str], text: str = "Hi") -> Iterator[Any]:
    message = Message([SMS(text, "Shop")], numbers[:1])
    return plan.chunks([(0, message, plan.recipients(0, numbers, "phones"))])


def send(
    hook: CascadeHook, ledger: Ledger, numbers: list[str], *, per_request: int = 100, **kw: Any
) -> Totals:
    variant_get = hook.settings.variant.value == "get"
    plan = Plan(RUN_KEY, per_request, client_ids=not variant_get, **kw)
    ledger.start(variant=hook.settings.variant.value)
    sender = LedgerSender(
        ledger, hook.client, repeat_window=hook.settings.repeat_window, log=log, run_key=RUN_KEY
    )
    return sender.run(feed(plan, numbers))


def repeat_refusals(gw: CascadeEmulator) -> int:
    return gw.counters["repeat_refused"]


@pytest.mark.parametrize("protocol", ["json", "xml"])
def test_lost_answer_is_resent_after_the_window_with_the_same_client_ids(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, protocol: str
) -> None:
    hook = make_hook(monkeypatch, gw, protocol)
    gw.faults.drop_after_accept_next(1)  # batch 1 accepted, its answer never arrives
    numbers = phones(250)
    totals = send(hook, Ledger(str(tmp_path)), numbers)
    assert totals.accepted == 250 and totals.untracked == 0 and totals.rejected == 0
    assert set(gw.accepted_per_phone().values()) == {1} and len(gw.accepted_per_phone()) == 250
    assert repeat_refusals(gw) == 0  # the resend waited out the window
    assert sorted(totals.ids) == sorted(d.id_message for d in gw.deliveries)
    assert totals.resent == 100 and totals.requests == 4
    # the resend's answer is about the earlier copies: recorded as such, counted as such
    assert totals.already == 100
    resent = record(tmp_path, 1, 2, "outcome")[1:-1]
    assert all(x.get("already") is True for x in resent) and len(resent) == 100


def test_get_lost_answer_is_untracked_never_resent(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hook = make_hook(monkeypatch, gw, "get")
    gw.faults.drop_after_accept_next(1)
    totals = send(hook, Ledger(str(tmp_path)), phones(30), per_request=10)
    assert set(gw.accepted_per_phone().values()) == {1}
    assert totals.untracked == 10 and totals.accepted == 20
    assert len(totals.untracked_sample) == 10
    # the lost answer's outcome says so, and names its recipients untracked (never resent)
    lost = record(tmp_path, 1, 1, "outcome")
    assert lost[0]["result"] == "lost"
    assert {x["fate"] for x in lost[1:-1]} == {"untracked"}


def test_no_batch_leaves_after_a_refused_answer(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hook = make_hook(monkeypatch, gw, "get")
    gw.faults.garbage_next(1)  # GET: any text but ids is the gateway's error: not sent
    with pytest.raises(CascadeGatewayError):
        send(hook, Ledger(str(tmp_path)), phones(30), per_request=10)
    assert record_names(tmp_path) == ["0000001.001.intent", "0000001.001.outcome"]
    assert len(gw.requests) == 1


def test_an_unreadable_answer_is_recorded_before_the_next_batch_leaves(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hook = make_hook(monkeypatch, gw, "json")
    gw.faults.garbage_next(1)  # JSON batch 1: unreadable, perhaps accepted
    ledger = Ledger(str(tmp_path))
    ledger.start()
    sender = LedgerSender(ledger, hook.client, repeat_window=WINDOW, log=log, run_key=RUN_KEY)
    totals = sender.run(feed(Plan(RUN_KEY, 10), phones(30)))
    assert record(tmp_path, 1, 1, "outcome")[0]["result"] == "lost"
    assert record(tmp_path, 1, 2, "intent")  # resent after the window
    assert totals.accepted == 30 and set(gw.accepted_per_phone().values()) == {1}
    assert repeat_refusals(gw) == 0


def test_a_try_stopped_by_a_refusal_records_the_batch_planned_ahead_as_not_sent(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The planner writes the next batch's intent while a request is on the wire. When the
    answer stops the try, that batch never left: its outcome says so, and the next try sends
    it at once (no window to wait out: no copy of it is at the gateway)."""
    hook = make_hook(monkeypatch, gw, "json")
    refusal = json.dumps({"error": "Недостаточно средств"}).encode()  # no funds
    gw.faults.reply_next(refusal, content_type="application/json")
    with pytest.raises(CascadeGatewayError):
        send(hook, Ledger(str(tmp_path)), phones(30), per_request=10)
    assert record_names(tmp_path) == ["0000001.001.intent", "0000001.001.outcome",
                                      "0000002.001.intent", "0000002.001.outcome"]  # fmt: skip
    outcome = record(tmp_path, 2, 1, "outcome")
    assert outcome[0]["result"] == "not_sent" and {x["fate"] for x in outcome[1:-1]} == {"unsent"}
    assert len(gw.requests) == 1

    waits: list[tuple[int, float]] = []
    second = LedgerSender(
        Ledger(str(tmp_path)), hook.client, repeat_window=WINDOW, log=log, run_key=RUN_KEY,
        sleep=lambda s: (waits.append((len(gw.requests), s)), time.sleep(s)),
    )  # fmt: skip
    totals = second.run(feed(Plan(RUN_KEY, 10), phones(30)))
    assert totals.accepted == 30 and set(gw.accepted_per_phone().values()) == {1}
    assert repeat_refusals(gw) == 0
    # batch 3 (fresh) and batch 2 (never left) went at once: no wait before the third request;
    # only the refused batch 1, which did reach the gateway, may have had a window to wait out
    # (none left if this machine was slow enough)
    assert all(n >= 3 for n, _ in waits), waits
    at = {(b, a): record(tmp_path, b, a, "intent")[0]["at"] for b, a in ((2, 2), (1, 2), (3, 1))}
    assert at[3, 1] <= at[2, 2] <= at[1, 2]


class Crash(BaseException):
    """Stands for kill -9: nothing after it runs, not even except/finally of the sender."""


class CrashAfterRequest:
    """A client that lets the request reach the gateway, then dies before the answer is used."""

    def __init__(self, inner: Any, crash_on: int) -> None:
        self.inner, self.codec, self.crash_on, self.calls = inner, inner.codec, crash_on, 0

    def send_request(self, batch: Any) -> Any:
        self.calls += 1
        answer = self.inner.send_request(batch)
        if self.calls == self.crash_on:
            raise Crash
        return answer


@pytest.mark.parametrize("protocol", ["json", "xml"])
def test_resume_after_a_crash_sends_nobody_twice(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, protocol: str
) -> None:
    hook = make_hook(monkeypatch, gw, protocol)
    numbers = phones(500)
    ledger = Ledger(str(tmp_path))
    ledger.start()
    plan = Plan(RUN_KEY, 100)
    crashing = CrashAfterRequest(hook.client, crash_on=3)
    with pytest.raises(Crash):
        LedgerSender(ledger, crashing, repeat_window=WINDOW, log=log, run_key=RUN_KEY).run(
            feed(plan, numbers)
        )
    assert len(gw.accepted_per_phone()) == 300
    second = LedgerSender(
        Ledger(str(tmp_path)), hook.client, repeat_window=WINDOW, log=log, run_key=RUN_KEY
    )
    totals = second.run(feed(Plan(RUN_KEY, 100), numbers))
    assert totals.accepted == 500 and totals.untracked == 0
    assert set(gw.accepted_per_phone().values()) == {1} and len(gw.accepted_per_phone()) == 500
    # 3 batches recorded, and batch 4, planned ahead with its intent, recorded as not sent
    assert totals.resumed_batches == 4 and repeat_refusals(gw) == 0
    # batch 3 was accepted but unrecorded: resent, the gateway gave the earlier ids back
    assert sorted(totals.ids) == sorted(d.id_message for d in gw.deliveries)


class DiskFullAt:
    """A filesystem that fails like a full disk when a record whose name holds ``needle`` is
    opened for writing (the rest goes to the real one)."""

    def __init__(self, real: Any, needle: str) -> None:
        self.real, self.needle = real, needle

    def open(self, path: str, mode: str = "rb", **kw: Any) -> Any:
        if "w" in mode and self.needle in path:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.real.open(path, mode, **kw)


def full_disk_at(ledger: Ledger, needle: str) -> Ledger:
    fs, folder = ledger._records_at
    ledger.__dict__["_records_at"] = (DiskFullAt(fs, needle), folder)
    return ledger


def test_a_store_failing_while_the_next_batch_is_planned_stops_after_the_answer_is_recorded(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hook = make_hook(monkeypatch, gw, "json")
    ledger = full_disk_at(Ledger(str(tmp_path)), "0000002.001.")
    with pytest.raises(CascadeLedgerError, match="No space left") as info:
        send(hook, ledger, phones(30), per_request=10)
    assert "0000002.001." in str(info.value) and str(tmp_path) in str(info.value)
    assert len(gw.requests) == 1  # batch 2 never left
    assert record_names(tmp_path) == ["0000001.001.intent", "0000001.001.outcome"]
    outcome = record(tmp_path, 1, 1, "outcome")
    assert len(outcome) == 12 and outcome[-1] == {"end": 10}


def test_an_accepted_batch_the_disk_cannot_take_is_logged_with_its_ids(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """The gateway accepted batch 1 and gave its ids; the disk is full when its outcome is
    written: the send stops typed, naming the ledger, and the ids are in the task log."""
    hook = make_hook(monkeypatch, gw, "json")
    ledger = full_disk_at(Ledger(str(tmp_path)), "not yet")
    ledger.start()
    caplog.set_level("ERROR")

    class IntentsThenFull:
        def __init__(self, inner: Any) -> None:
            self.inner, self.codec = inner, inner.codec

        def send_request(self, batch: Any) -> Any:
            ledger._records_at[0].needle = ".outcome."  # the intent is in; the disk fills up
            return self.inner.send_request(batch)

    sender = LedgerSender(
        ledger, IntentsThenFull(hook.client), repeat_window=WINDOW, log=log, run_key=RUN_KEY
    )
    with pytest.raises(CascadeLedgerError, match="No space left"):
        sender.run(feed(Plan(RUN_KEY, 10), phones(10)))
    ids = [d.id_message for d in gw.deliveries]
    assert len(ids) == 10
    assert any(all(i in r.getMessage() for i in ids) for r in caplog.records)


class SlowThenCrash:
    """Request 1's answer is taken late (its batch-2 intent, planned ahead, grows old), then
    the process dies right after request 2 reached the gateway."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.codec, self.calls = inner, inner.codec, 0

    def send_request(self, batch: Any) -> Any:
        self.calls += 1
        answer = self.inner.send_request(batch)
        if self.calls == 1:
            time.sleep(WINDOW * 2 / 3)
        if self.calls == 2:
            raise Crash
        return answer


def test_an_intent_planned_ahead_is_rewritten_when_its_request_leaves_late(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A resume waits a window after the time in the intent: that time must not be much
    earlier than the request's real departure, or the resend is a repeat inside the window."""
    hook = make_hook(monkeypatch, gw, "json")
    ledger = Ledger(str(tmp_path))
    ledger.start()
    with pytest.raises(Crash):
        LedgerSender(
            ledger, SlowThenCrash(hook.client), repeat_window=WINDOW, log=log, run_key=RUN_KEY
        ).run(feed(Plan(RUN_KEY, 10), phones(30)))
    second = LedgerSender(
        Ledger(str(tmp_path)), hook.client, repeat_window=WINDOW, log=log, run_key=RUN_KEY
    )
    totals = second.run(feed(Plan(RUN_KEY, 10), phones(30)))
    assert totals.accepted == 30 and set(gw.accepted_per_phone().values()) == {1}
    assert repeat_refusals(gw) == 0


def test_a_second_ledger_for_the_same_run_is_saved_by_the_client_ids(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The ledger moved between tries (its setting changed, no task state store): the new one
    is empty, but the client ids are the run's own, so the gateway sends nobody twice and
    answers with the earlier ids; the send records them as earlier copies, not new ones."""
    hook = make_hook(monkeypatch, gw, "json")
    first = send(hook, Ledger(str(tmp_path / "a")), phones(30), per_request=10)
    time.sleep(WINDOW * 1.2)  # not an identical request inside the window: per-row answers
    second = send(hook, Ledger(str(tmp_path / "b")), phones(30), per_request=10)
    assert first.accepted == second.accepted == 30 and first.already == 0
    assert second.already == 30 and sorted(second.ids) == sorted(first.ids)
    assert set(gw.accepted_per_phone().values()) == {1} and repeat_refusals(gw) == 0


def test_a_resumed_try_refuses_a_changed_input(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hook = make_hook(monkeypatch, gw, "json")
    send(hook, Ledger(str(tmp_path)), phones(50))
    with pytest.raises(LedgerInputChanged, match="input changed"):
        send(hook, Ledger(str(tmp_path)), phones(50, prefix="7911"))


def test_a_finished_send_resumes_without_a_request(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hook = make_hook(monkeypatch, gw, "json")
    first = send(hook, Ledger(str(tmp_path)), phones(120))
    before = len(gw.requests)
    again = send(hook, Ledger(str(tmp_path)), phones(120))
    assert len(gw.requests) == before
    assert again.ids == first.ids and again.accepted == 120


def test_repeated_phones_are_sent_once_unless_allowed(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hook = make_hook(monkeypatch, gw, "json")
    numbers = ["79120000001", "79120000002", "79120000001", "79120000001"]
    totals = send(hook, Ledger(str(tmp_path / "once")), numbers)
    assert totals.accepted == 2 and gw.accepted_per_phone()["79120000001"] == 1
    gw.reset()
    totals = send(hook, Ledger(str(tmp_path / "many")), numbers, allow_repeats=True)
    assert totals.accepted == 4 and gw.accepted_per_phone()["79120000001"] == 3


def test_records_are_readable_json_lines(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hook = make_hook(monkeypatch, gw, "json")
    send(hook, Ledger(str(tmp_path)), phones(3))
    head, *items, end = record(tmp_path, 1, 1, "intent")
    assert head["record"] == "intent" and head["format"] == "cascade-ledger" and head["v"] == 2
    assert [i["phone"] for i in items] == phones(3) and all(i["cid"].isdigit() for i in items)
    assert end == {"end": 3}
    rows = record(tmp_path, 1, 1, "outcome")[1:-1]
    assert [r["fate"] for r in rows] == [Fate.ACCEPTED.value] * 3
    assert json.loads((tmp_path / "ledger.json").read_text())["version"] == 2


def test_bad_input_deep_in_a_file_fails_before_any_request(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hook = make_hook(monkeypatch, gw, "json")
    numbers = [*phones(150), "not-a-phone"]
    plan = Plan(RUN_KEY, 100)
    with pytest.raises(CascadeValidationError, match=r"phones: item 151"):
        for chunk in feed(plan, numbers):
            hook.client.codec.send_batches([m for _, m in chunk])
    assert gw.requests == []


def test_waiting_on_a_ledger_records_states_and_exact_price_totals(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import time
    from decimal import Decimal

    from airflow_provider_cascade.ledger import LedgerWatch

    hook = make_hook(monkeypatch, gw, "json")
    ledger = Ledger(str(tmp_path))
    totals = send(hook, ledger, phones(1200), per_request=500)
    watch = LedgerWatch(ledger.ref(**totals.counts()))
    progress = watch.poll(hook.get_states)
    rounds = 1
    while not progress.done:
        time.sleep(WINDOW * 1.2)  # the same status query only once a window
        progress = watch.poll(hook.get_states)
        rounds += 1
    assert progress.total == progress.final == 1200 and rounds < 10
    expected: dict[str, Decimal] = {}
    for d in gw.deliveries:
        for channel, price in gw.final_prices(d.id_message).items():
            if price:
                expected[channel] = expected.get(channel, Decimal(0)) + price
    assert progress.price_totals()["by_channel"] == {c: str(v) for c, v in sorted(expected.items())}
    assert sum(progress.by_state.values()) == 1200
    assert repeat_refusals(gw) == 0
    stored = json.loads((tmp_path / "wait" / "summary.json").read_text())
    assert stored["final"] == 1200
    lines = (tmp_path / "wait" / "0000001.jsonl").read_text().splitlines()
    assert len(lines) == 500 and all(json.loads(x)["is_final"] for x in lines)


def test_async_rounds_end_and_match_the_blocking_ones(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The trigger's path: a round's steps run in a thread and its end comes back as a value
    (a StopIteration through asyncio.to_thread would hang the triggerer)."""
    import asyncio
    import time

    from airflow_provider_cascade.ledger import LedgerWatch

    hook = make_hook(monkeypatch, gw, "xml")
    ledger = Ledger(str(tmp_path))
    send(hook, ledger, phones(700), per_request=300)

    async def wait_all() -> Any:
        client = await hook.aget_client()
        watch = LedgerWatch(ledger.url)
        try:
            progress = await watch.apoll(client.get_states)
            while not progress.done:
                await asyncio.sleep(WINDOW * 1.2)
                progress = await watch.apoll(client.get_states)
            return progress
        finally:
            await client.aclose()

    progress = asyncio.run(asyncio.wait_for(wait_all(), timeout=60))
    assert progress.final == progress.total == 700
    time.sleep(WINDOW * 1.2)
    again = LedgerWatch(ledger.url).poll(hook.get_states)  # the blocking driver agrees
    assert again.to_json() == progress.to_json()


@pytest.mark.parametrize(
    "body",
    [
        b'{"message": [[]]}',  # no row for anybody
        b'{"message": [[{"id_message": "5", "client_id_message": "1", "phone": "79990000000",'
        b' "count_message": 1, "id_viber": "0", "id_whatsapp": "0", "id_sms": "5",'
        b' "id_vk": "0"}]]}',  # a row for a phone never sent
    ],
)
def test_an_answer_that_does_not_match_the_request_is_never_a_success(
    tmp_path: Path, body: bytes
) -> None:
    """Rows are matched to the recipients sent: missing or unknown rows leave the recipients
    in flight (resent under the same client ids after the window), and a gateway that never
    answers properly fails the send, naming the ledger; nothing counts as accepted."""
    from airflow_provider_cascade.clients import CascadeClient
    from airflow_provider_cascade.gateway import CascadeError, LoginPassword
    from airflow_provider_cascade.gateway.codec import CodecSettings, make_codec

    from ..reliability.hostile import answer, hostile

    with hostile(answer(body)) as server:
        codec = make_codec("json", CodecSettings(server.url, LoginPassword("u", "secret-pw"),
                                                 max_recipients=3))  # fmt: skip
        client = CascadeClient(codec)
        ledger = Ledger(str(tmp_path))
        ledger.start()
        plan = Plan(RUN_KEY, 3)
        sender = LedgerSender(
            ledger, client, repeat_window=0.05, log=log, run_key=RUN_KEY, max_attempts=3
        )
        with pytest.raises(CascadeError, match=r"no usable answer after 3 requests.*ledger"):
            sender.run(feed(plan, phones(3)))
        assert server.connections == 3  # resent, never more than max_attempts
    assert sender.totals.accepted == 0 and sender.totals.ids == []
    record = next(Ledger(str(tmp_path)).records())
    assert {row.fate for row in record.rows.values()} == {Fate.IN_FLIGHT}


def test_the_wait_names_the_untracked_and_says_their_cost_is_unknown(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """GET, one answer lost: 10 of 30 recipients untracked. The finished wait's XCom and its
    final lines count and name them, and say the price totals cover only the polled ones."""
    from airflow_provider_cascade.waiting import LedgerWait, WaitSettings, finish_ledgers

    hook = make_hook(monkeypatch, gw, "get")
    gw.faults.drop_after_accept_next(1)
    ledger = Ledger(str(tmp_path))
    totals = send(hook, ledger, phones(30), per_request=10)
    assert totals.untracked == 10
    wait = LedgerWait([ledger.ref(**totals.counts())], WaitSettings(None, WINDOW, 3))
    progress = wait.watches[0].poll(hook.get_states)
    while not progress.done:
        time.sleep(WINDOW * 1.2)
        progress = wait.watches[0].poll(hook.get_states)
    wait.record_round(progress, time.time())

    pushed: dict[str, Any] = {}

    class Ti:
        def xcom_push(self, key: str, value: Any) -> None:
            pushed[key] = value

    caplog.set_level("INFO")
    value = finish_ledgers({"ti": Ti()}, wait, log)
    assert value["total"] == 20 and value["untracked"]["count"] == 10
    assert sorted(value["untracked"]["sample"]) == phones(30)[:10]
    assert (
        "20 polled" in value["price_totals_cover"] and "10 untracked" in value["price_totals_cover"]
    )
    assert any("10 recipients are UNTRACKED" in r.getMessage() and "cost is unknown" in
               r.getMessage() for r in caplog.records)  # fmt: skip


def test_the_waits_untracked_sample_is_masked_when_masking_is_on(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    from airflow_provider_cascade.waiting import LedgerWait, WaitSettings, finish_ledgers

    hook = make_hook(monkeypatch, gw, "get")
    gw.faults.drop_after_accept_next(1)
    ledger = Ledger(str(tmp_path))
    totals = send(hook, ledger, phones(20), per_request=10)
    wait = LedgerWait([ledger.ref(**totals.counts())], WaitSettings(None, WINDOW, 3))
    wait.mask_phones = True
    wait.record_round(wait.watches[0].poll(hook.get_states), time.time())

    class Ti:
        def xcom_push(self, key: str, value: Any) -> None:
            pass

    caplog.set_level("INFO")
    value = finish_ledgers({"ti": Ti()}, wait, log)
    assert value["untracked"]["count"] == 10
    full = phones(20)[:10]
    shown = json.dumps(value) + " ".join(r.getMessage() for r in caplog.records)
    assert not any(p in shown for p in full) and "*****" in shown
