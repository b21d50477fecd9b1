"""Waiting on a ledger: the ids come from its send records one batch at a time, the states
and prices go beside it (``wait/<batch>.jsonl``), and only counts travel through XCom and
trigger events. A round is a generator (ids out, states in) so the blocking sensor and the
asyncio trigger drive the same steps; file reads and writes happen inside the steps, which
the trigger runs in a thread."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable, Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..gateway import CascadeError, MessageState, MessageStatus
from ._campaigns import campaign_waited
from ._records import Fate
from ._store import REF_KEY, WAIT_DIR, Ledger, LedgerStorageUnavailable

Round = Generator[list[str], dict[str, MessageState], "Progress"]
SUMMARY = f"{WAIT_DIR}/summary.json"
UNTRACKED_SAMPLE = 20


def is_reference(value: Any) -> bool:
    return isinstance(value, dict) and REF_KEY in value


@dataclass
class Progress:
    """Counts after a round: small enough for a log line, an XCom value or a trigger event."""

    total: int = 0
    final: int = 0
    refused: int = 0
    by_state: Counter[str] = field(default_factory=Counter)
    by_channel: dict[str, Decimal] = field(default_factory=dict)
    untracked: int = 0
    """Recipients sent, or perhaps sent, without an id to poll: never in ``total``, their
    cost unknown (the gateway reports prices only with a status)."""
    untracked_sample: list[str] = field(default_factory=list)
    by_channel_state: dict[str, Counter[str]] = field(default_factory=dict)
    """Final messages by each channel's own state; ``send`` (not sent on it) left out."""

    def merge(self, other: Progress) -> Progress:
        """Counts over several ledgers (the shards of one campaign)."""
        self.total += other.total
        self.final += other.final
        self.refused += other.refused
        self.untracked += other.untracked
        room = UNTRACKED_SAMPLE - len(self.untracked_sample)
        self.untracked_sample += other.untracked_sample[: max(room, 0)]
        self.by_state.update(other.by_state)
        for channel, states in other.by_channel_state.items():
            self.by_channel_state.setdefault(channel, Counter()).update(states)
        for channel, price in other.by_channel.items():
            self.by_channel[channel] = self.by_channel.get(channel, Decimal(0)) + price
        return self

    @property
    def done(self) -> bool:
        return self.final >= self.total

    def add(self, state: MessageState) -> None:
        self.total += 1
        if not state.is_final:
            return
        self.final += 1
        self.by_state[state.status.value] += 1
        for channel, own in state.channel_states.items():
            if own and own != "send":
                self.by_channel_state.setdefault(channel.value, Counter())[own] += 1
        for channel, price in state.prices.items():
            if price:
                self.by_channel[channel.value] = (
                    self.by_channel.get(channel.value, Decimal(0)) + price
                )

    def price_totals(self) -> dict[str, Any]:
        grand = sum(self.by_channel.values(), Decimal(0))
        return {"by_channel": {c: str(v) for c, v in sorted(self.by_channel.items())},
                "total": str(grand)}  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        channels = {c: dict(n) for c, n in self.by_channel_state.items()}
        return {"total": self.total, "final": self.final, "by_state": dict(self.by_state),
                "price_totals": self.price_totals(), "untracked": self.untracked,
                "untracked_sample": self.untracked_sample,
                "by_channel_state": channels}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Progress:
        by_channel = (data.get("price_totals") or {}).get("by_channel") or {}
        channels = data.get("by_channel_state") or {}
        return cls(
            total=int(data["total"]), final=int(data["final"]),
            by_state=Counter(data.get("by_state") or {}),
            by_channel={c: Decimal(v) for c, v in by_channel.items()},
            untracked=int(data.get("untracked") or 0),
            untracked_sample=[str(x) for x in data.get("untracked_sample") or []],
            by_channel_state={c: Counter(n) for c, n in channels.items()},
        )  # fmt: skip


def _step(steps: Round, value: dict[str, MessageState] | None) -> tuple[bool, Any]:
    """One step of a round, for a thread: a StopIteration cannot cross into an asyncio
    future (the awaiting coroutine would never resume), so the end comes back as a value."""
    try:
        return False, steps.send(value)  # type: ignore[arg-type]  # None starts the round
    except StopIteration as stop:
        return True, stop.value


