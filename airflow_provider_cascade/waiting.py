"""Waiting for Cascade messages to reach a final state: the one home for the sensor (poke,
reschedule and deferrable), its trigger and the send operator's ``wait_for_completion``.

One policy for all of them:

- ask only about the ids not final yet (all of them on a wait's first query);
- never repeat a status query within the gateway's repeat window ("the same request at most
  once a minute"): queries are ``max(interval, window)`` apart, measured from the end of the
  previous one, and a wait handed to the trigger carries when it last asked;
- ids left out of an answer were refused as a repeat: "not now", nothing failed; ask again
  after the period;
- transient failures (HTTP 5xx/429, network, an unreadable answer) are retried after the
  period, and more than ``max_transient_failures`` in a row end the wait; any other error
  (credentials, a gateway error text, bad input) ends it at once;
- progress goes to the log when it changes, otherwise at most every ``PROGRESS_LOG_EVERY``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from .gateway import (
    CascadeDuplicateRequestError,
    CascadeError,
    CascadeResponseError,
    CascadeServerError,
    CascadeTransportError,
    CascadeUndelivered,
    CascadeValidationError,
    CascadeWaitTimeout,
    MessageState,
    MessageStatus,
    StateSummary,
    summarize,
)
from .gateway._privacy import shown_phone
from .gateway.defaults import MAX_TRANSIENT_FAILURES, PROGRESS_LOG_EVERY, REPEAT_WINDOW
from .ledger._wait import Progress

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from .clients import AsyncCascadeClient
    from .hooks.cascade import CascadeHook

__all__ = [
    "TRANSIENT",
    "UNDELIVERED",
    "LedgerWait",
    "StatusWait",
    "Wait",
    "WaitSettings",
    "apoll",
    "check_wait_args",
    "describe_event",
    "describe_wait",
    "event_payload",
    "final_line",
    "finish",
    "finish_ledgers",
    "ledger_wait_after_event",
    "poll",
    "states_from_event",
]

UNDELIVERED = frozenset({MessageStatus.NOT_DELIVER, MessageStatus.EXPIRED})
#: Worth asking again after the period; bad ids, credentials or gateway error texts are not.
TRANSIENT = (CascadeServerError, CascadeTransportError, CascadeResponseError)


class _Log(Protocol):
    def info(self, msg: Any, /, *args: Any) -> Any: ...
    def warning(self, msg: Any, /, *args: Any) -> Any: ...


def check_wait_args(interval_field: str, interval: object, max_transient_failures: object) -> None:
    """Refuse bad wait arguments when the task is built, naming the field (an interval of
    None means "as often as the gateway allows")."""
    if interval is None:
        pass
    elif isinstance(interval, bool) or not isinstance(interval, (int, float)) or not interval >= 0:
        raise CascadeValidationError(interval_field, f"must be seconds >= 0 (got {interval!r})")
    if (
        isinstance(max_transient_failures, bool)
        or not isinstance(max_transient_failures, int)
        or max_transient_failures < 0
    ):
        raise CascadeValidationError(
            "max_transient_failures", f"must be an integer >= 0 (got {max_transient_failures!r})"
        )


@dataclass(frozen=True)
class WaitSettings:
    """How often a wait may ask, and how many transient failures in a row it tolerates."""

    interval: float | None = None
    """Seconds between queries as asked; None: as often as the gateway allows (the window)."""
    window: float = REPEAT_WINDOW
    max_transient_failures: int = MAX_TRANSIENT_FAILURES

    @property
    def period(self) -> float:
        """Seconds between two status queries: the interval, raised to the repeat window."""
        return self.window if self.interval is None else max(self.interval, self.window)

    def raised_note(self) -> str | None:
        """What to log once when an interval asked for had to be raised to the window."""
        if self.interval is None or self.interval >= self.window:
            return None
        return (
            f"poll interval {self.interval:g} s is shorter than the gateway's repeat window "
            f"{self.window:g} s (identical requests are refused within it): polling every "
            f"{self.window:g} s"
        )


class Wait:
    """What every wait shares, without I/O: when to ask next, what a failure means, what to
    log. Two kinds: :class:`StatusWait` (ids held here) and :class:`LedgerWait` (ids read from
    campaign ledgers); drivers (``poll``, ``apoll``, ``finish_wait``, ``event_payload``) call
    only what this class declares.

    Times are wall-clock seconds (``time.time()``): a sensor hands ``last_query_at`` to its
    trigger, which may run in another process.
    """

    ids: list[str]
    """The ids this wait holds in memory (none for a ledger wait: they stay in the ledgers)."""

    def __init__(
        self,
        settings: WaitSettings,
        *,
        last_query_at: float | None = None,
        last_progress: str | None = None,
        log_every: float = PROGRESS_LOG_EVERY,
    ) -> None:
        self.ids = []
        self.settings = settings
        self.last_query_at = last_query_at
        self.failures = 0
        self.refused = 0
        self.queries = 0
        self._log_every = log_every
        # what the task logged last (a trigger continues its log): not repeated within log_every
        self.logged_progress = last_progress
        self._logged_at = float("-inf") if last_query_at is None else last_query_at

    # -- what each kind says ----------------------------------------------------------
    @property
    def done(self) -> bool:
        raise NotImplementedError

    @property
    def empty(self) -> bool:
        """Nothing to wait for (e.g. a send that accepted nobody)."""
        return False

    def pending(self) -> int:
        """How many messages the next query asks about (to say how many a refusal held)."""
        raise NotImplementedError

    def summary(self) -> StateSummary:
        raise NotImplementedError

    def known(self) -> int:
        """Messages with a state so far (for the progress line)."""
        raise NotImplementedError

    @property
    def started(self) -> bool:
        """An answer brought something to tell."""
        raise NotImplementedError

    def query(
        self, hook: CascadeHook, log: _Log | logging.Logger, now: Callable[[], float]
    ) -> None:
        """One query (or one round over ledgers) with the blocking hook, recorded."""
        raise NotImplementedError

    async def aquery(
        self, client: AsyncCascadeClient, log: _Log | logging.Logger, now: Callable[[], float]
    ) -> None:
        """:meth:`query` with the asyncio client."""
        raise NotImplementedError

    def event_fields(self) -> dict[str, Any]:
        """What a trigger event carries besides the counts."""
        raise NotImplementedError

    def trigger_targets(self) -> dict[str, Any]:
        """What a trigger needs to go on with this wait (``id_messages`` or ``ledgers``)."""
        raise NotImplementedError

    def finish(
        self, context: Context | Mapping[str, Any], log: _Log | logging.Logger, *,
        fail_on_undelivered: bool = False,
    ) -> Any:  # fmt: skip
        """Push the XComs of a finished wait and return the task's value."""
        raise NotImplementedError

    # -- when to ask ------------------------------------------------------------------
    def next_query_at(self) -> float:
        """The earliest time the next status query may go out."""
        if self.last_query_at is None:
            return float("-inf")
        return self.last_query_at + self.settings.period

    def delay(self, now: float) -> float:
        return max(0.0, self.next_query_at() - now)

    # -- what a failure means ---------------------------------------------------------
    def record_failure(self, error: CascadeError, now: float) -> str:
        """Count a failed query; returns what to log, or raises when the wait must end."""
        self.queries += 1
        self.last_query_at = now  # it may have reached the gateway: its window runs too
        if isinstance(error, CascadeDuplicateRequestError):
            self.refused = self.pending()
            return self.refusal_note()
        if not isinstance(error, TRANSIENT):
            raise error
        self.failures += 1
        limit = self.settings.max_transient_failures
        if self.failures > limit:
            raise CascadeError(
                f"status polling keeps failing ({self.failures} times in a row, "
                f"max_transient_failures={limit}): {error}"
            ) from error
        return (
            f"Cascade status query failed ({self.failures} of at most {limit} in a row), "
            f"asking again in {self.settings.period:g} s: {error}"
        )

    def refusal_note(self) -> str:
        return (
            f"Cascade: the gateway refused a status query for {self.refused} id(s) as a repeat "
            f"within its {self.settings.window:g} s window (another task asking about the same "
            f"ids?); asking again in {self.settings.period:g} s"
        )

    # -- what to tell people ----------------------------------------------------------
    def progress_line(self, now: float) -> str | None:
        """The progress line to log now, or None: logged when it changes, else at most every
        ``log_every`` seconds; never before an answer brought states."""
        if not self.started:
            return None
        text = progress_text(self.summary(), self.known())
        if text == self.logged_progress and now - self._logged_at < self._log_every:
            return None
        self.logged_progress, self._logged_at = text, now
        return f"Cascade: {text}"


