"""Delivery reports: one row per recipient of a campaign, every recipient (accepted, rejected,
untracked, ...), with its state and exact prices, for the warehouse.

Rows are streamed: the send records are read one batch at a time (``Ledger.records()``) with
that batch's states (``wait/<batch>.jsonl``), so a million-recipient report is written in flat
memory. The format follows the extension: ``.csv``, ``.csv.gz``, ``.jsonl``, ``.parquet``
(Parquet needs pyarrow: ``airflow-provider-cascade[parquet]``).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, cast
from urllib.parse import urlsplit, urlunsplit

from ..gateway import CascadeError, CascadeValidationError, MessageState
from ..gateway._channels import Channel
from ..gateway._privacy import shown_phone
from ..gateway._wire import redact_url
from ._records import BatchRecord, Fate
from ._store import Ledger, storage_path

if TYPE_CHECKING:
    from ._records import Row

COLUMNS = (
    "dag_id", "run_id", "task_id", "map_index", "campaign", "phone", "client_id_message",
    "id_message", "fate", "error", "state", "final", "delivered_channel", "state_sms",
    "state_viber", "state_whatsapp", "state_vk", "num_parts_sms", "price_sms", "price_viber",
    "price_whatsapp", "price_vk", "price_total", "time_change_state",
)  # fmt: skip
FORMATS = (".csv.gz", ".csv", ".jsonl", ".parquet")
PRICE_SCALE = 6
"""Decimal places of the Parquet price columns; a price with more is refused, never rounded."""
CHUNK = 10_000
"""Rows handed to a writer at once (one Parquet row group per chunk at most)."""
_CHANNELS = (Channel.SMS, Channel.VIBER, Channel.WHATSAPP, Channel.VK)
_DELIVERED = frozenset({"deliver", "read", "link", "unsubscribe"})
_CASCADE_ORDER = (Channel.VIBER, Channel.WHATSAPP, Channel.VK, Channel.SMS)

_FINAL = COLUMNS.index("final")
_PRICES = range(COLUMNS.index("price_sms"), COLUMNS.index("price_total") + 1)
_BOOLS = {True: "true", False: "false", None: None}
ReportRow = tuple[Any, ...]
"""Values in ``COLUMNS`` order: str, int, bool, Decimal or None."""
StatesOf = Callable[[int], Mapping[str, MessageState]]
"""A batch number -> the states known for its ids (``LedgerWatch.known``)."""


class CascadeReportError(CascadeError):
    """A delivery report could not be written (a missing optional extra, a price the format
    cannot hold exactly)."""


@dataclass(frozen=True)
class SendInfo:
    """Who sent: the task instance whose ledger the rows come from, and the campaign."""

    dag_id: str = ""
    run_id: str = ""
    task_id: str = ""
    map_index: int = -1
    campaign: str = ""

    @classmethod
    def of(cls, ledger: Ledger) -> SendInfo:
        """From the ledger's manifest (written by the send's first try)."""
        meta = ledger.read_json("ledger.json") or {}
        dag_id, task_id = str(meta.get("dag_id") or ""), str(meta.get("task_id") or "")
        campaign = meta.get("campaign") or (f"{dag_id}.{task_id}" if dag_id else "")
        map_index = meta.get("map_index")
        return cls(dag_id, str(meta.get("run_id") or ""), task_id,
                   -1 if map_index is None else int(map_index), str(campaign))  # fmt: skip


@dataclass
class ReportSummary:
    """What a report holds, in counts: for XCom, asset events, lineage and metrics."""

    url: str = ""
    rows: int = 0
    complete: bool = True
    """False when the wait ended (timed out) before every message was final."""
    by_fate: Counter[str] = field(default_factory=Counter)
    by_state: Counter[str] = field(default_factory=Counter)
    """Final states only; messages still in progress are not counted here."""
    by_channel: dict[str, Decimal] = field(default_factory=dict)

    @property
    def total_cost(self) -> Decimal:
        return sum(self.by_channel.values(), Decimal(0))

    def add(self, row: ReportRow) -> None:
        self.rows += 1
        self.by_fate[row[8]] += 1
        if row[11]:
            self.by_state[row[10]] += 1
        for channel, price in zip(("sms", "viber", "whatsapp", "vk"), row[18:22], strict=True):
            if price:
                self.by_channel[channel] = self.by_channel.get(channel, Decimal(0)) + price

    def to_json(self) -> dict[str, Any]:
        return {
            "report": public_url(self.url) if self.url else None,
            "rows": self.rows,
            "complete": self.complete,
            "fates": dict(sorted(self.by_fate.items())),
            "final_states": dict(sorted(self.by_state.items())),
            "cost_by_channel": {c: str(v) for c, v in sorted(self.by_channel.items())},
            "cost_total": str(self.total_cost),
        }


def public_url(url: str) -> str:
    """A URL fit to show: no password in its user part, no credentials in its query."""
    parts = urlsplit(url)
    if parts.password is not None:
        host = parts.netloc.rsplit("@", 1)[-1]
        user = parts.username or ""
        parts = parts._replace(netloc=f"{user}@{host}" if user else host)
    return redact_url(urlunsplit(parts))


# -- rows -----------------------------------------------------------------------------------
def ledger_rows(
    ledger: Ledger, states_of: StatesOf, *, mask_phones: bool, info: SendInfo | None = None
) -> Iterator[ReportRow]:
    """Every recipient the ledger planned, one batch in memory at a time; a stored base
    gives one row per phone the gateway found in it."""
    head = _head(info or SendInfo.of(ledger))
    for record in ledger.records():
        states = states_of(record.batch) if _has_ids(record) else {}
        yield from _batch_rows(head, record, states, mask_phones)


def id_rows(
    ids: Iterable[str], states: Mapping[str, MessageState], info: SendInfo
) -> Iterator[ReportRow]:
    """Rows for a wait on bare ids (no ledger): the phones are not known there."""
    head = _head(info)
    for ident in ids:
        yield _row(head, None, None, ident, Fate.ACCEPTED.value, None, states.get(ident))


def _head(info: SendInfo) -> tuple[Any, ...]:
    return (info.dag_id, info.run_id, info.task_id, info.map_index, info.campaign)


def _has_ids(record: BatchRecord) -> bool:
    return any(r.id_message or r.members for r in record.rows.values())


def _batch_rows(
    head: tuple[Any, ...],
    record: BatchRecord,
    states: Mapping[str, MessageState],
    masked: bool,
) -> Iterator[ReportRow]:
    rows = record.rows
    for i, entry in enumerate(record.entries):
        row = rows.get(i)
        if row is not None and row.members:
            for phone, member in row.members:
                yield _of(head, phone, None, member, states, masked)
            continue
        if row is None:  # planned, never answered by a try: its fate says why
            shown = None if entry.phone is None else shown_phone(entry.phone, masked)
            yield _row(head, shown, entry.cid, None, record.fate(i).value, None, None)
            continue
        yield _of(head, entry.phone, entry.cid, row, states, masked)


def _of(
    head: tuple[Any, ...],
    phone: str | None,
    cid: str | None,
    row: Row,
    states: Mapping[str, MessageState],
    masked: bool,
) -> ReportRow:
    shown = None if phone is None else shown_phone(phone, masked)
    ident = row.id_message or None
    state = states.get(ident) if ident else None
    error = None if row.fate is Fate.ACCEPTED and not row.already else row.error
    return _row(head, shown, cid, ident, row.fate.value, error, state)


def _row(
    head: tuple[Any, ...],
    phone: str | None,
    cid: str | None,
    ident: str | None,
    fate: str,
    error: str | None,
    state: MessageState | None,
) -> ReportRow:
    if state is None:
        return (*head, phone, cid, ident, fate, error, None, False if ident else None,
                None, None, None, None, None, None, None, None, None, None, None, None)  # fmt: skip
    channels = state.channel_states
    prices = state.prices
    delivered = None
    for channel in _CASCADE_ORDER:  # the last channel that reached the person
        if channels.get(channel) in _DELIVERED:
            delivered = channel.value
    channel_prices = [prices.get(c) for c in _CHANNELS]
    total = sum((p for p in channel_prices if p is not None), Decimal(0)) if prices else None
    return (
        *head, phone, cid, ident, fate, state.error if error is None else error, state.state,
        state.is_final, delivered, *[channels.get(c) for c in _CHANNELS], state.num_parts_sms,
        *channel_prices, total, state.time_change_state,
    )  # fmt: skip


# -- writers --------------------------------------------------------------------------------
class _Writer(Protocol):
    def write(self, rows: list[ReportRow]) -> None: ...
    def close(self) -> None: ...


def report_format(url: str) -> str:
    """The format an URL's extension names; anything else is refused before any work."""
    path = urlsplit(url).path if "://" in url else url
    for ext in FORMATS:
        if path.lower().endswith(ext):
            return ext
    raise CascadeValidationError(
        "report_path", f"must end with one of {', '.join(FORMATS)} (got {public_url(url)!r})"
    )


