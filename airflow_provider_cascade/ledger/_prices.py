"""What earlier campaigns cost, kept beside the ledger root for each connection: the sensor
adds the prices the gateway reported, the send operators learn unit prices and how often
messages fell through the cascade from it. Small: totals of the last campaigns only."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from ..gateway import MessageState
from ..gateway._channels import Channel
from ._store import storage_path

FORMAT = "cascade-prices"
VERSION = 1
KEEP = 20
"""Campaigns kept: enough for steady figures, few enough that old prices fade out."""
PLACES = 4
UNIT = Decimal("0.0001")


@dataclass
class Observation:
    """One campaign's final messages: units and cost per channel, and how many messages were
    charged on at least 1, 2, 3, 4 channels (how far they fell through the cascade)."""

    messages: int = 0
    units: dict[str, int] = field(default_factory=dict)
    cost: dict[str, Decimal] = field(default_factory=dict)
    reached: list[int] = field(default_factory=lambda: [0] * PLACES)

    def add(self, state: MessageState) -> None:
        if not state.is_final:
            return
        self.messages += 1
        used = 0
        for channel, price in state.prices.items():
            if not price:
                continue
            used += 1
            name = channel.value
            n = (state.num_parts_sms or 1) if channel is Channel.SMS else 1
            self.units[name] = self.units.get(name, 0) + n
            self.cost[name] = self.cost.get(name, Decimal(0)) + price
        for place in range(min(used, PLACES)):
            self.reached[place] += 1

    def to_json(self) -> dict[str, Any]:
        return {"at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "messages": self.messages, "reached": self.reached,
                "channels": {c: {"units": self.units[c], "cost": str(self.cost[c])}
                             for c in sorted(self.units)}}  # fmt: skip


def observe(states: Iterable[MessageState]) -> Observation:
    found = Observation()
    for state in states:
        found.add(state)
    return found


def observe_ledgers(watches: Iterable[Any]) -> Observation:
    """The states a ledger wait wrote beside each ledger, read a batch at a time."""
    found = Observation()
    for watch in watches:
        for batch in watch.ledger.batches():
            for state in watch.known(batch).values():
                found.add(state)
    return found


def history_url(root: str, conn_id: str) -> str:
    return f"{root.rstrip('/')}/prices/{quote(conn_id, safe='-_.')}.json"


def root_of(ledger_url: str) -> str:
    """The ledger root a task's ledger folder sits under (dag/run/task/map below it)."""
    return ledger_url.rstrip("/").rsplit("/", 4)[0]


class PriceHistory:
    def __init__(self, root: str, conn_id: str) -> None:
        self.url = history_url(root, conn_id)
        self.campaigns: list[dict[str, Any]] = self._read()

    def _read(self) -> list[dict[str, Any]]:
        path = storage_path(self.url)
        if not path.exists():
            return []
        with path.open("r", encoding="utf-8") as f:
            data = json.load(f)
        return list(data.get("campaigns") or []) if data.get("format") == FORMAT else []

    def add(self, found: Observation) -> None:
        """Keep one more campaign (those with no final message teach nothing)."""
        if not found.messages:
            return
        self.campaigns = [*self.campaigns, found.to_json()][-KEEP:]
        path = storage_path(self.url)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"format": FORMAT, "version": VERSION, "campaigns": self.campaigns},
                          indent=1)  # fmt: skip
        with path.open("w", encoding="utf-8") as f:
            f.write(text)

    def unit_prices(self) -> dict[Channel, Decimal]:
        units: dict[str, int] = {}
        cost: dict[str, Decimal] = {}
        for c in self.campaigns:
            for name, v in (c.get("channels") or {}).items():
                units[name] = units.get(name, 0) + int(v["units"])
                cost[name] = cost.get(name, Decimal(0)) + Decimal(v["cost"])
        return {Channel(n): (cost[n] / units[n]).quantize(UNIT) for n in units if units[n]}

    def reach(self) -> list[Decimal] | None:
        """Share of messages charged on at least 1, 2, ... channels; None without history."""
        total = sum(int(c.get("messages") or 0) for c in self.campaigns)
        if not total:
            return None
        sums = [0] * PLACES
        for c in self.campaigns:
            for place, n in enumerate((c.get("reached") or [])[:PLACES]):
                sums[place] += int(n)
        return [Decimal(n) / Decimal(total) for n in sums]


def keep_prices(root: str, conn_id: str, found: Observation, log: Any) -> None:
    """Add a finished campaign to the history; a failed write costs the next estimate its
    learned prices, never this task its success."""
    try:
        PriceHistory(root, conn_id).add(found)
    except (OSError, ValueError, KeyError) as exc:
        log.warning("Cascade: the price history was not updated: %s", exc)


def known_prices(
    root: str,
    conn_id: str,
    connection: Mapping[Channel, Decimal],
    task: Mapping[Channel, Decimal],
) -> tuple[dict[Channel, tuple[Decimal, str]], list[Decimal] | None]:
    """Each channel's price per unit and its source: the task's, else the connection's, else
    learned from earlier campaigns; and the history's fall-through shares (None: none yet)."""
    history = PriceHistory(root, conn_id)
    known = {c: (p, "history") for c, p in history.unit_prices().items()}
    known.update({c: (p, "connection") for c, p in connection.items()})
    known.update({c: (p, "argument") for c, p in task.items()})
    return known, history.reach()
