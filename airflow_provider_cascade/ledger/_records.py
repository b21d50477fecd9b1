"""The ledger's record format (JSON Lines, versioned) and how a batch's records fold into
what each recipient needs next. Pure functions: the store reads and writes the bytes."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, NamedTuple

from ._errors import CascadeLedgerDamaged

FORMAT = "cascade-ledger"
VERSION = 2
"""2: record names carry the claim of the try that wrote them."""
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


def intent_lines(
    batch: int,
    attempt: int,
    at: float,
    entries: Sequence[Entry],
    indexes: Sequence[int],
    fingerprint: str | None = None,
    **meta: Any,
) -> Iterator[str]:
    """Written and closed before the request leaves: the trailer line proves it is whole."""
    head = {"record": "intent", "format": FORMAT, "v": VERSION, "batch": batch,
            "attempt": attempt, "at": round(at, 3), "count": len(indexes), **meta}  # fmt: skip
    if attempt == 1:
        head["digest"] = fingerprint or digest(entries)
    yield _dump(head)
    for i in indexes:
        yield _dump(entries[i].to_json(i))
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
    """Everything the ledger knows of one batch, folded in record order."""

    batch: int
    entries: list[Entry] = field(default_factory=list)
    digest: str = ""
    rows: dict[int, Row] = field(default_factory=dict)
    attempts: int = 0
    """The highest attempt any try recorded (0: no request of this batch ever left)."""
    last_sent_at: float = 0.0
    """When a copy of this batch was last perhaps at the gateway (a record's clock; may be
    another worker's: callers bound it by their own clock)."""

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

    def results(self) -> Iterator[dict[str, Any]]:
        """Per recipient (a stored base: per phone found in it), as inline sends report it."""
        for i, e in enumerate(self.entries):
            row = self.rows.get(i)
            if row is not None and row.members:
                for phone, member in row.members:
                    yield {"message_index": e.message, "phone": phone, "base": e.base,
                           "client_id_message": None, "id_message": member.id_message,
                           "fate": member.fate.value, "error": member.error,
                           "already_sent": member.already}  # fmt: skip
                continue
            yield {"message_index": e.message, "phone": e.phone, "base": e.base,
                   "client_id_message": e.cid, "id_message": row.id_message if row else None,
                   "fate": row.fate.value if row else "unsent",
                   "error": row.error if row and row.fate is not Fate.ACCEPTED else None,
                   "already_sent": bool(row and row.already)}  # fmt: skip

    def update(self, rows: dict[int, Row]) -> None:
        """Fold rows in, by the fate table (``_fates.merge``)."""
        from ._fates import merge

        known = self.rows
        for i, row in rows.items():
            known[i] = merge(known.get(i), row)


class RecordName(NamedTuple):
    """``<batch>.<attempt>.<claim>.<kind>.jsonl``: the claim (``<seq>-<token>``) is the try
    that wrote it, so two tries never write the same object."""

    batch: int
    attempt: int
    claim: str
    kind: str

    def __str__(self) -> str:
        return f"{self.batch:07d}.{self.attempt:03d}.{self.claim}.{self.kind}.jsonl"

    @property
    def order(self) -> tuple[int, str, int]:
        return self.attempt, self.claim, KINDS.index(self.kind)


KINDS = ("intent", "outcome", "settled")
_NAME = re.compile(r"(\d{7})\.(\d{3})\.(\d{6}-[0-9a-f]{8})\.(intent|outcome|settled)\.jsonl")


def parse_name(name: str) -> RecordName | None:
    match = _NAME.fullmatch(name)
    if match is None:
        return None
    return RecordName(int(match[1]), int(match[2]), match[3], match[4])


def fold(batch: int, files: Sequence[tuple[str, list[str]]]) -> BatchRecord:
    """Fold a batch's records (name, lines), in ``RecordName.order``.

    An intent without its trailer was cut short before the request left: ignored. A whole
    intent without the outcome of the same attempt and try means the request may have reached
    the gateway. An outcome or settled record proves its attempt left even where its intent is
    unreadable. Anything this version never writes raises ``CascadeLedgerDamaged``.
    """
    record = BatchRecord(batch)
    intents: dict[tuple[int, str], tuple[list[int], float]] = {}  # key -> (sent, time)
    answered: dict[tuple[int, str], bool] = {}  # key -> its request left
    for name, lines in files:
        parsed = _parse(lines)
        if parsed is None:
            continue  # cut short by a crash (or a full disk) while it was written
        head, items = parsed
        key = _key(name)
        kind = head.get("record")
        if head.get("v") != VERSION:
            raise CascadeLedgerDamaged("", f"written by ledger format {head.get('v')!r}, "
                                       f"this version reads {VERSION}", name)  # fmt: skip
        at = _time(head, name)
        record.attempts = max(record.attempts, _int(head.get("attempt"), name))
        if kind == "intent":
            if head.get("attempt") == 1 and not record.entries:
                record.entries = [_entry(x, name) for x in items]
                record.digest = str(head.get("digest", ""))
            intents[key] = ([_int(x.get("i"), name) for x in items], at)
        elif kind in ("outcome", "settled"):
            left = head.get("result") != NOT_SENT_RESULT
            answered[key] = answered.get(key, False) or left
            if left:
                record.last_sent_at = max(record.last_sent_at, at)
            record.update(_rows(items, name))
        else:
            raise CascadeLedgerDamaged("", f"unknown record kind {kind!r}", name)
    perhaps = Row(Fate.IN_FLIGHT, None, "no answer recorded (crash or lost answer)")
    for key, (sent, at) in intents.items():
        if answered.get(key, True):  # no outcome, or one that says it left
            record.last_sent_at = max(record.last_sent_at, at)
        if key not in answered:
            record.update(dict.fromkeys(sent, perhaps))
    return record


def _key(name: str) -> tuple[int, str]:
    parsed = parse_name(name.rsplit("/", 1)[-1])
    return (0, name) if parsed is None else (parsed.attempt, parsed.claim)


def _rows(items: list[dict[str, Any]], name: str) -> dict[int, Row]:
    rows: dict[int, Row] = {}
    for x in items:
        i = _int(x.get("i"), name)
        try:
            fate = Fate(x.get("fate"))
        except ValueError:
            raise CascadeLedgerDamaged("", f"unknown fate {x.get('fate')!r}", name) from None
        ident = x.get("id")
        if ident is not None and not (isinstance(ident, str) and ident.isdigit()):
            raise CascadeLedgerDamaged("", f"an id that is not digits: {str(ident)[:20]!r}", name)
        row = Row(fate, ident, x.get("error"), bool(x.get("already")))
        if "phone" in x or "members" in x:  # a stored base, one line per phone in it
            base = rows.setdefault(i, Row(Fate.REJECTED, members=[]))
            if "phone" in x:
                _check_accepted(row, name)
                assert base.members is not None
                base.members.append((str(x["phone"]), row))
                if row.fate is Fate.ACCEPTED or base.error is None:
                    base.fate, base.error = row.fate, row.error
            else:
                base.error = row.error
        else:
            _check_accepted(row, name)
            rows[i] = row
    return rows


def _check_accepted(row: Row, name: str) -> None:
    if row.fate is Fate.ACCEPTED and not row.id_message:
        raise CascadeLedgerDamaged("", "a recipient recorded accepted without an id", name)


def _entry(data: dict[str, Any], name: str) -> Entry:
    try:
        return Entry.from_json(data)
    except (KeyError, TypeError, ValueError):
        raise CascadeLedgerDamaged("", "an intent row without its message index", name) from None


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CascadeLedgerDamaged("", f"a count or index that is not a number: {value!r}", name)
    return value


def _time(head: dict[str, Any], name: str) -> float:
    """A record's time as written (another worker's clock); not finite: as late as can be,
    which the sender bounds by its own clock."""
    value = head.get("at")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CascadeLedgerDamaged("", f"a record time that is not a number: {value!r}", name)
    return float(value) if math.isfinite(value) else math.inf


def _parse(lines: list[str]) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    try:
        records = json.loads("[" + ",".join([x for x in lines if x.strip()]) + "]")  # one call
    except ValueError:
        return None
    if len(records) < 2 or not all(isinstance(x, dict) for x in records):
        return None
    if "end" not in records[-1] or "record" not in records[0]:
        return None
    items = records[1:-1]
    return (records[0], items) if records[-1]["end"] == len(items) else None


_dump = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
