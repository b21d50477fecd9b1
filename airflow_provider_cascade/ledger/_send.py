"""Sending through the ledger: every request is announced before it leaves and its answer
recorded after, so any later try knows exactly who was messaged and who may have been."""

from __future__ import annotations

import heapq
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from ..gateway import (
    CascadeDuplicateRequestError,
    CascadeError,
    CascadeGatewayError,
    CascadeResponseError,
    CascadeServerError,
    CascadeTransportError,
    Message,
    Recipient,
    SendResult,
)
from ..gateway.codec import Codec, HttpResponse, SendBatch
from ._ahead import Ahead
from ._gc import CollectWhileAway, older_objects_frozen
from ._records import (
    NOT_SENT_RESULT,
    BatchRecord,
    Entry,
    Fate,
    Row,
    digest,
    entry_line,
    intent_lines,
    outcome_lines,
)
from ._sources import Chunk
from ._store import Ledger

UNTRACKED_NO_ID = "already sent earlier under this client id; the gateway gave no id to poll"
UNTRACKED_NO_CID = "answer lost and no client id to resend safely: may have been sent, not resent"
NOT_SENT = "not sent: the try stopped before this request"


class BatchClient(Protocol):
    codec: Codec

    def send_request(self, batch: SendBatch) -> HttpResponse: ...


class LedgerInputChanged(CascadeError):
    """A resumed try planned a batch unlike the one its earlier try recorded."""


@dataclass
class Totals:
    """What one try of a send knows when it ends (recorded ones included)."""

    total: int = 0
    accepted: int = 0
    untracked: int = 0
    rejected: int = 0
    requests: int = 0
    resent: int = 0
    batches: int = 0
    resumed_batches: int = 0
    already: int = 0
    """Accepted under a client id the gateway had from an earlier request."""
    ids: list[str] = field(default_factory=list)
    keep_ids: bool = True
    """Collect accepted ids in ``ids`` (inline sends return them; a file's send keeps them in
    the ledger only: a million ids would be tens of MiB in the worker)."""
    untracked_sample: list[str] = field(default_factory=list)
    first_errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"total": self.total, "accepted": self.accepted, "already_sent": self.already,
                "rejected": self.rejected, "untracked": self.untracked,
                "requests": self.requests}  # fmt: skip

    def add(self, rec: BatchRecord) -> None:
        for i, entry in enumerate(rec.entries):
            row = rec.rows.get(i)
            if row is None:
                continue
            if row.members:
                self.total += len(row.members) - 1
                for phone, member in row.members:
                    self._count(Entry(entry.message, phone, base=entry.base), member)
                continue
            self._count(entry, row)

    def _count(self, entry: Entry, row: Row) -> None:
        if row.fate is Fate.ACCEPTED and row.id_message:
            self.accepted += 1
            self.already += row.already
            if self.keep_ids or len(self.ids) < 5:
                self.ids.append(row.id_message)
        elif row.fate is Fate.UNTRACKED:
            self.untracked += 1
            if len(self.untracked_sample) < 20:
                self.untracked_sample.append(entry.phone or f"base {entry.base}")
        elif row.fate is Fate.REJECTED:
            self.rejected += 1
            if row.error and len(self.first_errors) < 3:
                self.first_errors.append(f"{entry.phone or entry.base}: {row.error}")


@dataclass(slots=True)
class _Planned:
    number: int
    batch: SendBatch
    entries: list[Entry]
    by_index: dict[int, Message]
    fingerprint: str
    lines: list[str]
    intent_at: float | None = None
    """When the planner wrote this batch's first intent (None: not written yet)."""


@dataclass(order=True)
class _Pending:
    not_before: float
    batch: int
    record: BatchRecord = field(compare=False)
    messages: dict[int, Message] = field(compare=False)


