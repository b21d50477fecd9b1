"""Recipients in, request-sized chunks of messages out, streamed: a list, a file of phones or
a file of messages never sits in memory whole. Each recipient gets its client id here."""

from __future__ import annotations

import csv
import json
import re
from array import array
from collections.abc import Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import chain, pairwise
from typing import Any
from zoneinfo import ZoneInfo

from ..gateway import CascadeValidationError, Message, Recipient, as_message
from ..gateway._checks import PHONE_PATTERN
from ..gateway._privacy import mask_phones_in, shown_phone
from ..gateway._timefmt import time_send_at
from ..gateway.codec import redact_url
from ._client_ids import client_id_maker
from ._files import (
    MAX_LINE,
    READ_BLOCK,
    base_name,
    checked_lines,
    is_gzip,
    numbered_lines,
    open_text,
    text_encoding,
)
from ._store import storage_path

Chunk = list[tuple[int, Message]]
"""(message index, message holding at most ``max_recipients`` recipients) pairs for one request."""

PAST_TOLERANCE = timedelta(minutes=5)


class ClientIds:
    """Client ids given in the input and where each was given, in flat arrays (16 bytes a
    recipient: 16 MB for a million, against about 100 MB for a set of strings); sorted once
    at the end to find repeats, then read once more to name their places."""

    def __init__(self) -> None:
        self.ids = array("q")
        self.places = array("q")
        self.where: tuple[str, str | None] = ("client_id_message", None)

    def add(self, cid: int, high: int, n: int) -> None:
        """``high``: the message index, or the line of a message read from a file (0 for a
        recipients file); ``n``: the item in the message, or the recipient's line."""
        self.ids.append(cid)
        self.places.append(high << 32 | n)

    def check(self) -> None:
        if len(self.ids) < 2:
            return
        ordered = sorted(self.ids)
        repeated = {a for a, b in pairwise(ordered) if a == b}
        del ordered
        if not repeated:
            return
        first: dict[int, int] = {}
        for cid, place in zip(self.ids, self.places, strict=True):
            if cid in repeated:
                if cid in first:
                    raise self._error(cid, first[cid], place)
                first[cid] = place

    def _error(self, cid: int, earlier: int, later: int) -> CascadeValidationError:
        field, url = self.where

        def at(place: int) -> str:
            high, n = place >> 32, place & 0xFFFFFFFF
            if url is None:
                return f"item {n}" if field == "phones" else f"message[{high}] item {n}"
            return f"line {high}, phones item {n}" if high else f"line {n}"

        head = f"{url} {at(later)}" if url is not None else at(later)
        if url is None and field != "phones":
            field = f"messages[{later >> 32}].phones"  # the message of the later recipient
        return CascadeValidationError(
            field,
            f"{head}: client_id_message {cid} is also given at {at(earlier)}; the gateway "
            "keeps one message per client id, so the later recipient would not be messaged. "
            "Give each recipient its own id, or leave the column out and let the provider "
            "derive them",
        )


