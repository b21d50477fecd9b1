"""Splitting a recipients file into shards, one per mapped send task: each shard has its own
ledger and client ids, so many workers can send one campaign without stepping on each other."""

from __future__ import annotations

import csv
import zlib

from ..gateway import CascadeValidationError
from ..gateway._windows import Zones
from ..gateway.codec import redact_url
from ._files import file_identity
from ._send import LedgerInputChanged
from ._sources import Plan, read_recipients, recipient_items
from ._store import storage_path


def check_recipients_file(url: str, encoding: str | None = None) -> int:
    """The send's own check of every row (phone, client id, client ids given twice anywhere),
    run over the whole file: an error names this file and its line, before any shard exists
    (a shard's send would name a line of the shard, after other shards were sent). Returns
    how many rows it read."""
    plan = Plan(("split",), 1000, derive_ids=False, check_ids=True)
    items = recipient_items(url, encoding=encoding)
    items.items = Zones("recipients_file", items.where).strip(items.items)  # zones are checked too
    count = sum(1 for _ in plan.recipients(0, items, "recipients_file"))
    plan.check_client_ids()
    if not count:
        raise CascadeValidationError("recipients_file", f"{redact_url(url)}: holds no recipients")
    return count


def split_recipients_file(
    url: str, shards: int, destination: str | None = None, encoding: str | None = None
) -> list[str]:
    """Write ``shards`` CSV files (``phone`` and, where given, ``client_id_message`` and
    ``timezone``; UTF-8)
    and return their URLs, after checking the whole file. A phone always lands in the same
    shard (by a hash of its digits), so repeats of one person stay together and are still
    sent once."""
    if not isinstance(shards, int) or not 1 <= shards <= 10_000:
        raise CascadeValidationError("shards", f"must be a whole number 1..10000 (got {shards!r})")
    identity = file_identity(url)
    check_recipients_file(url, encoding)
    base = (destination or url.rsplit(".", 1)[0] + "_shards").rstrip("/")
    folder = storage_path(base)
    folder.mkdir(parents=True, exist_ok=True)
    urls = [f"{base}/shard-{i:05d}-of-{shards:05d}.csv" for i in range(shards)]
    files = [storage_path(u).open("w", encoding="utf-8", newline="") for u in urls]
    try:
        writers = [csv.writer(f) for f in files]
        for w in writers:
            w.writerow(["phone", "client_id_message", "timezone"])
        for row in read_recipients(url, encoding=encoding):
            phone = str(row["phone"]).strip()
            shard = zlib.crc32(phone.encode()) % shards
            writers[shard].writerow(
                [phone, row.get("client_id_message") or "", row.get("timezone") or ""]
            )
    finally:
        for f in files:
            f.close()
    if file_identity(url) != identity:
        raise LedgerInputChanged(
            f"{redact_url(url)} changed while it was being checked and split: the shards "
            "may mix two versions of it; split again"
        )
    return urls