class LedgerSender:
    """Send chunks batch by batch; resume from what the ledger already holds."""

    def __init__(
        self,
        ledger: Ledger,
        client: BatchClient,
        *,
        repeat_window: float,
        log: logging.Logger | Any,
        keep_ids: bool = True,
        total_hint: int | None = None,
        max_attempts: int = 4,
        try_number: int = 1,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        progress_every: float = 10.0,
    ) -> None:
        self.ledger = ledger
        self.client = client
        self.codec = client.codec
        self.window = repeat_window
        self.log = log
        self.keep_ids = keep_ids
        self.total_hint = total_hint
        self.max_attempts = max_attempts
        self.try_number = try_number
        self.clock = clock
        self.sleep = sleep
        self.progress_every = progress_every
        self.totals = Totals(keep_ids=keep_ids)
        self._margin = min(1.0, 0.1 * repeat_window)
        """A resend waits a window and this much after the last copy's recorded time."""
        self._queue: list[_Pending] = []
        self._requests_this_try: dict[int, int] = {}  # a new try starts its count afresh
        self._started = 0.0
        self._next_progress = 0.0
        self._planned = 0
        self._upcoming: Ahead[_Planned] | None = None
        self._later: list[Callable[[], None]] = []
        self._collector = CollectWhileAway()
        self._away_error: Exception | None = None

    # -- the whole send ---------------------------------------------------------------------
    def run(self, chunks: Iterable[Chunk]) -> Totals:
        with older_objects_frozen(), self._collector:
            return self._run(chunks)

    def _run(self, chunks: Iterable[Chunk]) -> Totals:
        existing = self.ledger.batches()
        self._started = self.clock()
        self._next_progress = self._started + self.progress_every
        self._upcoming = Ahead(self._plan(chunks, recorded=frozenset(existing)))
        try:
            for planned in self._upcoming:
                record = self._record(planned, existing.pop(planned.number, None))
                self._advance(record, planned.batch, planned.by_index)
                if self._away_error is not None:
                    raise self._away_error
                self._progress()
        finally:
            unsent = self._upcoming.close()
            self._upcoming = None
            if unsent is not None and unsent.intent_at is not None:
                self._never_sent(unsent)
        self._catch_up()
        self._drain()
        if existing:
            raise LedgerInputChanged(
                f"the ledger holds batches {sorted(existing)[:5]} that this try did not plan: "
                "the input changed since an earlier try"
            )
        return self.totals

    def _plan(self, chunks: Iterable[Chunk], recorded: frozenset[int]) -> Iterator[_Planned]:
        """Every batch with its entries, fingerprint and intent lines, ready to send.
        :class:`Ahead` runs this while the previous request is with the gateway, so
        the first intent of a new batch is written here too, off the path between an answer
        and the next request (nothing is sent from here). Not for a batch an earlier try
        recorded (``recorded`` lists those), nor for one whose loss could not be resent (GET):
        an intent whose request then never left must mean "perhaps sent" only where that
        costs nothing but a resend under the same client ids."""
        number = 0
        for chunk in chunks:
            messages = [m for _, m in chunk]
            globals_ = [i for i, _ in chunk]
            by_index = dict(chunk)
            for batch in self.codec.send_batches(messages):
                number += 1
                entries = _entries(batch, globals_)
                lines = [entry_line(i, e) for i, e in enumerate(entries)]
                planned = _Planned(number, batch, entries, by_index, digest(entries), lines)
                if batch.retry_safe and number not in recorded:
                    planned.intent_at = self._write_intent(
                        number, 1, entries, range(len(entries)), planned.fingerprint, lines
                    )
                yield planned

    def _write_intent(
        self,
        number: int,
        attempt: int,
        entries: list[Entry],
        sent: Sequence[int],
        fingerprint: str,
        lines: list[str] | None,
    ) -> float:
        now = self.clock()
        self.ledger.write_record(
            number, attempt, "intent",
            intent_lines(number, attempt, now, entries, sent, fingerprint, lines,
                         try_=self.try_number),
        )  # fmt: skip
        return now

    def _never_sent(self, planned: _Planned) -> None:
        """The try stopped before this batch's request, whose intent the planner wrote:
        record that it was not sent (the next try sends it under the same client ids)."""
        rows = {i: Row(Fate.UNSENT, None, NOT_SENT) for i in range(len(planned.entries))}
        self._outcome(planned.number, 1, NOT_SENT_RESULT, NOT_SENT, rows)

    def _record(self, planned: _Planned, names: list[str] | None) -> BatchRecord:
        number = planned.number
        if names:
            record = self.ledger.load(number, names)
            if record.entries:
                if record.digest != planned.fingerprint:
                    raise LedgerInputChanged(
                        f"batch {number} differs from the one an earlier try sent: the input "
                        "changed since (same run, task and map index). Use a new run, or the "
                        "same input"
                    )
                self.totals.resumed_batches += 1
                return record
        return BatchRecord(
            number, planned.entries, planned.fingerprint, lines=planned.lines,
            intent_at=planned.intent_at,
        )  # fmt: skip

    def _advance(self, record: BatchRecord, batch: SendBatch, by_index: dict[int, Message]) -> None:
        self.totals.batches += 1
        self._planned += len(record.entries)
        if record.attempts == 0:  # a new batch: every entry goes, nothing to look up
            self._send(record, batch, None, by_index)
            return
        in_flight = record.indexes(Fate.IN_FLIGHT)
        unsent = record.indexes(Fate.UNSENT)
        if in_flight and not batch.retry_safe:
            self._settle_untracked(record, in_flight)
            in_flight = []
        if record.attempts == 0:
            self._send(record, batch, unsent, by_index)
            return
        if in_flight or unsent:
            # An earlier request of this batch left less than a window ago may be identical.
            self._schedule(record, by_index)
            return
        self._done(record)

    def _done(self, record: BatchRecord) -> None:
        self.totals.total += len(record.entries)
        self.totals.add(record)

    def _schedule(self, record: BatchRecord, by_index: dict[int, Message]) -> None:
        messages = {e.message: by_index[e.message] for e in record.entries}
        not_before = record.last_sent_at + self.window + self._margin
        heapq.heappush(self._queue, _Pending(not_before, record.batch, record, messages))

    def _drain(self) -> None:
        """Resend what may not have arrived, each no sooner than a window after its last copy."""
        while self._queue:
            pending = heapq.heappop(self._queue)
            record = pending.record
            wait = pending.not_before - self.clock()
            if wait > 0:
                self.log.info(
                    "Cascade send: batch %d had no usable answer; resending %d recipients under "
                    "the same client ids in %.1f s (the gateway refuses a repeat within %.1f s)",
                    record.batch, len(record.indexes(Fate.IN_FLIGHT, Fate.UNSENT)), wait,
                    self.window,
                )  # fmt: skip
                self.sleep(wait)
            tries = self._requests_this_try.get(record.batch, 0)
            if tries >= self.max_attempts:
                raise CascadeError(
                    f"batch {record.batch}: no usable answer after {tries} requests; "
                    f"its recipients are in the ledger ({self.ledger.url}) and the next try "
                    "resends them under the same client ids"
                )
            todo = record.indexes(Fate.IN_FLIGHT, Fate.UNSENT)
            retry_batches = self.codec.send_batches(_restricted(record, todo, pending.messages))
            self.totals.resent += len(todo)
            for batch in retry_batches:
                self._send(record, batch, None, pending.messages, requeue=False)
            if record.indexes(Fate.IN_FLIGHT, Fate.UNSENT):
                self._schedule(record, pending.messages)
            else:
                self._done(record)

    # -- one request ------------------------------------------------------------------------
    def _send(
        self,
        record: BatchRecord,
        batch: SendBatch,
        indexes: Sequence[int] | None,
        by_index: dict[int, Message],
        *,
        requeue: bool = True,
    ) -> None:
        lines = None
        if record.attempts == 0:  # the first request of a batch is the batch its plan came from
            sent = list(range(len(record.entries)))
            lines, record.lines = record.lines, None
        else:
            positions = _positions(record)
            sent = [positions[key] for key in _keys(batch)]
        if indexes is not None and sorted(sent) != sorted(indexes):
            raise CascadeError(f"batch {record.batch}: planned recipients and request differ")
        attempt = record.attempts + 1
        now = self.clock()
        written, record.intent_at = record.intent_at, None
        # The planner's intent stands if this request leaves well within the resend margin
        # of its time (a resume then still waits a whole window after the real departure);
        # after a slow answer it is written again, with the time of now.
        if attempt > 1 or written is None or now - written > self._margin / 2:
            self._write_intent(record.batch, attempt, record.entries, sent, record.digest, lines)
        record.attempts, record.last_sent_at = attempt, now
        self.totals.requests += 1
        self._requests_this_try[record.batch] = self._requests_this_try.get(record.batch, 0) + 1
        # plan the next batch, and count the last one, before this request leaves
        if self._upcoming is not None:
            self._while_away()
        result, error, rows = "answered", None, {}
        codec = self.client.codec
        try:
            answers = codec.parse_send(batch, self.client.send_request(batch))
        except CascadeDuplicateRequestError as exc:
            result, error = "repeat", exc.text
            rows = dict.fromkeys(sent, Fate.IN_FLIGHT)
        except CascadeTransportError as exc:
            result, error = ("lost", str(exc)) if exc.may_have_sent else ("refused", str(exc))
            rows = dict.fromkeys(sent, Fate.IN_FLIGHT if exc.may_have_sent else Fate.UNSENT)
        except (CascadeServerError, CascadeResponseError) as exc:
            result, error = "lost", str(exc)
            rows = dict.fromkeys(sent, Fate.IN_FLIGHT)
        except CascadeGatewayError as exc:
            self._write_outcome(record, attempt, "refused", exc.text,
                                {i: Row(Fate.UNSENT, None, exc.text) for i in sent})  # fmt: skip
            raise
        else:
            self._write_outcome(record, attempt, result, None, _match(record, sent, answers))
            return self._after(record, by_index, requeue)
        self.log.warning(
            "Cascade send: batch %d (%d recipients) %s: %s", record.batch, len(sent),
            "may have reached the gateway" if result != "refused" else "was not sent", error,
        )  # fmt: skip
        self._write_outcome(record, attempt, result, error,
                            {i: Row(f, None, error) for i, f in rows.items()})  # fmt: skip
        self._after(record, by_index, requeue)

    def _accepted(
        self, record: BatchRecord, sent: list[int], ids: list[str], by_index: dict[int, Message]
    ) -> None:
        ok = Fate.ACCEPTED
        record.rows.update({i: Row(ok, ident) for i, ident in zip(sent, ids, strict=True)})
        self._after(record, by_index, True)

    def _while_away(self) -> None:
        """Called once a request has left: the work that need not stand between an answer
        and the next request (counting the previous batch, planning the next one)."""
        self._collector.away()
        try:
            self._catch_up()
            if self._upcoming is not None:
                self._upcoming.start()
        except Exception as exc:  # raised once this request's answer is recorded, not inside it
            self._away_error = exc
        finally:
            self._collector.back()

    def _catch_up(self) -> None:
        later, self._later = self._later, []
        for step in later:
            step()

    def _after(self, record: BatchRecord, by_index: dict[int, Message], requeue: bool) -> None:
        in_flight = record.indexes(Fate.IN_FLIGHT)
        if in_flight and not all(record.entries[i].cid for i in in_flight):
            self._settle_untracked(record, in_flight)
        if requeue and record.indexes(Fate.IN_FLIGHT, Fate.UNSENT):
            self._schedule(record, by_index)
        elif requeue:
            self._done(record)

    def _write_outcome(
        self,
        record: BatchRecord,
        attempt: int,
        result: str,
        error: str | None,
        rows: dict[int, Row],
    ) -> None:
        # the gateway had the request by the outcome's time at the latest
        record.last_sent_at = self._outcome(record.batch, attempt, result, error, rows)
        record.rows.update(rows)

    def _outcome(
        self, number: int, attempt: int, result: str, error: str | None, rows: dict[int, Row]
    ) -> float:
        """Write an outcome record; returns its time."""
        now = self.clock()
        self.ledger.write_record(
            number, attempt, "outcome",
            outcome_lines(number, attempt, now, result, rows.items(), error),
        )  # fmt: skip
        return now

    def _settle_untracked(self, record: BatchRecord, indexes: list[int]) -> None:
        """Without client ids a resend could message people twice: record, never resend. A
        record of its own ("settled"), so the attempt's outcome is never overwritten."""
        attempt = max(record.attempts, 1)
        rows = {i: Row(Fate.UNTRACKED, None, UNTRACKED_NO_CID) for i in indexes}
        self.ledger.write_record(
            record.batch, attempt, "settled",
            outcome_lines(record.batch, attempt, self.clock(), "untracked", rows.items()),
        )  # fmt: skip
        record.rows.update(rows)

    def _progress(self) -> None:
        now = self.clock()
        if now < self._next_progress:
            return
        self._next_progress = now + self.progress_every
        self.log.info(
            "Cascade send: %s",
            progress_line(self._planned, self.total_hint, now - self._started, self.totals),
        )