class StatusWait(Wait):
    """A wait over ids held in memory (inline sends, a sensor given ids)."""

    def __init__(
        self,
        ids: Sequence[str],
        settings: WaitSettings,
        *,
        last_query_at: float | None = None,
        last_progress: str | None = None,
        log_every: float = PROGRESS_LOG_EVERY,
    ) -> None:
        super().__init__(
            settings, last_query_at=last_query_at, last_progress=last_progress,
            log_every=log_every,
        )  # fmt: skip
        self.ids = list(dict.fromkeys(ids))
        self.states: dict[str, MessageState] = {}

    def outstanding(self) -> list[str]:
        return [i for i in self.ids if not (i in self.states and self.states[i].is_final)]

    @property
    def done(self) -> bool:
        return all(i in self.states and self.states[i].is_final for i in self.ids)

    @property
    def empty(self) -> bool:
        return not self.ids

    def pending(self) -> int:
        return len(self.outstanding())

    def known(self) -> int:
        return len(self.states)

    @property
    def started(self) -> bool:
        return bool(self.states)

    def summary(self) -> StateSummary:
        return summarize({i: self.states[i] for i in self.ids if i in self.states}, len(self.ids))

    def record_answer(
        self, asked: Sequence[str], got: Mapping[str, MessageState], now: float
    ) -> None:
        self.queries += 1
        self.last_query_at = now
        self.failures = 0
        self.states.update(got)
        self.refused = sum(1 for i in asked if i not in got)

    def query(
        self, hook: CascadeHook, log: _Log | logging.Logger, now: Callable[[], float]
    ) -> None:
        asked = self.outstanding()
        try:
            got = hook.get_states(asked)
        except CascadeError as exc:
            log.warning("%s", self.record_failure(exc, now()))
            return
        self.record_answer(asked, got, now())
        _log_progress(self, now(), log)

    async def aquery(
        self, client: AsyncCascadeClient, log: _Log | logging.Logger, now: Callable[[], float]
    ) -> None:
        asked = self.outstanding()
        try:
            got = await client.get_states(asked)
        except CascadeError as exc:
            log.warning("%s", self.record_failure(exc, now()))
            return
        self.record_answer(asked, got, now())
        _log_progress(self, now(), log)

    def event_fields(self) -> dict[str, Any]:
        return {"states": {i: self.states[i].to_dict() for i in self.ids if i in self.states}}

    def trigger_targets(self) -> dict[str, Any]:
        return {"id_messages": self.ids, "ledgers": None}

    def finish(
        self, context: Context | Mapping[str, Any], log: _Log | logging.Logger, *,
        fail_on_undelivered: bool = False,
    ) -> Any:  # fmt: skip
        return finish(context, self.states, log, fail_on_undelivered=fail_on_undelivered)


