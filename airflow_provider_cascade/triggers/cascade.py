"""Waits in the triggerer until messages reach a final state, on the async client."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from ..gateway import (
    CascadeAuthError,
    CascadeError,
    CascadeValidationError,
    MessageState,
    summarize,
)
from ..hooks.cascade import CascadeHook


class CascadeMessageStateTrigger(BaseTrigger):
    """Polls the ids not yet final; yields one JSON event: ``success``, ``timeout`` or ``error``.

    Serializes only the connection id, the ids, the intervals and the deadline.
    """

    def __init__(
        self,
        id_messages: list[str],
        end_time: float,
        cascade_conn_id: str = CascadeHook.default_conn_name,
        poll_interval: float = 60.0,
        max_transient_failures: int = 5,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.id_messages = [str(i) for i in id_messages]
        self.end_time = float(end_time)
        self.cascade_conn_id = cascade_conn_id
        self.poll_interval = float(poll_interval)
        self.max_transient_failures = int(max_transient_failures)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "id_messages": self.id_messages,
                "end_time": self.end_time,
                "cascade_conn_id": self.cascade_conn_id,
                "poll_interval": self.poll_interval,
                "max_transient_failures": self.max_transient_failures,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        # The sensor has just polled before deferring; starting at a random point of the
        # interval keeps triggers deferred together from all setting up and polling in the
        # same turn of the event loop (and from hitting the gateway at once).
        await asyncio.sleep(random.uniform(0, self.poll_interval))
        final: dict[str, MessageState] = {}
        latest: dict[str, MessageState] = {}
        try:
            client = await CascadeHook(self.cascade_conn_id).aget_client(shared_pool=True)
        except CascadeValidationError as exc:
            yield self._event("error", latest, f"connection {self.cascade_conn_id!r}: {exc}")
            return
        failures = 0
        try:
            while True:
                outstanding = [i for i in self.id_messages if i not in final]
                try:
                    got = await client.get_states(outstanding)
                    failures = 0
                except CascadeAuthError as exc:
                    yield self._event("error", latest, str(exc))
                    return
                except CascadeError as exc:
                    failures += 1
                    self.log.warning("Cascade status poll failed (%d in a row): %s", failures, exc)
                    if failures > self.max_transient_failures:
                        yield self._event("error", latest, f"status polling keeps failing: {exc}")
                        return
                    got = {}
                latest.update(got)
                final.update({k: v for k, v in got.items() if v.is_final})
                self.log.info("Cascade: %s", summarize(latest, len(self.id_messages)).progress())
                if len(final) == len(self.id_messages):
                    yield self._event("success", latest)
                    return
                if time.time() >= self.end_time:
                    yield self._event(
                        "timeout", latest, "deadline passed before every message was final"
                    )
                    return
                await asyncio.sleep(max(0.0, min(self.poll_interval, self.end_time - time.time())))
        finally:
            await client.aclose()

    def _event(
        self, status: str, states: dict[str, MessageState], message: str = ""
    ) -> TriggerEvent:
        return TriggerEvent(  # type: ignore[no-untyped-call]
            {
                "status": status,
                "message": message,
                "states": {k: v.to_dict() for k, v in states.items()},
            }
        )
