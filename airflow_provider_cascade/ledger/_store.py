"""Where a ledger lives and how its objects are written: one object per record, never an
append (object stores such as S3 cannot append), so every write is whole or absent."""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import Any
from urllib.parse import quote

from ..gateway import CascadeError
from ._records import FORMAT, VERSION, BatchRecord, fold

_NAME = re.compile(r"(\d{7})\.(\d{3})\.(intent|outcome|settled)\.jsonl")
_ORDER = {"intent": 0, "outcome": 1, "settled": 2}
SEND_DIR = "send"
WAIT_DIR = "wait"
REF_KEY = "cascade_ledger"


class LedgerStorageUnavailable(CascadeError):
    """The object storage of a ledger or recipients file cannot be opened or read through
    its connection (a connection not defined, no filesystem installed for the scheme, the
    store unreachable or refusing the connection's keys)."""


def storage_path(url: str) -> Any:
    """An ``ObjectStoragePath`` for a URL (``s3://conn@bucket/key``, ``file:///...``) or a
    local path, with the connection's filesystem (its credentials and endpoint) made now.

    Made off any running event loop: the Amazon provider makes its filesystem with
    ``asyncio.run``, which fails on a loop (the triggerer's), and Airflow then keeps a path
    whose filesystem has neither the connection's endpoint nor its credentials."""
    if "://" not in url:
        url = "file://" + os.path.abspath(os.path.expanduser(url))
    if _on_event_loop():
        with ThreadPoolExecutor(1, thread_name_prefix="cascade-storage") as pool:
            return pool.submit(_open_path, url).result()
    return _open_path(url)


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


_FOUND: set[str] = set()
"""Connections this process found once: a campaign split into 10,000 shards opens as many
paths, and a connection in the metadata database costs a round trip to read."""


def _open_path(url: str) -> Any:
    from airflow.providers.common.compat.sdk import (
        AirflowNotFoundException,
        BaseHook,
        ObjectStoragePath,
    )

    try:
        path = ObjectStoragePath(url)
    except ValueError as exc:  # a scheme no installed filesystem serves
        raise LedgerStorageUnavailable(f"cannot open {url}: {exc}") from None
    conn_id = path.conn_id
    if conn_id is None:
        return path
    if conn_id not in _FOUND:
        try:  # a provider may fall back to the process's own identity without one
            BaseHook.get_connection(conn_id)
        except AirflowNotFoundException:
            raise LedgerStorageUnavailable(
                f"cannot open {url}: connection {conn_id!r} is not defined"
            ) from None
        _FOUND.add(conn_id)
    try:
        path.fs  # noqa: B018  # made (and cached per connection) here, not at first use
    except Exception as exc:  # whatever the provider raises: named, typed, no chain
        raise LedgerStorageUnavailable(
            f"cannot open {url} through connection {conn_id!r}: {type(exc).__name__}: {exc}"
        ) from None
    return path


def default_root() -> str:
    """``[cascade] ledger_path`` (also ``AIRFLOW__CASCADE__LEDGER_PATH``), else a folder under
    ``AIRFLOW_HOME``."""
    from airflow.configuration import conf

    configured = conf.get("cascade", "ledger_path", fallback=None)
    if configured:
        return str(configured)
    home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
    return os.path.join(home, "cascade_ledger")


def task_folder(root: str, dag_id: str, run_id: str, task_id: str, map_index: int) -> str:
    """One folder per task instance: every try of it resumes the same ledger."""
    parts = [dag_id, run_id, task_id, f"map_{map_index}" if map_index >= 0 else "map_none"]
    return "/".join([root.rstrip("/"), *(quote(p, safe="-_.~:+=@,") for p in parts)])


class Ledger:
    """The durable record of one task instance's send, in object storage."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.root = storage_path(self.url)
        self._send = self.root / SEND_DIR

    # -- writing ------------------------------------------------------------------------
    def start(self, **meta: Any) -> None:
        """Create the folder and the manifest (kept from the first try)."""
        self._send.mkdir(parents=True, exist_ok=True)
        (self.root / WAIT_DIR).mkdir(parents=True, exist_ok=True)
        manifest = self.root / "ledger.json"
        if not manifest.exists():
            self._write(manifest, [json.dumps({"format": FORMAT, "version": VERSION, **meta})])

    def write_record(self, batch: int, attempt: int, kind: str, lines: Iterable[str]) -> None:
        data = "".join([line + "\n" for line in lines]).encode("utf-8")
        fs, folder = self._records_at
        with fs.open(f"{folder}/{batch:07d}.{attempt:03d}.{kind}.jsonl", "wb") as f:
            f.write(data)

    @cached_property
    def _records_at(self) -> tuple[Any, str]:
        """The send folder's filesystem and path: records are written through it directly,
        one per request on the path from an answer to the next request (a path object and a
        text layer per write cost as much as the write itself on a local disk)."""
        return self._send.fs, self._send.path

    def write_json(self, name: str, value: Any) -> None:
        self._write(self.root / name, [json.dumps(value, ensure_ascii=False, indent=1)])

    def write_lines(self, name: str, lines: Iterable[str]) -> None:
        self._write(self.root / name, lines)

    # -- reading ------------------------------------------------------------------------
    def batches(self) -> dict[int, list[str]]:
        """Names of every record, by batch, in attempt order (intent, outcome, settled)."""
        out: dict[int, list[str]] = {}
        if not self._send.exists():
            return out
        for path in self._send.iterdir():
            match = _NAME.fullmatch(path.name)
            if match:
                out.setdefault(int(match.group(1)), []).append(path.name)
        for names in out.values():
            names.sort(key=lambda n: (n[8:11], _ORDER[n.split(".")[2]]))
        return dict(sorted(out.items()))

    def load(self, batch: int, names: list[str]) -> BatchRecord:
        return fold(batch, [(n, self._read_lines(self._send / n)) for n in names])

    def read_json(self, name: str) -> Any:
        path = self.root / name
        if not path.exists():
            return None
        with path.open("r", encoding="utf-8") as f:
            return json.load(f)

    def read_lines(self, name: str) -> list[str]:
        path = self.root / name
        return self._read_lines(path) if path.exists() else []

    def records(self) -> Iterator[BatchRecord]:
        """Every batch, one at a time (memory stays flat however many there are)."""
        for batch, names in self.batches().items():
            yield self.load(batch, names)

    def ref(self, **counts: Any) -> dict[str, Any]:
        """The small XCom value that stands for the whole send."""
        return {REF_KEY: self.url, "version": VERSION, **counts}

    # -- plumbing -----------------------------------------------------------------------
    @staticmethod
    def _read_lines(path: Any) -> list[str]:
        with path.open("r", encoding="utf-8") as f:
            text: str = f.read()
        return text.splitlines()

    @staticmethod
    def _write(path: Any, lines: Iterable[str]) -> None:
        text = "".join([line + "\n" for line in lines])
        with path.open("w", encoding="utf-8") as f:
            f.write(text)
