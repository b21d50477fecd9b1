"""What the sensor and the waiting send operator do once messages are final."""

from __future__ import annotations

import logging
from typing import Any

from ..gateway import CascadeError, MessageState, MessageStatus, summarize

UNDELIVERED = frozenset({MessageStatus.NOT_DELIVER, MessageStatus.EXPIRED})


def finish(
    context: Any,
    states: dict[str, MessageState],
    log: logging.Logger | Any,
    *,
    fail_on_undelivered: bool = False,
) -> dict[str, dict[str, Any]]:
    """Push ``prices`` and ``price_totals``, log the summary, and return the state dicts."""
    summary = summarize(states)
    log.info("Cascade: %s; cost %s", summary.progress(), summary.totals())
    ti = context["ti"]
    ti.xcom_push(key="prices", value=summary.prices)
    ti.xcom_push(key="price_totals", value=summary.totals())
    if fail_on_undelivered:
        bad = sorted(i for i, s in states.items() if s.status in UNDELIVERED)
        if bad:
            raise CascadeError(f"{len(bad)} message(s) not delivered, e.g. {bad[:5]}")
    return {k: v.to_dict() for k, v in states.items()}


def states_from_event(event: dict[str, Any]) -> dict[str, MessageState]:
    return {k: MessageState.from_dict(v) for k, v in (event.get("states") or {}).items()}
