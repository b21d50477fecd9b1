"""Where a ledger lives and how its objects are written: one object per record, never an
append (object stores such as S3 cannot append), so every write is whole or absent."""

from __future__ import annotations

import asyncio
import json
import os
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property, partial
from typing import Any, NamedTuple, TypeVar
from urllib.parse import quote

from ..gateway import CascadeError
from ..gateway._wire import redact_url
from ._errors import CascadeLedgerDamaged, CascadeLedgerError, CascadeLedgerMismatch
from ._records import FORMAT, VERSION, BatchRecord, RecordName, fold, parse_name

SEND_DIR = "send"
WAIT_DIR = "wait"
TRIES_DIR = "tries"
REF_KEY = "cascade_ledger"
_CLAIM = re.compile(r"(\d{6})-([0-9a-f]{8})\.json")
_IDENTITY = ("dag_id", "run_id", "task_id", "map_index")
T = TypeVar("T")


class Claim(NamedTuple):
    """A try's place in the ledger: a later claim outranks an earlier one."""

    seq: int
    token: str

    def __str__(self) -> str:
        return f"{self.seq:06d}-{self.token}"


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
        raise LedgerStorageUnavailable(
            f"cannot open {redact_url(url)}: {_clean(exc, url)}"
        ) from None
    conn_id = path.conn_id
    if conn_id is None:
        return path
    if conn_id not in _FOUND:
        try:  # a provider may fall back to the process's own identity without one
            BaseHook.get_connection(conn_id)
        except AirflowNotFoundException:
            raise LedgerStorageUnavailable(
                f"cannot open {redact_url(url)}: connection {_shown_conn(conn_id)!r} is not defined"
            ) from None
        _FOUND.add(conn_id)
    try:
        path.fs  # noqa: B018  # made (and cached per connection) here, not at first use
    except Exception as exc:  # whatever the provider raises: named, typed, no chain
        raise LedgerStorageUnavailable(
            f"cannot open {redact_url(url)} through connection {_shown_conn(conn_id)!r}: "
            f"{type(exc).__name__}: {_clean(exc, url)}"
        ) from None
    return path


def _shown_conn(conn_id: str) -> str:
    """A URL's user part as the connection id: a password in it (``user:pass@``) hidden."""
    user, sep, _secret = conn_id.partition(":")
    return f"{user}:***" if sep else conn_id


def _clean(exc: Exception, url: str) -> str:
    """An error text from a filesystem, without the URL's password, whatever it quoted."""
    text = str(exc)[:300]
    userinfo = url.split("://", 1)[-1].split("/", 1)[0].rpartition("@")[0]
    _user, sep, secret = userinfo.partition(":")
    return text.replace(secret, "***") if sep and secret else redact_url(text)


def _mkdir(path: Any) -> None:
    path.mkdir(parents=True, exist_ok=True)


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
    for name, part in zip(("dag_id", "run_id", "task_id"), parts, strict=False):
        if part.strip(".") == "":  # "." or ".." would share a folder with another run
            raise CascadeLedgerMismatch(root, f"{name} {part!r} cannot name a ledger folder")
    return "/".join([root.rstrip("/"), *(quote(p, safe="-_.~:+=@,") for p in parts)])