@dataclass
class Plan:
    """How recipients become chunks: client ids, repeats, the request size."""

    run_key: tuple[object, ...]
    max_recipients: int
    client_ids: bool = True
    allow_repeats: bool = False
    derive_ids: bool = True
    """False for a dry run: check everything, derive nothing (client ids cost a hash each)."""
    check_ids: bool = False
    """Collect given client ids (the check before the first request): a repeat anywhere in
    the input is refused before anything is sent (:meth:`check_client_ids`)."""
    mask_phones: bool = False
    """Phones in samples and errors as :func:`~..gateway._privacy.shown_phone` shows them."""
    repeats_skipped: int = 0
    samples: list[str] = field(default_factory=list)
    given_ids: ClientIds = field(default_factory=ClientIds)

    def check_client_ids(self) -> None:
        """Every given client id once in the whole input: the gateway keeps one message per
        client id, so a repeat in a later request would be reported as sent to someone who
        was not messaged."""
        self.given_ids.check()

    def recipients(
        self, index: int, raw: Iterable[Any], where: str, source: FileRows | None = None
    ) -> Iterator[Recipient]:
        """Validated recipients of message ``index`` with client ids; repeats dropped unless
        allowed (a person listed three times is messaged and billed once). Errors name the
        item (``item 3``), the file and line when ``raw`` is a :class:`FileRows`, or the
        line of the message when it came from ``source`` (a file of messages)."""
        rows = raw if isinstance(raw, FileRows) else None
        if self.check_ids:
            named = rows or source
            self.given_ids.where = (where, named.url if named is not None else None)
        try:
            yield from self._recipients(index, raw, where, source, rows)
        finally:  # a file left early (an error, a closed send) is closed now, not at exit
            if rows is not None:
                close = getattr(rows.items, "close", None)
                if close is not None:
                    close()

    def _recipients(
        self, index: int, raw: Iterable[Any], where: str, source: FileRows | None,
        rows: FileRows | None,
    ) -> Iterator[Recipient]:  # fmt: skip
        seen: dict[int, int] = {}  # int keys: a third of the memory of str keys
        derive = self.client_ids and self.derive_ids
        make_cid = client_id_maker(*self.run_key, index) if derive else None
        for n, item in enumerate(raw, start=1):
            try:
                phone, cid = (item, None) if item.__class__ is str else _fields(item)
                if not (phone.__class__ is str and phone.isdigit() and phone.isascii()):
                    phone = Recipient(phone).phone  # the model's rule and its error text
            except CascadeValidationError as exc:
                raise self._refused(where, rows, n, exc) from None
            key = int("1" + phone)
            nth = seen.get(key, -1) + 1
            if nth and not self.allow_repeats:
                self.repeats_skipped += 1
                if len(self.samples) < 5:
                    self.samples.append(shown_phone(phone, self.mask_phones))
                continue
            if not self.client_ids and cid is not None:
                at = rows.where() if rows is not None else f"item {n}"
                raise CascadeValidationError(
                    f"{where}.client_id_message", f"{at}: the GET variant cannot carry client ids"
                )
            try:  # validated once, with its client id
                r = Recipient(phone, make_cid(phone, nth) if make_cid and cid is None else cid)
            except CascadeValidationError as exc:
                raise self._refused(where, rows, n, exc) from None
            seen[key] = nth
            if self.check_ids and cid is not None and r.client_id_message is not None:
                if rows is not None:
                    self.given_ids.add(int(r.client_id_message), 0, rows.line)
                else:
                    high = source.line if source is not None else index
                    self.given_ids.add(int(r.client_id_message), high, n)
            yield r

    def _refused(
        self, where: str, rows: FileRows | None, n: int, exc: CascadeValidationError
    ) -> CascadeValidationError:
        rule = mask_phones_in(exc.rule) if self.mask_phones else exc.rule
        field = f"{exc.field}: "
        if rows is not None:
            return CascadeValidationError(where, f"{rows.where()}: {field}{rule}")
        return CascadeValidationError(where, f"item {n}: {field}{rule}")

    def chunks(
        self, messages: Iterable[tuple[int, Message, Iterable[Recipient]]]
    ) -> Generator[Chunk, None, None]:
        """Pack messages (split when larger than a request) into request-sized chunks."""
        chunk: Chunk = []
        size = 0
        for index, template, recipients in messages:
            if template.bases:  # a base campaign: bases travel whole, with their own message
                if chunk:
                    yield chunk
                    chunk, size = [], 0
                yield [(index, template)]
                continue
            piece: list[Recipient] = []
            for r in recipients:
                piece.append(r)
                if size + len(piece) >= self.max_recipients:
                    chunk.append((index, replace(template, recipients=tuple(piece))))
                    yield chunk
                    chunk, size, piece = [], 0, []
            if piece:
                chunk.append((index, replace(template, recipients=tuple(piece))))
                size += len(piece)
        if chunk:
            yield chunk


def _fields(item: Any) -> tuple[Any, Any]:
    """(phone, client id) of one item as given: a phone, a mapping or a ``Recipient``."""
    if isinstance(item, Recipient):
        return item.phone, item.client_id_message
    if isinstance(item, Mapping):
        if len(item) > 1 or "phone" not in item:
            unknown = sorted(set(item) - {"phone", "client_id_message"})
            if unknown:
                raise CascadeValidationError(unknown[0], "unknown field (phone, client_id_message)")
        if not item.get("phone"):
            raise CascadeValidationError("phone", "is required")
        return str(item["phone"]), item.get("client_id_message") or None
    return item, None


