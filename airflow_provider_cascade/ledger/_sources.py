"""Recipients in, request-sized chunks of messages out, streamed: a list, a file of phones or
a file of messages never sits in memory whole. Each recipient gets its client id here."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import IO, Any
from zoneinfo import ZoneInfo

from ..gateway import CascadeValidationError, Message, Recipient
from ..gateway._checks import PHONE_PATTERN
from ..gateway._timefmt import time_send_at
from ..gateway.codec import as_message
from ._client_ids import client_id_maker
from ._store import storage_path

Chunk = list[tuple[int, Message]]
"""(message index, message holding at most ``max_recipients`` recipients) pairs for one request."""

PAST_TOLERANCE = timedelta(minutes=5)


@dataclass
class Plan:
    """How recipients become chunks: client ids, repeats, the request size."""

    run_key: tuple[object, ...]
    max_recipients: int
    client_ids: bool = True
    allow_repeats: bool = False
    derive_ids: bool = True
    """False for a dry run: check everything, derive nothing (client ids cost a hash each)."""
    repeats_skipped: int = 0
    samples: list[str] = field(default_factory=list)

    def recipients(self, index: int, raw: Iterable[Any], where: str) -> Iterator[Recipient]:
        """Validated recipients of message ``index`` with client ids; repeats dropped unless
        allowed (a person listed three times is messaged and billed once)."""
        seen: dict[int, int] = {}  # int keys: a third of the memory of str keys
        derive = self.client_ids and self.derive_ids
        make_cid = client_id_maker(*self.run_key, index) if derive else None
        for n, item in enumerate(raw, start=1):
            try:
                phone, cid = (item, None) if item.__class__ is str else _fields(item)
                if not (phone.__class__ is str and phone.isdigit() and phone.isascii()):
                    phone = Recipient(phone).phone  # the model's rule and its error text
            except CascadeValidationError as exc:
                raise CascadeValidationError(where, f"item {n}: {exc.rule}") from None
            key = int("1" + phone)
            nth = seen.get(key, -1) + 1
            if nth and not self.allow_repeats:
                self.repeats_skipped += 1
                if len(self.samples) < 5:
                    self.samples.append(phone)
                continue
            if not self.client_ids and cid is not None:
                raise CascadeValidationError(
                    f"{where}.client_id_message", "the GET variant cannot carry client ids"
                )
            try:  # validated once, with its client id
                r = Recipient(phone, make_cid(phone, nth) if make_cid and cid is None else cid)
            except CascadeValidationError as exc:
                raise CascadeValidationError(where, f"item {n}: {exc.rule}") from None
            seen[key] = nth
            yield r

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
def open_text(url: str) -> IO[str]:
    path = storage_path(url)
    if not path.exists():
        raise CascadeValidationError("file", f"{url} does not exist")
    buffered = io.BufferedReader(_RawReader(path.open("rb")), buffer_size=READ_BLOCK)
    return io.TextIOWrapper(buffered, encoding="utf-8-sig", newline="")


READ_BLOCK = 1 << 20


class _RawReader(io.RawIOBase):
    """The object-storage file under a C buffer: read a block at a time. Iterating the file
    object Airflow returns directly costs a wrapped attribute lookup per line (seconds for a
    million lines)."""

    def __init__(self, f: Any) -> None:
        super().__init__()
        self._f = f

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._f.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._f.close()
        super().close()


def _is_jsonl(url: str, first: str) -> bool:
    lower = url.lower()
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return True
    if lower.endswith(".csv"):
        return False
    return first.lstrip().startswith("{")


def read_recipients(url: str, field_name: str = "recipients_file") -> Iterator[dict[str, Any]]:
    """Rows of a CSV with a ``phone`` column (``client_id_message`` optional), or JSON Lines of
    ``{"phone": ...}``; errors name the file's line."""
    for item in recipient_items(url, field_name):
        yield {"phone": item} if item.__class__ is str else item  # type: ignore[misc]


def recipient_items(
    url: str, field_name: str = "recipients_file"
) -> Iterator[dict[str, Any] | str]:
    """:func:`read_recipients` as the send reads it: a CSV row without a client id is its
    phone alone (no dict per row of a million-row file)."""
    with open_text(url) as f:
        first = f.readline()
        if _is_jsonl(url, first):
            for n, line in enumerate(_chain(first, f), start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError:
                    raise CascadeValidationError(field_name, f"line {n} is not JSON") from None
                if not isinstance(row, dict):
                    raise CascadeValidationError(field_name, f"line {n} must be an object")
                yield row
            return
        reader = csv.reader(_chain(first, f))
        try:
            header = [h.strip() for h in next(reader, [])]
            if "phone" not in header:
                raise CascadeValidationError(field_name, f"{url}: the CSV needs a 'phone' column")
            at = header.index("phone")
            at_cid = header.index("client_id_message") if "client_id_message" in header else -1
            at_tz = header.index("timezone") if "timezone" in header else -1
            for row in reader:
                phone = row[at].strip() if at < len(row) else ""
                if not phone:
                    continue
                cid = row[at_cid].strip() if 0 <= at_cid < len(row) else ""
                if 0 <= at_tz < len(row) and row[at_tz].strip():  # the send windows' zone
                    yield {"phone": phone, "client_id_message": cid, "timezone": row[at_tz].strip()}
                    continue
                yield {"phone": phone, "client_id_message": cid} if cid else phone
        except csv.Error as exc:  # a field past csv's size limit, a NUL byte, a bad quote
            raise CascadeValidationError(field_name, f"line {reader.line_num}: {exc}") from None


def read_messages(url: str) -> Iterator[tuple[int, Message]]:
    """JSON Lines, one message per line in the gateway's JSON shape (as ``messages`` items)."""
    with open_text(url) as f:
        index = 0
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except ValueError:
                raise CascadeValidationError("messages_file", f"line {n} is not JSON") from None
            try:
                yield index, as_message(data)
            except CascadeValidationError as exc:
                raise CascadeValidationError(
                    f"messages_file.{exc.field}", f"line {n}: {exc.rule}"
                ) from None
            index += 1


_PHONE = PHONE_PATTERN.encode()  # the gateway's own rule, on bytes
_PHONE_LINES = re.compile(rb"(?:[ \t]*" + _PHONE + rb"[ \t]*\r?\n)*")
_PHONE_TAIL = re.compile(rb"[ \t]*(?:" + _PHONE + rb"[ \t]*)?\r?")
MAX_PLAIN_LINE = 4096
_PHONE_HEADERS = (b"phone\n", b"phone\r\n", b"\xef\xbb\xbfphone\n", b"\xef\xbb\xbfphone\r\n")


def count_plain_phones(url: str) -> int | None:
    """How many phones a CSV holds whose only column is ``phone`` and whose every line is one
    phone in the gateway's format: checked a block at a time by one regular expression, so the
    check before the first request costs milliseconds, not seconds, for a million lines.
    None for any other file (blank lines, quotes, more columns, a bad phone): the exact path
    (:func:`recipient_items` through :meth:`Plan.recipients`) checks it and names the line.
    Whatever passes here passes there; repeats are counted there, not here."""
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


def count_lines(url: str) -> int:
    with open_text(url) as f:
        return sum(1 for line in f if line.strip())


def _chain(first: str, rest: Iterable[str]) -> Iterator[str]:
    yield first
    yield from rest
