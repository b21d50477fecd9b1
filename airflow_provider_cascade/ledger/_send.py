"""Sending through the ledger: every request is announced before it leaves and its answer
recorded after, so any later try knows exactly who was messaged and who may have been.

For each batch, top to bottom: plan it (entries, client ids, the request), write its intent,
check that this try still owns the ledger, send, read the answer, write the outcome, and queue
for a later resend whoever may not have been reached. While a request is away, a thread plans
the next batch and writes its intent, and another writes the last outcome (``_background``);
only this thread sends. What each answer means for each recipient: ``_fates``.

Two tries at once (a zombie and its retry): each claims the ledger before reading it, and
writes each intent before checking that no later claim exists, so a try either stops before
sending or the later one sees its intent and treats those recipients as perhaps sent.
"""

from __future__ import annotations

import heapq
import logging
import math
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from ..gateway import CascadeError, CascadeGatewayError, Message, Recipient
from ..gateway._wire import redact_url
from ..gateway.codec import Codec, HttpResponse, SendBatch
from ._background import Ahead, InOrder
from ._client_ids import is_derived
from ._errors import (
    CascadeLedgerError,
    CascadeSendStopped,
    CascadeSuperseded,
    LedgerInputChanged,
)
from ._fates import NOT_SENT, answer_rows, failure_fate, untracked_without_id
from ._records import (
    NOT_SENT_RESULT,
    BatchRecord,
    Entry,
    Fate,
    RecordName,
    Row,
    digest,
    intent_lines,
    outcome_lines,
)
from ._sources import Chunk
from ._store import Claim, Ledger

__all__ = ["LedgerInputChanged", "LedgerSender", "Totals", "progress_line"]


class BatchClient(Protocol):
    codec: Codec

    def send_request(self, batch: SendBatch) -> HttpResponse: ...


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
    """Accepted under a client id the gateway had from an earlier request of this send."""
    id_reused: int = 0
    """Rejected: their client id was used by an earlier send, so nobody was messaged now."""
    ids: list[str] = field(default_factory=list)
    keep_ids: bool = True
    """Collect accepted ids in ``ids`` (inline sends return them; a file's send keeps them in
    the ledger only: a million ids would be tens of MiB in the worker)."""
    untracked_sample: list[str] = field(default_factory=list)
    id_reused_sample: list[str] = field(default_factory=list)
    first_errors: list[str] = field(default_factory=list)
    _results: dict[int, list[dict[str, Any]]] = field(default_factory=dict, repr=False)

    def results(self) -> list[dict[str, Any]]:
        """Per recipient, in batch order (with ``keep_ids``: inline sends, which are small)."""
        return [r for batch in sorted(self._results) for r in self._results[batch]]

    def counts(self) -> dict[str, int]:
        return {"total": self.total, "accepted": self.accepted, "already_sent": self.already,
                "rejected": self.rejected, "id_reused": self.id_reused,
                "untracked": self.untracked, "requests": self.requests}  # fmt: skip

    def add(self, rec: BatchRecord) -> None:
        self.total += len(rec.entries)
        if self.keep_ids:
            self._results[rec.batch] = list(rec.results())
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
        who = entry.phone or f"base {entry.base}"
        if row.fate is Fate.ACCEPTED and row.id_message:
            self.accepted += 1
            self.already += row.already
            if self.keep_ids or len(self.ids) < 5:
                self.ids.append(row.id_message)
        elif row.fate is Fate.UNTRACKED:
            self.untracked += 1
            _sample(self.untracked_sample, who, 20)
        elif row.fate is Fate.REJECTED:
            self.rejected += 1
            if row.already:
                self.id_reused += 1
                _sample(self.id_reused_sample, who, 20)
            elif row.error and len(self.first_errors) < 3:
                self.first_errors.append(f"{who}: {row.error}")


def _sample(into: list[str], who: str, limit: int) -> None:
    if len(into) < limit:
        into.append(who)