def check_report_path(url: str | None) -> None:
    """At DAG parse or task start: a known extension, and pyarrow when Parquet is asked."""
    if url and report_format(url) == ".parquet":
        _pyarrow()


def write_report(url: str, rows: Iterable[ReportRow], *, complete: bool = True) -> ReportSummary:
    """Stream ``rows`` to ``url`` (a path or object-storage URL) in the format its extension
    names; returns the counts of what was written."""
    fmt = report_format(url)
    summary = ReportSummary(url=url, complete=complete)
    path = storage_path(url)
    with suppress(OSError, NotImplementedError):  # object stores have no folders to make
        path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as raw:
        writer = _open_writer(fmt, raw, complete)
        try:
            chunk: list[ReportRow] = []
            for row in rows:
                summary.add(row)
                chunk.append(row)
                if len(chunk) >= CHUNK:
                    writer.write(chunk)
                    chunk = []
            if chunk:
                writer.write(chunk)
        finally:
            writer.close()
    return summary


def _open_writer(fmt: str, raw: BinaryIO, complete: bool) -> _Writer:
    if fmt == ".parquet":
        return _ParquetWriter(raw, complete)
    if fmt == ".jsonl":
        return _JsonLinesWriter(raw)
    if fmt == ".csv.gz":
        return _CsvWriter(
            cast(BinaryIO, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=6)),
            owns=True,
        )
    return _CsvWriter(raw)


