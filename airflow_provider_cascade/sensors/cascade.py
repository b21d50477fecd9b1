"""Waits until Cascade messages reach a final state; pushes their prices to XCom."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from functools import cached_property
from typing import Any

from airflow.providers.common.compat.sdk import BaseSensorOperator, PokeReturnValue, conf

from ..gateway import CascadeError, CascadeValidationError, MessageState, summarize
from ..gateway.codec import comma_list
from ..hooks.cascade import CascadeHook
from ..triggers.cascade import CascadeMessageStateTrigger
from .completion import finish, poll_once, states_from_event


def normalize_ids(value: Any) -> list[str]:
    """One id, a list (e.g. the send operators' XCom), or a comma string."""
    return list(dict.fromkeys(str(i) for i in comma_list("id_messages", value)))


class CascadeMessageStateSensor(BaseSensorOperator):
    """Pokes once; if messages are still in flight, defers to the triggerer (or keeps poking)."""

    template_fields: Sequence[str] = ("id_messages",)
    ui_color = "#f0e4ff"

    def __init__(
        self,
        *,
        id_messages: Any,
        cascade_conn_id: str = CascadeHook.default_conn_name,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        fail_on_undelivered: bool = False,
        max_transient_failures: int = 5,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("poke_interval", 60.0)
        super().__init__(**kwargs)
        self.id_messages = id_messages
        self.cascade_conn_id = cascade_conn_id
        self.deferrable = deferrable
        self.fail_on_undelivered = fail_on_undelivered
        self.max_transient_failures = max_transient_failures
        self._states: dict[str, MessageState] = {}

    @cached_property
    def hook(self) -> CascadeHook:
        return CascadeHook(self.cascade_conn_id)

    @property
    def ids(self) -> list[str]:
        return normalize_ids(self.id_messages)

    def poke(self, context: Any) -> PokeReturnValue | bool:
        if poll_once(self.hook, self.ids, self._states, self.log):
            value = finish(
                context, self._states, self.log, fail_on_undelivered=self.fail_on_undelivered
            )
            return PokeReturnValue(is_done=True, xcom_value=value)
        return False

    def execute(self, context: Any) -> Any:
        if not self.ids:
            raise CascadeValidationError("id_messages", "is empty: nothing to wait for")
        bad = next((i for i in self.ids if not i.isdigit()), None)
        if bad is not None:
            raise CascadeValidationError("id_message", f"must be a numeric id (got {bad!r})")
        if not self.deferrable:
            return super().execute(context)
        done = self.poke(context)
        if isinstance(done, PokeReturnValue) and done.is_done:
            return done.xcom_value
        timeout = self.timeout if isinstance(self.timeout, (int, float)) else 7 * 24 * 3600.0
        self.defer(
            trigger=CascadeMessageStateTrigger(
                id_messages=self.ids,
                end_time=time.time() + float(timeout),
                cascade_conn_id=self.cascade_conn_id,
                poll_interval=float(self.poke_interval),
                max_transient_failures=self.max_transient_failures,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=float(timeout) + 120),
        )

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        states = states_from_event(event)
        if event.get("status") != "success":
            raise CascadeError(
                f"waiting for Cascade messages ended with {event.get('status')}: "
                f"{event.get('message')} ({summarize(states, len(self.ids)).progress()})"
            )
        return finish(context, states, self.log, fail_on_undelivered=self.fail_on_undelivered)
