"""Waits in the triggerer until messages reach a final state, on the async client.

The policy (what to ask, when, what a failure means) is :mod:`airflow_provider_cascade.waiting`,
shared with the sensor and the send operator; this module only drives it in the event loop.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from ..gateway import CascadeError
from ..gateway.defaults import MAX_TRANSIENT_FAILURES
from ..hooks.cascade import CascadeHook
from ..ledger import LedgerStorageUnavailable
from ..waiting import (
    LedgerWait,
    StatusWait,
    Wait,
    WaitSettings,
    apoll,
    describe_event,
    event_payload,
)

#: Share of the poll interval a first query is delayed at random, so triggers deferred together
#: (a mapped sensor, a campaign's many tasks) do not all ask the gateway in the same instant.
JITTER = 0.1


class CascadeWaitEvent(TriggerEvent):
    """A trigger event whose text is a status and counts: the triggerer logs every event it
    fires ("Trigger fired event"), and a wait for 10,000 ids must not dump 10,000 states."""

    def __repr__(self) -> str:
        return f"CascadeWaitEvent<{describe_event(self.payload)}>"

    def __str__(self) -> str:
        return self.__repr__()


class CascadeMessageStateTrigger(BaseTrigger):
    """Polls the ids not yet final; yields one JSON event: ``success``, ``timeout`` or ``error``.

    Serializes only the connection id, the ids, the settings, the deadline and when the task
    last asked (``last_polled_at``, wall-clock seconds): its first query waits out the period
    from there, so it never repeats the task's last query inside the gateway's window.
    ``poll_interval`` None asks as often as the gateway allows (its window);
    ``repeat_window`` is the one the task read from the connection (None: read it here);
    ``last_progress`` the progress line the task logged last (not repeated until it changes).

    :param id_messages: the ids to wait for (ignored when ``ledgers`` is given).
    :param end_time: the deadline, wall-clock seconds since the epoch: then ``timeout``.
    :param cascade_conn_id: the ``cascade`` connection, read in the triggerer.
    :param poll_interval: seconds between status queries; raised to ``repeat_window``;
        None: that window.
    :param max_transient_failures: status queries in a row that may fail transiently before
        the event is ``error``.
    :param repeat_window: the gateway's repeat window the task read from the connection
        (seconds); None: read it from the connection here.
    :param last_polled_at: when the task last asked (wall-clock seconds): the first query
        waits a full period from then.
    :param last_progress: the progress line the task logged last, not repeated.
    :param ledgers: ledger URLs whose ids to wait for (sends from files), read a batch at a
        time.
    """

    def __init__(
        self,
        id_messages: list[str],
        end_time: float,
        cascade_conn_id: str = CascadeHook.default_conn_name,
        poll_interval: float | None = None,
        max_transient_failures: int = MAX_TRANSIENT_FAILURES,
        repeat_window: float | None = None,
        last_polled_at: float | None = None,
        last_progress: str | None = None,
        ledgers: list[str] | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.id_messages = [str(i) for i in id_messages]
        self.end_time = float(end_time)
        self.cascade_conn_id = cascade_conn_id
        self.poll_interval = None if poll_interval is None else float(poll_interval)
        self.max_transient_failures = int(max_transient_failures)
        self.repeat_window = None if repeat_window is None else float(repeat_window)
        self.last_polled_at = None if last_polled_at is None else float(last_polled_at)
        self.last_progress = last_progress
        self.ledgers = list(ledgers) if ledgers else None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "id_messages": self.id_messages,
                "end_time": self.end_time,
                "cascade_conn_id": self.cascade_conn_id,
                "poll_interval": self.poll_interval,
                "max_transient_failures": self.max_transient_failures,
                "repeat_window": self.repeat_window,
                "last_polled_at": self.last_polled_at,
                "last_progress": self.last_progress,
                "ledgers": self.ledgers,
            },
        )

    async def message_ids(self) -> list[str]:
        """Where the ids come from: the one place to change for another id source."""
        return self.id_messages

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = CascadeHook(self.cascade_conn_id)
        ids = await self.message_ids()
        try:
            window = self.repeat_window
            if window is None:  # not handed over by a task: the connection's
                window = (await hook.aget_settings()).repeat_window
            settings = WaitSettings(self.poll_interval, window, self.max_transient_failures)
            wait: Wait
            if self.ledgers:  # ids live in the ledgers, read a batch at a time off the loop
                # built off the loop too: an object store's filesystem is made with the path
                wait = await asyncio.to_thread(
                    LedgerWait,
                    self.ledgers,
                    settings,
                    last_query_at=self.last_polled_at,
                    last_progress=self.last_progress,
                )
            else:
                wait = StatusWait(
                    ids,
                    settings,
                    last_query_at=self.last_polled_at,
                    last_progress=self.last_progress,
                )
            client = await hook.aget_client(shared_pool=True)
        except LedgerStorageUnavailable as exc:  # names the ledger and its connection
            yield self._event("error", StatusWait(ids, WaitSettings()), str(exc))
            return
        except CascadeError as exc:
            wait = StatusWait(ids, WaitSettings())
            yield self._event("error", wait, f"connection {self.cascade_conn_id!r}: {exc}")
            return
        jitter = random.uniform(0, JITTER * (settings.interval or settings.period))
        try:
            while True:
                wake = max(time.time(), wait.next_query_at()) + jitter
                jitter = 0.0
                if wake >= self.end_time:
                    # no query is allowed before the deadline: wait for it, then report
                    await asyncio.sleep(max(0.0, self.end_time - time.time()))
                    yield self._event(
                        "timeout", wait, "deadline passed before every message was final"
                    )
                    return
                await asyncio.sleep(max(0.0, wake - time.time()))
                try:
                    done = await apoll(client, wait, self.log)
                except CascadeError as exc:
                    yield self._event("error", wait, str(exc))
                    return
                if done:
                    yield self._event("success", wait)
                    return
        finally:
            await client.aclose()

    def _event(self, status: str, wait: Wait, message: str = "") -> TriggerEvent:
        return CascadeWaitEvent(payload=event_payload(status, wait, message))