def progress_line(done: int, total: int | None, elapsed: float, totals: Totals) -> str:
    rate = done / elapsed if elapsed > 0 else 0.0
    head = f"{done:,} recipients"
    if total:
        share = min(done / total, 1.0)
        left = (total - done) / rate if rate > 0 else 0.0
        head = f"{done:,}/{total:,} recipients ({share:.0%}), about {_duration(left)} left"
    return (f"{head}, {rate:,.0f}/s; accepted {totals.accepted:,}, rejected {totals.rejected:,}, "
            f"untracked {totals.untracked:,}, {totals.requests:,} requests")  # fmt: skip


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


# -- matching requests and answers to the planned entries -------------------------------------
def _entries(batch: SendBatch, globals_: list[int]) -> list[Entry]:
    out: list[Entry] = []
    for part in batch.parts:
        m = globals_[part.message_index]
        for r in part.message.recipients:
            cid = None if r.client_id_message is None else str(r.client_id_message)
            out.append(Entry(m, r.phone, cid))
        out.extend(Entry(m, base=str(b.base)) for b in part.message.bases)
    return out


def _keys(batch: SendBatch) -> list[tuple[Any, ...]]:
    """Entry keys of a request's recipients, in request order (message index is local to the
    request, so keys use the content: phone and client id, or the base)."""
    keys: list[tuple[Any, ...]] = []
    for part in batch.parts:
        for r in part.message.recipients:
            cid = None if r.client_id_message is None else str(r.client_id_message)
            keys.append(("r", r.phone, cid))
        keys.extend(("b", str(b.base)) for b in part.message.bases)
    return keys


