"""One small summary object per campaign (a send task instance), kept under the ledger root in
``_campaigns/``, so a list of campaigns is one LIST call plus a page of reads, never a read of
per-recipient records. An object's name carries what the list filters and sorts on (start
time, DAG, run, task, map index); its body what a page shows. The send and the wait rewrite
it as they go, so a page refresh shows progress."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, unquote

from ..gateway._wire import redact_url
from ._store import Ledger, storage_path

log = logging.getLogger(__name__)

INDEX_DIR = "_campaigns"
POINTER = "campaign.json"
"""In the ledger folder: the name of its summary object (every try and the wait find it)."""
FORMAT = "cascade-campaign"
MAX_SNAPSHOTS = 240
"""Final-state snapshots kept per campaign; older ones are thinned, never all dropped."""
_STAMP = "%Y%m%dT%H%M%S%fZ"


@dataclass(frozen=True)
class CampaignKey:
    """What a summary object's name says: enough to filter, sort and check permission."""

    started: datetime
    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    name: str

    @property
    def campaign(self) -> tuple[str, str, str]:
        """A campaign is a send task of a run; a mapped send's shards share it."""
        return (self.dag_id, self.run_id, self.task_id)


def summary_name(started: datetime, dag_id: str, run_id: str, task_id: str, map_index: int) -> str:
    parts = [started.astimezone(timezone.utc).strftime(_STAMP), dag_id, run_id, task_id]
    return ",".join(quote(p, safe="") for p in parts) + f",{int(map_index)}.json"


def parse_name(name: str) -> CampaignKey | None:
    """The key a summary object's name holds; None for anything else in the folder."""
    if not name.endswith(".json"):
        return None
    parts = name[: -len(".json")].split(",")
    if len(parts) != 5:
        return None
    try:
        started = datetime.strptime(parts[0], _STAMP).replace(tzinfo=timezone.utc)
        map_index = int(parts[4])
    except ValueError:
        return None
    dag_id, run_id, task_id = (unquote(p) for p in parts[1:4])
    return CampaignKey(started, dag_id, run_id, task_id, map_index, name)


def ledger_root(ledger_url: str) -> str:
    """The root a task's ledger lives under (``<root>/<dag>/<run>/<task>/map_<i>``)."""
    return ledger_url.rstrip("/").rsplit("/", 4)[0]


_USERINFO = re.compile(r"^([a-z][a-z0-9+.-]*://)([^/@:]*):[^/@]*@", re.IGNORECASE)


