"""The ledger's record format (JSON Lines, versioned) and how a batch's records fold into
what each recipient needs next. Pure functions: the store reads and writes the bytes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, NamedTuple

FORMAT = "cascade-ledger"
VERSION = 1
NOT_SENT_RESULT = "not_sent"
"""An outcome's result when the intent's request certainly never left (the try stopped)."""


class Fate(str, Enum):
    """What a recipient of a batch needs next, after folding every record of the batch."""

    ACCEPTED = "accepted"
    """The gateway holds the message and gave its ``id_message``: poll it, never resend."""
    UNTRACKED = "untracked"
    """Sent, or perhaps sent, without an id to poll: never resent, counted and named."""
    REJECTED = "rejected"
    """The gateway refused this recipient (stop-list, number, funds): final, not resent."""
    UNSENT = "unsent"
    """Certainly not at the gateway (never sent, or the whole request was refused)."""
    IN_FLIGHT = "in_flight"
    """Perhaps at the gateway (answer lost, row missing, repeat refusal): resend only under
    the same client id, and never as a copy of a request younger than the repeat window."""

    @property
    def settled(self) -> bool:
        return self in (Fate.ACCEPTED, Fate.UNTRACKED, Fate.REJECTED)


class Entry(NamedTuple):
    """One recipient (or one stored base) of a batch, as planned before its first request.
    A named tuple: a million are built per million recipients, at a fifth of the cost of a
    frozen dataclass."""

    message: int
    phone: str | None = None
    cid: str | None = None
    base: str | None = None

    def to_json(self, index: int) -> dict[str, Any]:
        out: dict[str, Any] = {"i": index, "m": self.message}
        if self.phone is not None:
            out["phone"] = self.phone
        if self.cid is not None:
            out["cid"] = self.cid
        if self.base is not None:
            out["base"] = self.base
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entry:
        return cls(int(data["m"]), data.get("phone"), data.get("cid"), data.get("base"))


@dataclass(slots=True)
class Row:
    """The latest word on one entry."""

    fate: Fate
    id_message: str | None = None
    error: str | None = None
    already: bool = False
    """The gateway said it had this client id from an earlier request."""
    members: list[tuple[str, Row]] | None = None
    """For a stored base: one row per phone the gateway found in it."""


def digest(entries: Sequence[Entry]) -> str:
    """Fingerprint of a batch's plan: a resumed try must plan the very same batch."""
    text = "".join([f"{e.message}\x1f{e.phone}\x1f{e.cid}\x1f{e.base}\x1e" for e in entries])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def entry_line(index: int, e: Entry) -> str:
    """``_dump(e.to_json(index))``, formatted directly in the usual case (digits only: nothing
    to escape): a line per recipient of a million-recipient send."""
    phone, cid = e.phone, e.cid
    if e.base is None and phone is not None and phone.isdigit():
        if cid is None:
            return f'{{"i":{index},"m":{e.message},"phone":"{phone}"}}'
        if cid.isdigit():
            return f'{{"i":{index},"m":{e.message},"phone":"{phone}","cid":"{cid}"}}'
    return _dump(e.to_json(index))


def intent_lines(
    batch: int,
    attempt: int,
    at: float,
    entries: Sequence[Entry],
    indexes: Sequence[int],
    fingerprint: str | None = None,
    lines: list[str] | None = None,
    **meta: Any,
) -> Iterator[str]:
    """Written and closed before the request leaves: the trailer line proves it is whole."""
    head = {"record": "intent", "format": FORMAT, "v": VERSION, "batch": batch,
            "attempt": attempt, "at": round(at, 3), "count": len(indexes), **meta}  # fmt: skip
    if attempt == 1:
        head["digest"] = fingerprint or digest(entries)
    yield _dump(head)
    if lines is not None and len(indexes) == len(lines):  # every entry, formatted already
        yield from lines
    else:
        yield from [entry_line(i, entries[i]) for i in indexes]
    yield _dump({"end": len(indexes)})


def outcome_lines(
    batch: int,
    attempt: int,
    at: float,
    result: str,
    rows: Iterable[tuple[int, Row]],
    error: str | None = None,
) -> Iterator[str]:
    """Every row carries its fate; ``result`` (answered, lost, refused, repeat) says why."""
    yield _outcome_head(batch, attempt, at, result, error)
    n = 0
    for i, row in rows:
        if row.members is None and not row.already and row.error is None:
            ident = row.id_message
            if not ident:
                yield f'{{"i":{i},"fate":"{row.fate.value}"}}'
                n += 1
                continue
            if ident.isdigit():  # the usual accepted row: formatted directly
                yield f'{{"i":{i},"fate":"{row.fate.value}","id":"{ident}"}}'
                n += 1
                continue
        for phone, member in row.members if row.members is not None else [(None, row)]:
            line: dict[str, Any] = {"i": i, "fate": member.fate.value}
            if phone is not None:
                line["phone"] = phone
            if member.id_message:
                line["id"] = member.id_message
            if member.error:
                line["error"] = member.error
            if member.already:
                line["already"] = True
            yield _dump(line)
            n += 1
        if row.members == []:
            yield _dump({"i": i, "fate": row.fate.value, "members": 0, "error": row.error})
            n += 1
    yield _dump({"end": n})