@dataclass(slots=True)
class _Planned:
    number: int
    batch: SendBatch
    entries: list[Entry]
    by_index: dict[int, Message]
    fingerprint: str
    intent_at: float | None = None
    """When the planner wrote the first intent (None: not written ahead)."""


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
        run_key: tuple[object, ...] | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], object] | None = None,
        progress_every: float = 10.0,
    ) -> None:
        self.ledger = ledger
        self.client = client
        self.codec = client.codec
        self.window = repeat_window
        self.log = log
        self.total_hint = total_hint
        self.max_attempts = max_attempts
        self.try_number = try_number
        self.run_key = run_key
        """The task instance's key: client ids derived from it are this send's own."""
        self.clock = clock
        self.progress_every = progress_every
        self.totals = Totals(keep_ids=keep_ids)
        self._stopping = threading.Event()
        self._sleep = sleep or self._stopping.wait
        self._margin = min(1.0, max(0.1 * repeat_window, 0.05))
        """A resend waits a window and this much after the last copy's recorded time."""
        self._queue: list[_Pending] = []
        self._requests: dict[int, int] = {}  # requests per batch in this try
        self._claim = Claim(0, "")
        self._planner: Ahead[_Planned] | None = None
        self._writes = InOrder()
        self._started = 0.0
        self._next_progress = 0.0
        self._carried = 0  # recipients of batches an earlier try finished
        self._mine = 0  # recipients this try sent a first request to

    def stop(self) -> None:
        """Send nothing more (Airflow's ``on_kill``; any thread): the request under way ends,
        its answer is recorded, and the send raises ``CascadeSendStopped``."""
        self._stopping.set()

    # -- the whole send ---------------------------------------------------------------------
    def run(self, chunks: Iterable[Chunk]) -> Totals:
        self._claim = self.ledger.claim(try_number=self.try_number, host=socket.gethostname(),
                                        pid=os.getpid(), at=round(self.clock(), 3))  # fmt: skip
        existing = self.ledger.batches()  # read after the claim: see the module's docstring
        self._started = self.clock()
        self._next_progress = self._started + self.progress_every
        planner = self._planner = Ahead(self._plan(chunks, frozenset(existing)))
        try:
            for planned in planner:
                self._batch(planned, existing.pop(planned.number, None))
                self._progress()
            self._drain()
            self._writes.flush()
        finally:
            self._planner = None
            self._wind_down(planner)
        if existing:
            raise LedgerInputChanged(
                f"the ledger holds batches {sorted(existing)[:5]} that this try did not plan: "
                "the input changed since an earlier try"
            )
        return self.totals

    def _wind_down(self, planner: Ahead[_Planned]) -> None:
        """Whatever stopped the send: the batch planned ahead is recorded as not sent and
        every outcome is written, or its failure logged (never hiding the first error)."""
        left = planner.close()
        try:
            if left is not None and left.intent_at is not None:
                self._not_sent(left.number, 1, range(len(left.entries)))
            self._writes.flush()
        except CascadeLedgerError as exc:
            self.log.error("Cascade send: the ledger could not take the last records: %s", exc)
        finally:
            self._writes.close()

    def _plan(self, chunks: Iterable[Chunk], recorded: frozenset[int]) -> Iterator[_Planned]:
        """Every batch with its entries and fingerprint, its intent written ahead where a
        request that then never leaves costs nothing but a resend under the same client ids
        (not over GET, where perhaps-sent means never resent; not for a recorded batch)."""
        number = 0
        for chunk in chunks:
            globals_ = [i for i, _ in chunk]
            by_index = dict(chunk)
            for batch in self.codec.send_batches([m for _, m in chunk]):
                number += 1
                entries = _entries(batch, globals_)
                planned = _Planned(number, batch, entries, by_index, digest(entries))
                if batch.retry_safe and number not in recorded:
                    planned.intent_at = self._intent(
                        number, 1, entries, range(len(entries)), planned.fingerprint
                    )
                yield planned

    def _batch(self, planned: _Planned, names: list[str] | None) -> None:
        self.totals.batches += 1
        record = self._record(planned, names)
        if record.attempts == 0:  # a new batch: every entry goes
            self._mine += len(record.entries)
            sent = list(range(len(record.entries)))
            self._request(record, planned.batch, sent, written=planned.intent_at)
        else:
            self.totals.resumed_batches += 1
            self._carried += len(record.entries)
            self._settle(record)
        self._next_step(record, planned.by_index)

    def _record(self, planned: _Planned, names: list[str] | None) -> BatchRecord:
        fresh = BatchRecord(planned.number, planned.entries, planned.fingerprint)
        if not names:
            return fresh
        record = self.ledger.load(planned.number, names)
        if record.entries and record.digest != planned.fingerprint:
            raise LedgerInputChanged(
                f"batch {planned.number} differs from the one an earlier try sent: the input "
                "changed since (same run, task and map index). Use a new run, or the same input"
            )
        if not record.entries and record.attempts:
            self.log.warning(
                "Cascade send: batch %d has an unreadable intent but a recorded answer: its "
                "request left; its recipients are taken from this try's plan", planned.number,
            )  # fmt: skip
            record.entries, record.digest = planned.entries, planned.fingerprint
        return record if record.entries else fresh

    def _next_step(self, record: BatchRecord, messages: dict[int, Message]) -> None:
        if record.indexes(Fate.IN_FLIGHT, Fate.UNSENT):
            last = record.last_sent_at
            now = self.clock()
            if not math.isfinite(last) or last > now:  # another worker's clock ahead of ours
                last = now
            not_before = last + self.window + self._margin
            heapq.heappush(self._queue, _Pending(not_before, record.batch, record, messages))
        else:
            self.totals.add(record)

    def _drain(self) -> None:
        """Resend what may not have arrived, each no sooner than a window after its last copy."""
        while self._queue:
            pending = heapq.heappop(self._queue)
            record = pending.record
            todo = record.indexes(Fate.IN_FLIGHT, Fate.UNSENT)
            wait = pending.not_before - self.clock()
            if wait > 0:
                self.log.info(
                    "Cascade send: batch %d had no usable answer; resending %d recipients under "
                    "the same client ids in %.1f s (the gateway refuses a repeat within %.1f s)",
                    record.batch, len(todo), wait, self.window,
                )  # fmt: skip
                self._sleep(wait)
            tries = self._requests.get(record.batch, 0)
            if tries >= self.max_attempts:
                raise CascadeError(
                    f"batch {record.batch}: no usable answer after {tries} requests; its "
                    f"recipients are in the ledger ({redact_url(self.ledger.url)}) and the next "
                    "try resends "
                    "them under the same client ids"
                )
            self.totals.resent += len(todo)
            positions = _positions(record)
            for batch in self.codec.send_batches(_restricted(record, todo, pending.messages)):
                self._request(record, batch, [positions[key] for key in _keys(batch)])
            self._next_step(record, pending.messages)

    # -- one request ------------------------------------------------------------------------
    def _request(
        self, record: BatchRecord, batch: SendBatch, sent: list[int], *,
        written: float | None = None,
    ) -> None:  # fmt: skip
        """Intent, send, read, outcome: one request of a batch. ``written``: when the planner
        wrote this request's intent."""
        attempt = record.attempts + 1
        first = record.attempts == 0
        if self._stopping.is_set():
            if written is not None:
                self._not_sent(record.batch, attempt, sent)
            raise CascadeSendStopped(self.ledger.url, "the task was asked to stop; the next "
                                     "try resumes from the ledger")  # fmt: skip
        # A resume waits a window after the intent's time: an intent written ahead is written
        # again when its request leaves much later (after a slow answer).
        if written is None or self.clock() - written > self._margin / 2:
            self._intent(record.batch, attempt, record.entries, sent, record.digest)
        self._writes.check()  # a failed outcome write stops the send before the next request
        record.attempts, record.last_sent_at = attempt, self.clock()
        self.totals.requests += 1
        self._requests[record.batch] = self._requests.get(record.batch, 0) + 1
        result, error = "answered", None
        if self._planner is not None:
            self._planner.start()  # the next batch is planned while this request is away
        try:
            answers = self.codec.parse_send(batch, self.client.send_request(batch))
        except CascadeError as exc:
            failed = failure_fate(exc)
            if failed is None:
                if isinstance(exc, CascadeGatewayError):  # the whole request refused
                    unsent = {i: Row(Fate.UNSENT, None, exc.text) for i in sent}
                    self._outcome(record, attempt, "refused", exc.text, unsent, wait=True)
                raise
            result, fate = failed
            error = getattr(exc, "text", None) or str(exc)
            rows = {i: Row(fate, None, error) for i in sent}
            self.log.warning(
                "Cascade send: batch %d (%d recipients) %s: %s", record.batch, len(sent),
                "may have reached the gateway" if fate is Fate.IN_FLIGHT else "was not sent",
                error,
            )  # fmt: skip
        else:
            rows = answer_rows(record.entries, sent, answers, first, self._own_id)
        rows.update(untracked_without_id(record.entries, rows))
        self._outcome(record, attempt, result, error, rows)

    def _own_id(self, entry: Entry) -> bool:
        key = self.run_key
        return (
            key is not None
            and entry.cid is not None
            and is_derived(key, entry.message, entry.phone, entry.cid)
        )

    def _intent(
        self, number: int, attempt: int, entries: list[Entry], sent: Sequence[int], fp: str
    ) -> float:
        """The intent, durable before the request leaves; then the ownership check. Returns
        the intent's time."""
        name = RecordName(number, attempt, str(self._claim), "intent")
        now = self.clock()
        self.ledger.write_record(
            name, intent_lines(number, attempt, now, entries, sent, fp, try_=self.try_number)
        )
        owner = self.ledger.owner()
        if owner != self._claim:
            self._not_sent(number, attempt, sent)
            raise CascadeSuperseded(
                self.ledger.url, f"a later try (claim {owner}) owns this ledger; this try "
                f"(claim {self._claim}) sends nothing more",
            )  # fmt: skip
        return now

    def _not_sent(self, number: int, attempt: int, sent: Iterable[int]) -> None:
        """An intent whose request never left: the next try need not wait a window for it."""
        rows = [(i, Row(Fate.UNSENT, None, NOT_SENT)) for i in sent]
        name = RecordName(number, attempt, str(self._claim), "outcome")
        self.ledger.write_record(
            name, outcome_lines(number, attempt, self.clock(), NOT_SENT_RESULT, rows, NOT_SENT)
        )

    def _outcome(
        self, record: BatchRecord, attempt: int, result: str, error: str | None,
        rows: dict[int, Row], *, wait: bool = False,
    ) -> None:  # fmt: skip
        """Rows into the record now; the outcome written while the next request is away."""
        now = self.clock()
        record.update(rows)
        record.last_sent_at = now  # the gateway had the request by now at the latest
        name = RecordName(record.batch, attempt, str(self._claim), "outcome")

        def write() -> None:
            try:
                self.ledger.write_record(
                    name, outcome_lines(record.batch, attempt, now, result, rows.items(), error)
                )
            except CascadeLedgerError:
                ids = [r.id_message for r in rows.values() if r.id_message]
                if ids:  # the only other copy of these ids is the gateway's
                    self.log.error(
                        "Cascade send: batch %d was accepted but its outcome could not be "
                        "recorded; the gateway's ids: %s", record.batch, ",".join(ids),
                    )  # fmt: skip
                raise

        if wait:
            write()
        else:
            self._writes.submit(write)

    def _settle(self, record: BatchRecord) -> None:
        """A resumed batch's perhaps-sent recipients without client ids: untracked, in a
        record of its own, so no attempt's outcome is ever written over."""
        rows = {i: record.rows[i] for i in record.indexes(Fate.IN_FLIGHT)}
        settled = untracked_without_id(record.entries, rows)
        if not settled:
            return
        attempt = max(record.attempts, 1)
        name = RecordName(record.batch, attempt, str(self._claim), "settled")
        lines = outcome_lines(record.batch, attempt, self.clock(), "untracked", settled.items())
        self.ledger.write_record(name, lines)
        record.update(settled)

    def _progress(self) -> None:
        now = self.clock()
        if now < self._next_progress:
            return
        self._next_progress = now + self.progress_every
        self.log.info(
            "Cascade send: %s",
            progress_line(self._carried, self._mine, self.total_hint, now - self._started,
                          self.totals),
        )  # fmt: skip


def progress_line(
    carried: int, mine: int, total: int | None, elapsed: float, totals: Totals
) -> str:
    """Done, rate and time left; the rate counts only what this try sent (recipients an
    earlier try finished are done, not fast)."""
    done = carried + mine
    rate = mine / elapsed if elapsed > 0 else 0.0
    head = f"{done:,} recipients"
    if total:
        share = min(done / total, 1.0)
        left = f"about {_duration((total - done) / rate)} left" if rate > 0 else "time left unknown"
        head = f"{done:,}/{total:,} recipients ({share:.0%}), {left}"
    return (f"{head}, {rate:,.0f}/s; accepted {totals.accepted:,}, rejected {totals.rejected:,}, "
            f"untracked {totals.untracked:,}, {totals.requests:,} requests")  # fmt: skip


def _duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


# -- requests and the planned entries ---------------------------------------------------------
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