def _text(value: Any) -> Any:
    """A CSV or JSON value: exact decimals as strings, times as the gateway writes them."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value


class _CsvWriter:
    def __init__(self, raw: BinaryIO, *, owns: bool = False) -> None:
        self._raw = raw
        self._owns = owns
        self._text = io.TextIOWrapper(raw, encoding="utf-8", newline="", write_through=True)
        self._csv = csv.writer(self._text)
        self._csv.writerow(COLUMNS)

    def write(self, rows: list[ReportRow]) -> None:
        """Only the columns csv would write otherwise are converted (None is written empty,
        a time as ``YYYY-MM-DD hh:mm:ss`` already): a million rows per report."""
        out = []
        for row in rows:
            values = list(row)
            values[_FINAL] = _BOOLS[values[_FINAL]]
            for j in _PRICES:
                if values[j] is not None:
                    values[j] = format(values[j], "f")
            out.append(values)
        self._csv.writerows(out)

    def close(self) -> None:
        self._text.flush()
        self._text.detach()
        if self._owns:
            self._raw.close()  # the gzip stream: writes its trailer, leaves the file open


class _JsonLinesWriter:
    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._dump = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def write(self, rows: list[ReportRow]) -> None:
        dump = self._dump
        text = "".join(
            [dump(dict(zip(COLUMNS, map(_text, row), strict=True))) + "\n" for row in rows]
        )
        self._raw.write(text.encode("utf-8"))

    def close(self) -> None:
        pass


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise CascadeReportError(
            "Parquet reports need pyarrow: pip install 'airflow-provider-cascade[parquet]'"
        ) from None
    return pyarrow


class _ParquetWriter:
    def __init__(self, raw: BinaryIO, complete: bool) -> None:
        pa = _pyarrow()
        self._pa = pa
        text, price = pa.string(), pa.decimal128(20, PRICE_SCALE)
        kinds = {"map_index": pa.int32(), "final": pa.bool_(), "num_parts_sms": pa.int32(),
                 "time_change_state": pa.timestamp("s")}  # fmt: skip
        self._schema = pa.schema(
            [(c, price if c.startswith("price_") else kinds.get(c, text)) for c in COLUMNS],
            metadata={"cascade.complete": "true" if complete else "false"},
        )
        self._file = pa.parquet.ParquetWriter(raw, self._schema)

    def write(self, rows: list[ReportRow]) -> None:
        columns = list(zip(*rows, strict=True))
        try:
            arrays = [
                self._pa.array(list(values), type=f.type)
                for values, f in zip(columns, self._schema, strict=True)
            ]
        except self._pa.ArrowInvalid as exc:
            raise CascadeReportError(
                f"a value does not fit the Parquet report exactly (prices keep {PRICE_SCALE} "
                f"decimal places): {exc}"
            ) from None
        self._file.write_batch(self._pa.record_batch(arrays, schema=self._schema))

    def close(self) -> None:
        self._file.close()