class LedgerWatch:
    """States of every message a ledger accepted, kept beside it."""

    def __init__(self, ref: dict[str, Any] | str) -> None:
        url = ref[REF_KEY] if isinstance(ref, dict) else ref
        self.ledger = Ledger(str(url))
        self._done: dict[int, Progress] = {}
        """Counts of batches whose every message is final: never read again in later rounds."""

    @property
    def states_url(self) -> str:
        return f"{self.ledger.url}/{WAIT_DIR}"

    def ids(self, batch: int, names: list[str]) -> list[str]:
        """The ids the gateway gave this batch (a stored base's phones included)."""
        return self._read(batch, names)[0]

    def _read(self, batch: int, names: list[str]) -> tuple[list[str], list[str]]:
        """The batch's ids, and who of it is untracked (phone, or the stored base)."""
        record = self.ledger.load(batch, names)
        out: list[str] = []
        untracked: list[str] = []
        for i, row in record.rows.items():
            entry = record.entries[i] if i < len(record.entries) else None
            for phone, member in row.members or [("", row)]:
                if member.fate is Fate.ACCEPTED and member.id_message:
                    out.append(member.id_message)
                elif member.fate is Fate.UNTRACKED:
                    who = phone or (entry.phone if entry else None) or (entry and entry.base)
                    untracked.append(str(who or f"batch {batch} row {i}"))
        return list(dict.fromkeys(out)), untracked

    def known(self, batch: int) -> dict[str, MessageState]:
        lines = self.ledger.read_lines(f"{WAIT_DIR}/{batch:07d}.jsonl")
        return {s.id_message: s for s in (MessageState.from_dict(json.loads(x)) for x in lines)}

    def save(self, batch: int, states: dict[str, MessageState]) -> None:
        self.ledger.write_lines(
            f"{WAIT_DIR}/{batch:07d}.jsonl",
            (json.dumps(s.to_dict(), ensure_ascii=False) for s in states.values()),
        )

    def round(self) -> Round:
        """One pass over every batch with messages not yet final: yields the ids to ask
        about, takes their states, records them; returns the counts over the whole send."""
        progress = Progress()
        for batch, names in self.ledger.batches().items():
            if batch in self._done:
                progress.merge(self._done[batch])
                continue
            ids, untracked = self._read(batch, names)
            known = self.known(batch) if ids else {}
            todo = [i for i in ids if not (i in known and known[i].is_final)]
            if todo:
                answered = yield todo
                progress.refused += sum(1 for i in todo if i not in (answered or {}))
                if answered:
                    known.update({i: s for i, s in answered.items() if i in ids})
                    self.save(batch, known)
            counts = Progress(untracked=len(untracked),
                              untracked_sample=untracked[:UNTRACKED_SAMPLE])  # fmt: skip
            for i in ids:
                state = known.get(i)
                if state is None:
                    counts.total += 1
                else:
                    counts.add(state)
            progress.merge(counts)
            if ids and counts.done:
                self._done[batch] = counts
        self.ledger.write_json(SUMMARY, progress.to_json())
        campaign_waited(self.ledger, progress.to_json())
        return progress

    def poll(self, get_states: Callable[[list[str]], dict[str, MessageState]]) -> Progress:
        """A round driven by a blocking client."""
        steps = self.round()
        try:
            with self._storage():
                todo = next(steps)
                while True:
                    todo = steps.send(get_states(todo))
        except StopIteration as stop:
            result: Progress = stop.value
            return result

    async def apoll(
        self, get_states: Callable[[list[str]], Awaitable[dict[str, MessageState]]]
    ) -> Progress:
        """A round driven by the asyncio client; file work runs off the event loop."""
        import asyncio

        steps = self.round()
        with self._storage():
            finished, value = await asyncio.to_thread(_step, steps, None)
        while not finished:
            answered = await get_states(value)
            with self._storage():
                finished, value = await asyncio.to_thread(_step, steps, answered)
        result: Progress = value
        return result

    @contextmanager
    def _storage(self) -> Iterator[None]:
        """A failure of the ledger's storage (unreachable, refused, ...) as a typed error
        naming the ledger; the provider's own errors pass as they are."""
        try:
            yield
        except (CascadeError, StopIteration):
            raise
        except Exception as exc:
            raise LedgerStorageUnavailable(
                f"cannot read or write ledger {self.ledger.url}: {type(exc).__name__}: {exc}"
            ) from None

    def stored_progress(self) -> Progress | None:
        """The counts the last round wrote (what a task reads after its trigger finished)."""
        data = self.ledger.read_json(SUMMARY)
        return None if data is None else Progress.from_json(data)

    def undelivered(self, limit: int = 5) -> list[str]:
        """Some ids that ended not delivered or expired (for ``fail_on_undelivered``)."""
        bad = {MessageStatus.NOT_DELIVER, MessageStatus.EXPIRED}
        out: list[str] = []
        for batch in self.ledger.batches():
            out += [i for i, s in self.known(batch).items() if s.status in bad][: limit - len(out)]
            if len(out) >= limit:
                break
        return out
