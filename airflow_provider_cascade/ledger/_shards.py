"""Splitting a recipients file into shards, one per mapped send task: each shard has its own
ledger and client ids, so many workers can send one campaign without stepping on each other."""

from __future__ import annotations

import csv
import zlib

from ..gateway import CascadeValidationError
from ._sources import read_recipients
from ._store import storage_path


def split_recipients_file(url: str, shards: int, destination: str | None = None) -> list[str]:
    """Write ``shards`` CSV files (``phone`` and, where given, ``client_id_message`` and
    ``timezone``) and return their URLs. A phone always lands in the same shard (by a hash of
    its digits), so repeats of one person stay together and are still sent once."""
    if not isinstance(shards, int) or not 1 <= shards <= 10_000:
        raise CascadeValidationError("shards", f"must be a whole number 1..10000 (got {shards!r})")
    base = (destination or url.rsplit(".", 1)[0] + "_shards").rstrip("/")
    folder = storage_path(base)
    folder.mkdir(parents=True, exist_ok=True)
    urls = [f"{base}/shard-{i:05d}-of-{shards:05d}.csv" for i in range(shards)]
    files = [storage_path(u).open("w", encoding="utf-8", newline="") for u in urls]
    try:
        writers = [csv.writer(f) for f in files]
        for w in writers:
            w.writerow(["phone", "client_id_message", "timezone"])
        for row in read_recipients(url):
            phone = str(row["phone"]).strip()
            shard = zlib.crc32(phone.encode()) % shards
            writers[shard].writerow(
                [phone, row.get("client_id_message") or "", row.get("timezone") or ""]
            )
    finally:
        for f in files:
            f.close()
    return urls