def progress_text(summary: StateSummary, known: int) -> str:
    """``3/7 final: deliver 2, not_deliver 1; 4 in progress``."""
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summary.by_state.items()))
    text = f"{summary.final}/{summary.total} final"
    if counts:
        text += f": {counts}"
    pending = summary.total - summary.final
    if pending:
        unknown = summary.total - known
        text += f"; {pending} in progress" + (f" ({unknown} not asked yet)" if unknown > 0 else "")
    return text


def describe_wait(wait: Wait) -> str:
    """Where a wait stands, for an error message."""
    return progress_text(wait.summary(), wait.known())


def final_line(summary: StateSummary) -> str:
    """``7 final: deliver 5, not_deliver 1, expired 1; cost sms 6.15 + viber 3.85 = 10.00``."""
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summary.by_state.items()))
    text = f"{summary.final} final" + (f": {counts}" if counts else "")
    channels = summary.by_channel
    if not channels:
        return text + "; no charges reported"
    parts = " + ".join(f"{c} {p}" for c, p in channels.items())
    return text + f"; cost {parts}" + (f" = {summary.grand_total}" if len(channels) > 1 else "")


# -- drivers: the same policy, blocking and asyncio ---------------------------------------
def poll(
    hook: CascadeHook,
    wait: Wait,
    log: _Log | logging.Logger,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """One status query (after sleeping out the period if the last one was too recent, which
    only happens within one process); True when every id is final."""
    pause = wait.delay(clock())
    if pause > 0:
        sleep(pause)
    wait.query(hook, log, clock)
    return wait.done


async def apoll(
    client: AsyncCascadeClient,
    wait: Wait,
    log: _Log | logging.Logger,
    *,
    clock: Callable[[], float] = time.time,
) -> bool:
    """:func:`poll` on the asyncio client (the caller sleeps: it also watches a deadline)."""
    pause = wait.delay(clock())
    if pause > 0:
        await asyncio.sleep(pause)
    await wait.aquery(client, log, clock)
    return wait.done


def _log_progress(wait: Wait, now: float, log: _Log | logging.Logger) -> None:
    """After an answer (or a round over ledgers): refusals, then progress when it changed."""
    if wait.refused:
        log.info("%s", wait.refusal_note())
    line = wait.progress_line(now)
    if line is not None:
        log.info("%s", line)


# -- the end of a wait --------------------------------------------------------------------
def finish(
    context: Context | Mapping[str, Any],
    states: Mapping[str, MessageState],
    log: _Log | logging.Logger,
    *,
    fail_on_undelivered: bool = False,
) -> dict[str, dict[str, Any]]:
    """Push ``prices`` and ``price_totals``, log one readable line, return the state dicts."""
    summary = summarize(states)
    log.info("Cascade: %s", final_line(summary))
    ti = context["ti"]
    ti.xcom_push(key="prices", value=summary.prices)
    ti.xcom_push(key="price_totals", value=summary.totals())
    if fail_on_undelivered:
        bad = sorted(i for i, s in states.items() if s.status in UNDELIVERED)
        if bad:
            raise CascadeUndelivered(bad[:5], len(bad))
    return {k: v.to_dict() for k, v in states.items()}


def event_payload(status: str, wait: Wait, message: str = "") -> dict[str, Any]:
    """A trigger event: JSON, a status and counts first, then the states the task needs (for
    ledgers only where they are: the states sit beside the ledgers)."""
    summary = wait.summary()
    payload: dict[str, Any] = {
        "status": status,
        "message": message,
        "total": summary.total,
        "final": summary.final,
        "counts": summary.by_state,
        "last_query_at": wait.last_query_at,
    }
    payload.update(wait.event_fields())
    return payload


def event_error(payload: Mapping[str, Any]) -> CascadeError:
    """The typed error for a trigger event that is not a success."""
    text = f"waiting for Cascade messages ended with {describe_event(payload)}"
    if payload.get("status") == "timeout":
        return CascadeWaitTimeout(text, final=payload.get("final"), total=payload.get("total"))
    return CascadeError(text)


def describe_event(payload: Mapping[str, Any]) -> str:
    """A short text for an event (what the triggerer logs instead of every state)."""
    counts = ", ".join(f"{k} {v}" for k, v in sorted((payload.get("counts") or {}).items()))
    text = f"{payload.get('status')}: {payload.get('final')}/{payload.get('total')} final"
    if counts:
        text += f" ({counts})"
    if payload.get("untracked"):
        text += f"; {payload['untracked']} untracked (no id to poll, cost unknown)"
    if payload.get("message"):
        text += f"; {payload['message']}"
    return text


def states_from_event(event: Mapping[str, Any]) -> dict[str, MessageState]:
    return {k: MessageState.from_dict(v) for k, v in (event.get("states") or {}).items()}


# -- waiting on campaign ledgers (sends of any size) ----------------------------------------
class LedgerWait(Wait):
    """A wait over campaign ledgers (one per send, or per shard): ids are read from the
    ledgers a batch at a time and states written beside them, so memory, XCom and trigger
    events hold counts only. The same period, failure and logging policy as :class:`StatusWait`;
    a query goes out once per round for each batch, rounds ``period`` apart."""

    def __init__(
        self,
        ledgers: Sequence[Mapping[str, Any] | str],
        settings: WaitSettings,
        *,
        last_query_at: float | None = None,
        last_progress: str | None = None,
        log_every: float = PROGRESS_LOG_EVERY,
    ) -> None:
        from .ledger import LedgerWatch

        super().__init__(
            settings, last_query_at=last_query_at, last_progress=last_progress,
            log_every=log_every,
        )  # fmt: skip
        self.watches = [LedgerWatch(dict(r) if isinstance(r, Mapping) else r) for r in ledgers]
        self.urls = [w.ledger.url for w in self.watches]
        self.progress = Progress()
        self.rounds = 0
        self.mask_phones = False
        """Show the untracked sample's phones masked (the task's ``mask_phones``)."""

    @property
    def done(self) -> bool:
        return self.rounds > 0 and self.progress.done

    def pending(self) -> int:
        return self.progress.total - self.progress.final

    def known(self) -> int:
        return self.progress.total

    @property
    def started(self) -> bool:
        return self.rounds > 0

    def summary(self) -> StateSummary:
        p = self.progress
        totals = p.price_totals()
        return StateSummary(p.total, p.final, dict(p.by_state), {}, totals["by_channel"],
                            totals["total"])  # fmt: skip

    def record_round(self, progress: Progress, now: float) -> None:
        self.queries += 1
        self.rounds += 1
        self.last_query_at = now
        self.failures = 0
        self.progress = progress
        self.refused = progress.refused

    def query(
        self, hook: CascadeHook, log: _Log | logging.Logger, now: Callable[[], float]
    ) -> None:
        total = Progress()
        try:
            for watch in self.watches:
                total.merge(watch.poll(hook.get_states))
        except CascadeError as exc:
            log.warning("%s", self.record_failure(exc, now()))
            return
        self.record_round(total, now())
        _log_progress(self, now(), log)

    async def aquery(
        self, client: AsyncCascadeClient, log: _Log | logging.Logger, now: Callable[[], float]
    ) -> None:
        total = Progress()
        try:
            for watch in self.watches:
                total.merge(await watch.apoll(client.get_states))
        except CascadeError as exc:
            log.warning("%s", self.record_failure(exc, now()))
            return
        self.record_round(total, now())
        _log_progress(self, now(), log)

    def event_fields(self) -> dict[str, Any]:
        return {"ledgers": self.urls, "untracked": self.progress.untracked}

    def trigger_targets(self) -> dict[str, Any]:
        return {"id_messages": [], "ledgers": self.urls}

    def finish(
        self, context: Context | Mapping[str, Any], log: _Log | logging.Logger, *,
        fail_on_undelivered: bool = False,
    ) -> Any:  # fmt: skip
        return finish_ledgers(context, self, log, fail_on_undelivered=fail_on_undelivered)

    def states_locations(self) -> list[str]:
        return [w.states_url for w in self.watches]


def finish_ledgers(
    context: Context | Mapping[str, Any],
    wait: LedgerWait,
    log: _Log | logging.Logger,
    *,
    fail_on_undelivered: bool = False,
) -> dict[str, Any]:
    """Push ``price_totals`` and ``state_counts`` (exact decimals as strings) and where the
    per-message states and prices are; return the same small dict."""
    summary = wait.summary()
    untracked = wait.progress.untracked
    log.info("Cascade: %s; states and prices per message in %s", final_line(summary),
             ", ".join(wait.states_locations()))  # fmt: skip
    sample = [shown_phone(p, wait.mask_phones) if p.isdigit() else p
              for p in wait.progress.untracked_sample]  # fmt: skip
    if untracked:
        log.warning(
            "Cascade: %d recipients are UNTRACKED (sent, or perhaps sent, with no id to poll): "
            "their cost is unknown and not in the price totals, which cover the %d polled "
            "messages: %s%s", untracked, summary.total, ", ".join(sample),
            " ..." if untracked > len(sample) else "",
        )  # fmt: skip
    value = {
        "total": summary.total,
        "final": summary.final,
        "state_counts": summary.by_state,
        "price_totals": summary.totals(),
        "price_totals_cover": f"the {summary.total} polled messages; the cost of "
        f"{untracked} untracked recipients is unknown",
        "untracked": {"count": untracked, "sample": sample},
        "states": wait.states_locations(),
    }
    ti = context["ti"]
    ti.xcom_push(key="price_totals", value=value["price_totals"])
    ti.xcom_push(key="state_counts", value=value["state_counts"])
    if fail_on_undelivered:
        bad = [i for w in wait.watches for i in w.undelivered()][:5]
        if bad:
            raise CascadeUndelivered(bad)
    return value


def ledger_wait_after_event(
    event: Mapping[str, Any], settings: WaitSettings | None = None
) -> LedgerWait:
    """The finished wait, rebuilt in the task from what the trigger's last round stored."""
    wait = LedgerWait(list(event.get("ledgers") or []), settings or WaitSettings())
    total = Progress()
    for watch in wait.watches:
        stored = watch.stored_progress()
        if stored is not None:
            total.merge(stored)
    wait.record_round(total, time.time())
    return wait
