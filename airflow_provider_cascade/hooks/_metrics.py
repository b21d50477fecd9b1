"""Provider metrics through Airflow's ``Stats``: a no-op until ``[metrics] statsd_on`` (or
``otel_on``) is set. Only the Airflow glue calls these (``clients/`` and ``gateway/`` know
nothing of Airflow). Tags are low-cardinality: an outcome, a variant, a kind, a state word, a
channel; never a phone, an id, a campaign or a run."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

PREFIX = "cascade"
RECIPIENTS = f"{PREFIX}.recipients"
"""Recipients of a send by outcome: accepted, rejected, untracked (counter)."""
REQUESTS = f"{PREFIX}.requests"
"""Requests to the gateway by variant, kind (send / status) and result (ok / error)."""
REQUEST_DURATION = f"{PREFIX}.request.duration"
"""Milliseconds one request took, retries included, by variant and kind (timer)."""
REFUSALS = f"{PREFIX}.refusals"
"""Ids whose status query the gateway refused under its once-a-minute rule (counter)."""
FINAL_STATES = f"{PREFIX}.messages.final"
"""Messages by final state at the end of a wait (counter)."""
COST = f"{PREFIX}.cost"
"""A finished wait's cost by channel, in the account's currency (gauge)."""
NAMES = (RECIPIENTS, REQUESTS, REQUEST_DURATION, REFUSALS, FINAL_STATES, COST)


def _stats() -> Any:
    try:
        from airflow.providers.common.compat.sdk import Stats
    except ImportError:  # an Airflow without it: no metrics
        return None
    return Stats


def incr(name: str, count: int = 1, **tags: str) -> None:
    stats = _stats()
    if stats is not None and count:
        stats.incr(name, count, tags=tags)


def timing(name: str, seconds: float, **tags: str) -> None:
    stats = _stats()
    if stats is not None:
        stats.timing(name, timedelta(seconds=seconds), tags=tags)


def gauge(name: str, value: float, **tags: str) -> None:
    stats = _stats()
    if stats is not None:
        stats.gauge(name, value, tags=tags)


def request(variant: str, kind: str, seconds: float, ok: bool) -> None:
    incr(REQUESTS, variant=variant, kind=kind, result="ok" if ok else "error")
    timing(REQUEST_DURATION, seconds, variant=variant, kind=kind)


def recipients(counts: Mapping[str, int]) -> None:
    for outcome in ("accepted", "rejected", "untracked"):
        incr(RECIPIENTS, int(counts.get(outcome, 0)), outcome=outcome)


def final_states(by_state: Mapping[str, int], by_channel: Mapping[str, Decimal | str]) -> None:
    for state, n in sorted(by_state.items()):
        incr(FINAL_STATES, int(n), state=state)
    for channel, price in sorted(by_channel.items()):
        gauge(COST, float(Decimal(price)), channel=channel)