def check_not_past(message: Message, tz: ZoneInfo, now: datetime, where: str) -> None:
    """A ``time_send`` well in the past means a late or backfilled run: the gateway would send
    at once, which is rarely what a scheduled campaign meant. Refuse it, saying so."""
    times = [("time_send", message.time_send)]
    times += [("base.time_send", b.time_send) for b in message.bases]
    for name, value in times:
        when = time_send_at(value, tz)
        if when is not None and when < now - PAST_TOLERANCE:
            shown = when.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
            raise CascadeValidationError(
                f"{where}{name}",
                f"{shown} is in the past (now {now.astimezone(tz):%Y-%m-%d %H:%M %Z}); the gateway "
                "would send at once. Give a future time, or none to send now",
            )


# -- files ----------------------------------------------------------------------------------
class FileRows:
    """Items of a file, streamed, with the physical line the current one began on: every
    error about an item names the file and that line. Iterating it iterates its reader
    directly (no call of a Python method per row of a million-row file)."""

    __slots__ = ("items", "line", "url")

    def __init__(self, url: str) -> None:
        self.url = redact_url(url)
        self.line = 0
        self.items: Iterator[Any] = iter(())

    def __iter__(self) -> Iterator[Any]:
        return self.items

    def __next__(self) -> Any:
        return next(self.items)

    def where(self) -> str:
        return f"{self.url} line {self.line}"


def _is_jsonl(url: str, first: str) -> bool:
    lower = base_name(url).lower()
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return True
    if lower.endswith(".csv"):
        return False
    return first.lstrip().startswith("{")


def read_recipients(
    url: str, field_name: str = "recipients_file", encoding: str | None = None
) -> Iterator[dict[str, Any]]:
    """Rows of a CSV with a ``phone`` column (``client_id_message`` optional), or JSON Lines of
    ``{"phone": ...}``; errors name the file's line."""
    for item in recipient_items(url, field_name, encoding):
        yield {"phone": item} if item.__class__ is str else item


def recipient_items(
    url: str,
    field_name: str = "recipients_file",
    encoding: str | None = None,
    max_line: int = MAX_LINE,
) -> FileRows:
    """:func:`read_recipients` as the send reads it: a CSV row without a client id is its
    phone alone (no dict per row of a million-row file). ``.line`` is the row's first line."""
    rows = FileRows(url)
    rows.items = _recipient_rows(rows, url, field_name, encoding, max_line)
    return rows