def shown_url(url: str) -> str:
    """A ledger URL as a page may show it: no password in its user part or its query."""
    return _USERINFO.sub(lambda m: f"{m.group(1)}{m.group(2)}:***@", redact_url(url))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class CampaignSummaries:
    """Summary objects under one ledger root."""

    def __init__(self, root: str) -> None:
        self.root = root.rstrip("/")
        self.folder = storage_path(self.root) / INDEX_DIR

    # -- writing ---------------------------------------------------------------------
    def _fresh(self) -> None:
        """Forget cached listings: other processes write summaries (s3fs caches a folder's
        listing and sizes, and would read a rewritten object at its old size)."""
        self.folder.fs.invalidate_cache(self.folder.path)

    def _read(self, name: str, fresh: bool = True) -> dict[str, Any] | None:
        if fresh:
            self._fresh()
        path = self.folder / name
        try:
            with path.open("r", encoding="utf-8") as f:
                data: dict[str, Any] = json.load(f)
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        return data

    def _write(self, name: str, value: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / name).open("w", encoding="utf-8") as f:
            f.write(json.dumps(value, ensure_ascii=False))

    # -- reading ---------------------------------------------------------------------
    def keys(self) -> list[CampaignKey]:
        """Every summary's key: one LIST call, no object read."""
        self._fresh()
        fs, path = self.folder.fs, self.folder.path
        try:
            names = fs.ls(path, detail=False)
        except FileNotFoundError:
            return []
        keys = (parse_name(str(n).rstrip("/").rsplit("/", 1)[-1]) for n in names)
        return [k for k in keys if k is not None]

    def read_many(self, keys: Iterable[CampaignKey]) -> list[dict[str, Any]]:
        """Summaries of ``keys`` just listed, in one batched fetch (an object store's
        filesystem fetches them concurrently; each read alone is a round trip)."""
        base = self.folder.path.rstrip("/")
        paths = [f"{base}/{k.name}" for k in keys]
        if not paths:
            return []
        fetched = self.folder.fs.cat(paths, on_error="omit")
        found = {str(p).split("://", 1)[-1]: v for p, v in fetched.items()}  # without protocol
        out = []
        for path in paths:
            data = found.get(path.split("://", 1)[-1])
            if data is None:  # gone since the listing
                continue
            try:
                out.append(json.loads(data))
            except json.JSONDecodeError:  # cut short: the next write makes it whole
                continue
        return out

    def page(
        self,
        readable: Callable[[str], bool],
        *,
        dag_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> CampaignPage:
        """Campaigns newest first, only of DAGs ``readable`` allows, filtered by the names
        alone; only the page's summaries are read."""
        groups: dict[tuple[str, str, str], list[CampaignKey]] = {}
        for key in self.keys():
            if dag_id and key.dag_id != dag_id:
                continue
            if (since and key.started < since) or (until and key.started >= until):
                continue
            groups.setdefault(key.campaign, []).append(key)
        allowed = {d for d in {c[0] for c in groups} if readable(d)}
        ordered = sorted(
            (ks for c, ks in groups.items() if c[0] in allowed),
            key=lambda ks: max(k.started for k in ks),
            reverse=True,
        )
        shown = ordered[offset : offset + limit]
        summaries = self.read_many(k for ks in shown for k in ks)
        by_campaign: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for s in summaries:
            by_campaign.setdefault((s["dag_id"], s["run_id"], s["task_id"]), []).append(s)
        rows = [
            Campaign(sorted(by_campaign[ks[0].campaign], key=lambda s: int(s["map_index"])))
            for ks in shown
            if ks[0].campaign in by_campaign
        ]
        return CampaignPage(rows, len(ordered), offset, limit, sorted(allowed))

    def of_run(self, dag_id: str, run_id: str, task_id: str | None = None) -> list[Campaign]:
        keys = [
            k
            for k in self.keys()
            if k.dag_id == dag_id and k.run_id == run_id and task_id in (None, k.task_id)
        ]
        by_task: dict[str, list[dict[str, Any]]] = {}
        for s in self.read_many(keys):
            by_task.setdefault(s["task_id"], []).append(s)
        return [
            Campaign(sorted(v, key=lambda s: int(s["map_index"])))
            for _, v in sorted(by_task.items())
        ]


@dataclass
class Campaign:
    """A send task of a run: its shards' summaries (one for an unmapped send)."""

    shards: list[dict[str, Any]]

    @property
    def first(self) -> dict[str, Any]:
        return self.shards[0]

    @property
    def key(self) -> tuple[str, str, str]:
        f = self.shards[0]
        return (str(f["dag_id"]), str(f["run_id"]), str(f["task_id"]))

    def total(self, section: str, name: str) -> int:
        return sum(int((s.get(section) or {}).get(name) or 0) for s in self.shards)

    @property
    def recipients(self) -> int:
        return sum(
            int((s.get("send") or {}).get("total") or s.get("planned") or 0) for s in self.shards
        )

    @property
    def started(self) -> str:
        return min(str(s.get("started") or "") for s in self.shards)

    @property
    def masked(self) -> bool:
        """Phones are masked unless every shard's send said masking was off."""
        return any(s.get("mask_phones") is not False for s in self.shards)

    def by_state(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.shards:
            for state, n in ((s.get("wait") or {}).get("by_state") or {}).items():
                out[state] = out.get(state, 0) + int(n)
        return out

    def by_channel_state(self) -> dict[str, dict[str, int]]:
        """Final messages by each channel's own state, over the shards."""
        out: dict[str, dict[str, int]] = {}
        for s in self.shards:
            for channel, states in ((s.get("wait") or {}).get("by_channel_state") or {}).items():
                mine = out.setdefault(channel, {})
                for state, n in states.items():
                    mine[state] = mine.get(state, 0) + int(n)
        return out

    def cost_by_channel(self) -> dict[str, str]:
        from decimal import Decimal

        out: dict[str, Decimal] = {}
        for s in self.shards:
            prices = ((s.get("wait") or {}).get("price_totals") or {}).get("by_channel") or {}
            for channel, price in prices.items():
                out[channel] = out.get(channel, Decimal(0)) + Decimal(str(price))
        return {c: str(v) for c, v in sorted(out.items())}

    def cost_total(self) -> str:
        from decimal import Decimal

        return str(sum((Decimal(v) for v in self.cost_by_channel().values()), Decimal(0)))

    def status(self) -> str:
        """sending / waiting / done, from the summaries (the page adds failed from Airflow)."""
        if any("send" not in s for s in self.shards):
            return "sending"
        accepted = self.total("send", "accepted")
        if accepted == 0:
            return "done"
        if any("wait" not in s for s in self.shards if (s.get("send") or {}).get("accepted")):
            return "waiting"
        waits = [s["wait"] for s in self.shards if "wait" in s]
        done = all(int(w.get("final") or 0) >= int(w.get("total") or 0) for w in waits)
        return "done" if done else "waiting"


@dataclass
class CampaignPage:
    rows: list[Campaign]
    matching: int
    offset: int
    limit: int
    dags: list[str] = field(default_factory=list)


# -- what the operator and the wait call ---------------------------------------------------
def _kept(write: Callable[..., None]) -> Callable[..., None]:
    """A summary is for people looking: failing to write one never fails a send or a wait."""

    def guarded(*args: Any, **kwargs: Any) -> None:
        try:
            write(*args, **kwargs)
        except Exception as error:  # any storage error: say so, go on
            log.warning("Cascade: campaign summary not updated (%s)", type(error).__name__)

    guarded.__doc__ = write.__doc__
    return guarded


def _summaries_for(ledger: Ledger) -> tuple[CampaignSummaries, str] | None:
    pointer = ledger.read_json(POINTER)
    if not isinstance(pointer, dict) or not pointer.get("summary"):
        return None
    return CampaignSummaries(ledger_root(ledger.url)), str(pointer["summary"])


@_kept
def campaign_started(
    ledger: Ledger, *, dag_id: str, run_id: str, task_id: str, map_index: int | None,
    planned: int | None = None, **meta: Any,
) -> None:  # fmt: skip
    """At the start of every try of a send: the summary object (named at the first try)."""
    index = -1 if map_index is None else int(map_index)
    found = _summaries_for(ledger)
    if found is None:
        key = summary_name(datetime.now(timezone.utc), dag_id, run_id, task_id, index)
        found = CampaignSummaries(ledger_root(ledger.url)), key
        ledger.write_json(POINTER, {"summary": key})
    summaries, name = found
    summary = summaries._read(name) or {"format": FORMAT, "version": 1, "started": _now()}
    summary.update(meta, dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=index)
    summary.update(ledger=shown_url(ledger.url), updated=_now(), state="sending")
    if planned is not None:
        summary["planned"] = planned
    summary.pop("send", None)
    summaries._write(name, summary)


@_kept
def campaign_sent(ledger: Ledger, sent: dict[str, Any]) -> None:
    """When a try has sent everything: the counts written to the ledger's ``summary.json``."""
    found = _summaries_for(ledger)
    if found is None:
        return
    summaries, name = found
    summary = summaries._read(name) or {}
    summary.update(send=dict(sent), updated=_now(), state="sent")
    if "mask_phones" in sent:
        summary["mask_phones"] = bool(sent["mask_phones"])
    summaries._write(name, summary)


@_kept
def campaign_waited(ledger: Ledger, progress: dict[str, Any]) -> None:
    """After each round of the wait: its counts and one snapshot of the final states."""
    found = _summaries_for(ledger)
    if found is None:
        return
    summaries, name = found
    summary = summaries._read(name) or {}
    before = summary.get("wait") or {}
    snapshots: list[Any] = list(before.get("snapshots") or [])
    point = [_now(), int(progress.get("final") or 0), dict(progress.get("by_state") or {})]
    if not snapshots or snapshots[-1][1:] != point[1:]:
        snapshots.append(point)
    if len(snapshots) > MAX_SNAPSHOTS:
        snapshots = snapshots[:-1:2] + snapshots[-1:]
    done = int(progress.get("final") or 0) >= int(progress.get("total") or 0)
    summary.update(wait={**progress, "snapshots": snapshots}, updated=_now(),
                   state="done" if done else "waiting")  # fmt: skip
    summaries._write(name, summary)