def accepted_lines(
    batch: int, attempt: int, at: float, result: str, ids: Iterable[tuple[int, str]]
) -> list[str]:
    """``outcome_lines`` for rows all accepted with ids of ASCII digits (the usual answer),
    formatted in one pass: it stands between an answer and the next request."""
    lines = [_outcome_head(batch, attempt, at, result)]
    lines += [f'{{"i":{i},"fate":"accepted","id":"{ident}"}}' for i, ident in ids]
    lines.append(f'{{"end":{len(lines) - 1}}}')
    return lines


def _outcome_head(
    batch: int, attempt: int, at: float, result: str, error: str | None = None
) -> str:
    head: dict[str, Any] = {"record": "outcome", "v": VERSION, "batch": batch,
                            "attempt": attempt, "at": round(at, 3), "result": result}  # fmt: skip
    if error:
        head["error"] = error
    return _dump(head)


@dataclass
class BatchRecord:
    """Everything the ledger knows of one batch, folded in attempt order."""

    batch: int
    entries: list[Entry] = field(default_factory=list)
    digest: str = ""
    rows: dict[int, Row] = field(default_factory=dict)
    attempts: int = 0
    last_sent_at: float = 0.0
    lines: list[str] | None = field(default=None, repr=False)
    """The entries' intent lines, formatted while the previous request was on the wire."""
    intent_at: float | None = None
    """When the first intent was written ahead of the request (in memory only)."""

    def fate(self, index: int) -> Fate:
        row = self.rows.get(index)
        return Fate.UNSENT if row is None else row.fate

    def indexes(self, *fates: Fate) -> list[int]:
        rows, unsent = self.rows, Fate.UNSENT in fates
        return [
            i
            for i in range(len(self.entries))
            if ((row := rows.get(i)) is None and unsent) or (row is not None and row.fate in fates)
        ]


def fold(batch: int, files: Sequence[tuple[str, list[str]]]) -> BatchRecord:
    """Fold a batch's files (name, lines), sorted by attempt, intent before outcome.

    An intent without its trailer was cut short before the request left: ignored. An intent
    whose outcome is missing or cut short means the request may have reached the gateway.
    """
    record = BatchRecord(batch)
    pending: list[int] | None = None  # entries of the last whole intent still without outcome
    before = 0.0  # when a request of the batch last reached the gateway, before this intent
    for _name, lines in files:
        parsed = _parse(lines)
        if parsed is None:
            continue  # cut short by a crash
        head, items = parsed
        if head["record"] == "intent":
            if head["attempt"] == 1 and not record.entries:
                record.entries = [Entry.from_json(x) for x in items]
                record.digest = head.get("digest", "")
            _close_in_flight(record, pending)
            pending = [int(x["i"]) for x in items]
            record.attempts = max(record.attempts, int(head["attempt"]))
            before, record.last_sent_at = record.last_sent_at, float(head["at"])
        elif head.get("result") == NOT_SENT_RESULT:
            pending = None  # the request never left: no copy at the gateway to wait out
            record.last_sent_at = before
        else:
            pending = None
            record.last_sent_at = max(record.last_sent_at, float(head["at"]))
            fresh: dict[int, Row] = {}
            for x in items:
                i = int(x["i"])
                row = Row(Fate(x["fate"]), x.get("id"), x.get("error"), bool(x.get("already")))
                if "phone" in x or "members" in x:  # a stored base, one line per phone in it
                    base = fresh.setdefault(i, Row(Fate.REJECTED, members=[]))
                    if "phone" in x:
                        assert base.members is not None
                        base.members.append((str(x["phone"]), row))
                        if row.fate is Fate.ACCEPTED or base.error is None:
                            base.fate, base.error = row.fate, row.error
                    else:
                        base.error = row.error
                else:
                    fresh[i] = row
            record.rows.update(fresh)
    _close_in_flight(record, pending)
    return record


def _close_in_flight(record: BatchRecord, pending: list[int] | None) -> None:
    for i in pending or ():
        record.rows[i] = Row(Fate.IN_FLIGHT, None, "no answer recorded (crash or lost answer)")


def _parse(lines: list[str]) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    try:
        records = json.loads("[" + ",".join([x for x in lines if x.strip()]) + "]")  # one call
    except ValueError:
        return None
    if len(records) < 2 or "end" not in records[-1] or "record" not in records[0]:
        return None
    items = records[1:-1]
    return (records[0], items) if records[-1]["end"] == len(items) else None


_dump = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