def _positions(record: BatchRecord) -> dict[tuple[Any, ...], int]:
    out: dict[tuple[Any, ...], int] = {}
    for i, e in enumerate(record.entries):
        key = ("b", e.base) if e.base is not None else ("r", e.phone, e.cid)
        out.setdefault(key, i)
    return out


def _match(record: BatchRecord, sent: list[int], answers: list[SendResult]) -> dict[int, Row]:
    """The codec already matched the answer to the request (gateway/_decode.py: one result
    per recipient in request order, ``answer_missing`` where the gateway gave no row; a stored
    base gets the rows of its phones). Here those results only become ledger rows."""
    rows: dict[int, Row] = {}
    entries = record.entries
    queue = deque(answers)
    for i in sent:
        e = entries[i]
        if e.base is None:
            rows[i] = _row(queue.popleft() if queue else None)
            continue
        mine = [a for a in queue if a.base is not None and str(a.base) == e.base]
        queue = deque(a for a in queue if not (a.base is not None and str(a.base) == e.base))
        found = [(a.phone, _row(a)) for a in mine if a.phone is not None]
        error = next((a.error for a in mine if a.phone is None), None)
        accepted = any(r.fate is Fate.ACCEPTED for _, r in found)
        rows[i] = Row(Fate.ACCEPTED if accepted else Fate.REJECTED, None, error, members=found)
    return rows


def _row(answer: SendResult | None) -> Row:
    if answer is None or getattr(answer, "answer_missing", False):
        return Row(Fate.IN_FLIGHT, None, "the answer has no row for this recipient")
    if answer.already_sent:
        if answer.id_message:
            return Row(Fate.ACCEPTED, answer.id_message, None, already=True)
        return Row(Fate.UNTRACKED, None, UNTRACKED_NO_ID, already=True)
    if answer.accepted and answer.id_message:
        return Row(Fate.ACCEPTED, answer.id_message, None)
    return Row(Fate.REJECTED, None, answer.error or "refused without an error text")


def _restricted(
    record: BatchRecord, indexes: list[int], messages: dict[int, Message]
) -> list[Message]:
    """The batch's messages narrowed to ``indexes`` (same client ids), in entry order."""
    grouped: dict[int, list[Entry]] = {}
    for i in indexes:
        grouped.setdefault(record.entries[i].message, []).append(record.entries[i])
    out = []
    for m, entries in grouped.items():
        original = messages[m]
        recipients = tuple(Recipient(e.phone, e.cid) for e in entries if e.phone is not None)
        bases = original.bases if any(e.base is not None for e in entries) else ()
        out.append(replace(original, recipients=recipients, bases=bases))
    return out