class Ledger:
    """The durable record of one task instance's send, in object storage."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.root = storage_path(self.url)
        self._send = self.root / SEND_DIR

    # -- writing ------------------------------------------------------------------------
    def start(self, **meta: Any) -> None:
        """Create the folder and the manifest (kept from the first try); a manifest of
        another task instance or format version is refused, never written over."""
        manifest = self.root / "ledger.json"
        found = self._guard("read", lambda: self.read_json("ledger.json"), "ledger.json")
        if found is not None:
            self._check_manifest(found, meta)
        for folder in (SEND_DIR, WAIT_DIR, TRIES_DIR):
            self._guard("create", partial(_mkdir, self.root / folder), folder)
        if found is not None:
            return
        body = [json.dumps({"format": FORMAT, "version": VERSION, **meta})]
        self._guard("write", lambda: self._write(manifest, body), "ledger.json")

    def _check_manifest(self, found: Any, meta: dict[str, Any]) -> None:
        if not isinstance(found, dict) or found.get("format") != FORMAT:
            raise CascadeLedgerMismatch(self.url, "not a Cascade ledger manifest", "ledger.json")
        if found.get("version") != VERSION:
            raise CascadeLedgerMismatch(
                self.url, f"written by ledger format {found.get('version')!r}; this version "
                f"reads {VERSION}: finish that campaign with the release that started it",
                "ledger.json",
            )  # fmt: skip
        for key in _IDENTITY:
            if key in meta and key in found and str(found[key]) != str(meta[key]):
                raise CascadeLedgerMismatch(
                    self.url, f"belongs to {key} {found[key]!r}, not {meta[key]!r}", "ledger.json"
                )

    # -- tries --------------------------------------------------------------------------
    def claim(self, **meta: Any) -> Claim:
        """Take the ledger for a new try. Written before the try reads any record: a try that
        wrote an intent and then finds a later claim stops before sending (``owner``), and
        the later try, having claimed first, sees that intent."""
        seq = max((c.seq for c in self.claims()), default=0) + 1
        claim = Claim(seq, uuid.uuid4().hex[:8])
        body = [json.dumps(meta)]
        name = f"{TRIES_DIR}/{claim}.json"
        self._guard("write", lambda: self._write(self.root / name, body), name)
        return claim

    def claims(self) -> list[Claim]:
        found = [_CLAIM.fullmatch(name) for name in self._names(TRIES_DIR)]
        return sorted(Claim(int(m[1]), m[2]) for m in found if m)

    def owner(self) -> Claim | None:
        """The latest claim: the one try that may send."""
        claims = self.claims()
        return claims[-1] if claims else None

    def write_record(self, name: RecordName, lines: Iterable[str]) -> None:
        """One record, whole or not at all (a cut one is ignored on reading)."""
        data = "".join([line + "\n" for line in lines]).encode("utf-8")
        fs, folder = self._records_at
        path = f"{folder}/{name}"

        def write() -> None:
            with fs.open(path, "wb") as f:
                f.write(data)

        self._guard("write", write, f"{SEND_DIR}/{name}")

    @cached_property
    def _records_at(self) -> tuple[Any, str]:
        """The send folder's filesystem and path: records are written through it directly,
        one per request on the path from an answer to the next request (a path object and a
        text layer per write cost as much as the write itself on a local disk)."""
        return self._send.fs, self._send.path

    def write_json(self, name: str, value: Any) -> None:
        body = [json.dumps(value, ensure_ascii=False, indent=1)]
        self._guard("write", lambda: self._write(self.root / name, body), name)

    def write_lines(self, name: str, lines: Iterable[str]) -> None:
        self._guard("write", lambda: self._write(self.root / name, lines), name)

    # -- reading ------------------------------------------------------------------------
    def batches(self) -> dict[int, list[str]]:
        """Names of every record, by batch, in fold order (attempt, claim, kind)."""
        out: dict[int, list[RecordName]] = {}
        for found in self._names(SEND_DIR):
            name = parse_name(found)
            if name is not None:
                out.setdefault(name.batch, []).append(name)
        return {b: [str(n) for n in sorted(names, key=lambda n: n.order)]
                for b, names in sorted(out.items())}  # fmt: skip

    def load(self, batch: int, names: list[str]) -> BatchRecord:
        files = [(n, self._read_record(n)) for n in names]
        try:
            return fold(batch, files)
        except CascadeLedgerDamaged as exc:
            raise CascadeLedgerDamaged(self.url, exc.what,
                                       f"{SEND_DIR}/{exc.file}") from None  # fmt: skip

    def _read_record(self, name: str) -> list[str]:
        path = self._send / name
        return self._guard("read", lambda: self._read_lines(path), f"{SEND_DIR}/{name}")

    def read_json(self, name: str) -> Any:
        path = self.root / name
        if not path.exists():
            return None
        try:
            with path.open("r", encoding="utf-8") as f:
                return json.load(f)
        except ValueError:
            raise CascadeLedgerDamaged(self.url, "not readable JSON", name) from None

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
    def _names(self, folder: str) -> list[str]:
        """The object names in a folder, as the store has them now: filesystems such as s3fs
        cache listings, and a try must see a claim or a record another process just wrote."""
        path = self.root / folder
        fs, where = path.fs, path.path

        def listing() -> list[str]:
            fs.invalidate_cache(where)
            try:
                found = fs.ls(where, detail=False)
            except FileNotFoundError:
                return []
            return [str(p).rstrip("/").rsplit("/", 1)[-1] for p in found]

        return self._guard("list", listing, folder)

    def _guard(self, doing: str, step: Callable[[], T], name: str) -> T:
        """Storage failures (disk full, permissions, the store down) as a typed error naming
        the ledger and the object."""
        try:
            return step()
        except OSError as exc:
            why = exc.strerror or type(exc).__name__
            raise CascadeLedgerError(self.url, f"cannot {doing}: {why}", name) from None

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
