"""Recipients in, request-sized chunks of messages out, streamed: a list, a file of phones or
a file of messages never sits in memory whole. Each recipient gets its client id here."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import IO, Any
from zoneinfo import ZoneInfo

from ..gateway import CascadeValidationError, Message, Recipient
from ..gateway.codec import as_message
from ._client_ids import stable_client_id
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
    repeats_skipped: int = 0
    samples: list[str] = field(default_factory=list)

    def recipients(self, index: int, raw: Iterable[Any], where: str) -> Iterator[Recipient]:
        """Validated recipients of message ``index`` with client ids; repeats dropped unless
        allowed (a person listed three times is messaged and billed once)."""
        seen: dict[int, int] = {}
        for n, item in enumerate(raw, start=1):
            try:
                r = Recipient.parse(item)
            except CascadeValidationError as exc:
                raise CascadeValidationError(where, f"item {n}: {exc.rule}") from None
            key = int("1" + r.phone)
            nth = seen.get(key, -1) + 1
            if nth and not self.allow_repeats:
                self.repeats_skipped += 1
                if len(self.samples) < 5:
                    self.samples.append(r.phone)
                continue
            seen[key] = nth
            if self.client_ids and r.client_id_message is None:
                r = Recipient(r.phone, stable_client_id(*self.run_key, index, r.phone, nth))
            elif not self.client_ids and r.client_id_message is not None:
                raise CascadeValidationError(
                    f"{where}.client_id_message", "the GET variant cannot carry client ids"
                )
            yield r

    def chunks(
        self, messages: Iterable[tuple[int, Message, Iterable[Recipient]]]
    ) -> Iterator[Chunk]:
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


def check_not_past(message: Message, tz: ZoneInfo, now: datetime, where: str) -> None:
    """A ``time_send`` well in the past means a late or backfilled run: the gateway would send
    at once, which is rarely what a scheduled campaign meant. Refuse it, saying so."""
    times = [("time_send", message.time_send)]
    times += [("base.time_send", b.time_send) for b in message.bases]
    for name, value in times:
        if value is None:
            continue
        when = (
            value
            if isinstance(value, datetime)
            else datetime.strptime(value, "%Y-%m-%d %H:%M").replace(tzinfo=tz)
        )
        if when < now - PAST_TOLERANCE:
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
    return io.TextIOWrapper(path.open("rb"), encoding="utf-8-sig", newline="")


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
        reader = csv.DictReader(_chain(first, f))
        if not reader.fieldnames or "phone" not in [h.strip() for h in reader.fieldnames]:
            raise CascadeValidationError(field_name, f"{url}: the CSV needs a 'phone' column")
        for row in reader:
            phone = (row.get("phone") or "").strip()
            if not phone:
                continue
            out: dict[str, Any] = {"phone": phone}
            cid = (row.get("client_id_message") or "").strip()
            if cid:
                out["client_id_message"] = cid
            yield out


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


def count_lines(url: str) -> int:
    with open_text(url) as f:
        return sum(1 for line in f if line.strip())


def _chain(first: str, rest: Iterable[str]) -> Iterator[str]:
    yield first
    yield from rest
