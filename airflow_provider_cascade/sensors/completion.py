"""Waiting for messages, shared by the sensor and the send operator's
``wait_for_completion``: one poll of what is still outstanding, and what to do once all
are final."""

from __future__ import annotations

import logging
from typing import Any

from ..gateway import (
    CascadeError,
    CascadeResponseError,
    CascadeServerError,
    CascadeTransportError,
    MessageState,
    MessageStatus,
    summarize,
)
from ..hooks.cascade import CascadeHook

UNDELIVERED = frozenset({MessageStatus.NOT_DELIVER, MessageStatus.EXPIRED})
#: Worth polling again; bad ids or credentials are not.
TRANSIENT = (CascadeServerError, CascadeTransportError, CascadeResponseError)


def poll_once(
    hook: CascadeHook, ids: list[str], states: dict[str, MessageState], log: logging.Logger | Any
) -> bool:
    """Ask about the ids not final yet, update ``states``; True when every id is final."""
    outstanding = [i for i in ids if not (i in states and states[i].is_final)]
    try:
        states.update(hook.get_states(outstanding))
    except TRANSIENT as exc:
        log.warning("Cascade status poll failed, will poll again: %s", exc)
        return False
    log.info("Cascade: %s", summarize(states, len(ids)).progress())
    return all(i in states and states[i].is_final for i in ids)


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