def _recipient_rows(
    rows: FileRows, url: str, field_name: str, encoding: str | None, max_line: int
) -> Iterator[dict[str, Any] | str]:
    shown = redact_url(url)
    with open_text(url, encoding) as f:
        lines = checked_lines(f, url, field_name, encoding, max_line)
        first = next(lines, "")
        if _is_jsonl(url, first):
            for n, line in enumerate(chain([first], lines), start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError:
                    raise CascadeValidationError(
                        field_name, f"{shown} line {n} is not JSON"
                    ) from None
                if not isinstance(row, dict):
                    raise CascadeValidationError(field_name, f"{shown} line {n} must be an object")
                rows.line = n
                yield row
            return
        reader = csv.reader(chain([first], lines))
        try:
            header = [h.strip() for h in next(reader, [])]
            at, at_cid = _columns(header, f"{shown} line 1")
            start = reader.line_num + 1
            names = [h.lstrip("\ufeff").strip().casefold() for h in header]
            at_tz = names.index("timezone") if "timezone" in names else -1
            for row in reader:
                n, start = start, reader.line_num + 1
                phone = row[at].strip() if at < len(row) else ""
                if not phone:
                    continue
                cid = row[at_cid].strip() if 0 <= at_cid < len(row) else ""
                rows.line = n
                if 0 <= at_tz < len(row) and row[at_tz].strip():  # the send windows' zone
                    yield {"phone": phone, "client_id_message": cid, "timezone": row[at_tz].strip()}
                    continue
                yield {"phone": phone, "client_id_message": cid} if cid else phone
        except csv.Error as exc:  # a field past csv's size limit, a NUL byte, a bad quote
            raise CascadeValidationError(
                field_name, f"{shown} line {reader.line_num}: {exc}"
            ) from None


def _columns(header: list[str], where: str) -> tuple[int, int]:
    """Where ``phone`` and ``client_id_message`` are; a name given twice (also as ``Phone``
    or `` phone``) is refused: which column would be meant?"""
    names = [h.lstrip("\ufeff").strip().casefold() for h in header]
    for wanted in ("phone", "client_id_message"):
        if names.count(wanted) > 1:
            raise CascadeValidationError(
                "recipients_file",
                f"{where}: the header names {wanted!r} {names.count(wanted)} times "
                f"({', '.join(repr(h) for h in header if h.strip().casefold() == wanted)}); "
                "keep one such column",
            )
    if "phone" not in header:
        found = [h for h, n in zip(header, names, strict=True) if n == "phone"]
        hint = f" (found {found[0]!r}: names are case-sensitive)" if found else ""
        raise CascadeValidationError(
            "recipients_file", f"{where}: the CSV needs a 'phone' column{hint}"
        )
    at_cid = header.index("client_id_message") if "client_id_message" in header else -1
    return header.index("phone"), at_cid


def read_messages(url: str, encoding: str | None = None, max_line: int = MAX_LINE) -> FileRows:
    """JSON Lines, one message per line in the gateway's JSON shape (as ``messages`` items):
    (message index, message) pairs; ``.line`` is the message's line."""
    rows = FileRows(url)
    rows.items = _message_rows(rows, url, encoding, max_line)
    return rows


def _message_rows(
    rows: FileRows, url: str, encoding: str | None, max_line: int
) -> Iterator[tuple[int, Message]]:
    shown = redact_url(url)
    with open_text(url, encoding) as f:
        index = 0
        for n, line in numbered_lines(f, url, "messages_file", encoding, max_line):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except ValueError:
                raise CascadeValidationError(
                    "messages_file", f"{shown} line {n} is not JSON"
                ) from None
            rows.line = n
            try:
                message = as_message(data)
            except CascadeValidationError as exc:
                raise CascadeValidationError(
                    f"messages_file.{exc.field}", f"{shown} line {n}: {exc.rule}"
                ) from None
            yield index, message
            index += 1


_PHONE = PHONE_PATTERN.encode()  # the gateway's own rule, on bytes
_PHONE_LINES = re.compile(rb"(?:[ \t]*" + _PHONE + rb"[ \t]*\r?\n)*")
_PHONE_TAIL = re.compile(rb"[ \t]*(?:" + _PHONE + rb"[ \t]*)?\r?")
MAX_PLAIN_LINE = 4096
_PHONE_HEADERS = (b"phone\n", b"phone\r\n", b"\xef\xbb\xbfphone\n", b"\xef\xbb\xbfphone\r\n")


def count_plain_phones(url: str, encoding: str | None = None) -> int | None:
    """How many phones a CSV holds whose only column is ``phone`` and whose every line is one
    phone in the gateway's format: checked a block at a time by one regular expression, so the
    check before the first request costs milliseconds, not seconds, for a million lines.
    None for any other file (blank lines, quotes, more columns, a bad phone): the exact path
    (:func:`recipient_items` through :meth:`Plan.recipients`) checks it and names the line.
    Whatever passes here passes there; repeats are counted there, not here. UTF-8 files
    only, not compressed."""
    if is_gzip(url) or text_encoding(encoding) != "utf-8-sig":
        return None
    path = storage_path(url)
    if url.lower().endswith((".jsonl", ".ndjson", ".json")) or not path.exists():
        return None
    with path.open("rb") as f:
        if f.readline() not in _PHONE_HEADERS:
            return None
        count, rest = 0, b""
        while block := f.read(READ_BLOCK):
            block = rest + block
            cut = block.rfind(b"\n") + 1
            if _PHONE_LINES.fullmatch(block, 0, cut) is None:
                return None
            count += block.count(b"\n", 0, cut)
            rest = block[cut:]
            if len(rest) > MAX_PLAIN_LINE:
                return None  # no phone line is this long: left to the exact path
    if _PHONE_TAIL.fullmatch(rest) is None:
        return None
    return count + (1 if rest.strip() else 0) or None


def count_lines(url: str, encoding: str | None = None) -> int:
    with open_text(url, encoding) as f:
        return sum(1 for _, line in numbered_lines(f, url, "file", encoding) if line.strip())
