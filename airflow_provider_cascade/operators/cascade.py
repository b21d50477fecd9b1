"""Operators that send messages: single notifications, personalised batches, base campaigns."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseOperator, conf

from ..gateway import (
    CascadeError,
    CascadeValidationError,
    Message,
    SendResult,
    Variant,
    summarize_send,
)
from ..gateway._defaults import MAX_TRANSIENT_FAILURES
from ..hooks.cascade import CascadeHook
from ..triggers.cascade import CascadeMessageStateTrigger
from ..waiting import (
    StatusWait,
    WaitSettings,
    check_wait_args,
    describe_event,
    describe_wait,
    finish,
    poll,
    states_from_event,
)
from ._build import build_messages, with_client_ids

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

RESULTS_KEY = "send_results"


def run_key(context: Any) -> tuple[object, ...]:
    ti = context["ti"]
    return (ti.dag_id, ti.run_id, ti.task_id, getattr(ti, "map_index", -1))


class CascadeSendMessageOperator(BaseOperator):
    """Send one message (``channels`` in cascade order + ``phones``) or many (``messages``).

    Every phone gets a ``client_id_message`` derived from the task instance, so an Airflow
    retry is refused by the gateway as a duplicate instead of messaging people twice.
    XCom: ``return_value`` = accepted ``id_message``s; ``send_results`` = per recipient.
    """

    template_fields: Sequence[str] = (
        "messages", "channels", "phones", "time_send", "name_delivery",
    )  # fmt: skip
    ui_color = "#e4f0ff"

    def __init__(
        self,
        *,
        channels: Any = None,
        phones: Any = None,
        messages: Any = None,
        time_send: Any = None,
        name_delivery: str | None = None,
        cascade_conn_id: str = CascadeHook.default_conn_name,
        max_failure_ratio: float | None = None,
        wait_for_completion: bool = False,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float | None = None,
        wait_timeout: timedelta | float = timedelta(hours=24),
        max_transient_failures: int = MAX_TRANSIENT_FAILURES,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.channels = channels
        self.phones = phones
        self.messages = messages
        self.time_send = time_send
        self.name_delivery = name_delivery
        self.cascade_conn_id = cascade_conn_id
        if max_failure_ratio is not None and not 0 <= max_failure_ratio <= 1:
            raise CascadeValidationError("max_failure_ratio", "must be between 0 and 1")
        self.max_failure_ratio = max_failure_ratio
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        check_wait_args("poll_interval", poll_interval, max_transient_failures)
        self.poll_interval = None if poll_interval is None else float(poll_interval)
        self.max_transient_failures = max_transient_failures
        self.wait_timeout = (
            wait_timeout.total_seconds()
            if isinstance(wait_timeout, timedelta)
            else float(wait_timeout)
        )

    @cached_property
    def hook(self) -> CascadeHook:
        return CascadeHook(self.cascade_conn_id)

    def build(self) -> list[Message]:
        return build_messages(
            messages=self.messages,
            channels=self.channels,
            phones=self.phones,
            time_send=self.time_send,
            name_delivery=self.name_delivery,
        )

    def execute(self, context: Any) -> list[str]:
        messages = self.build()
        if self.hook.settings.variant is Variant.GET:
            self.log.warning(
                "The GET variant cannot carry client_id_message: a retried task may send twice."
            )
        else:
            messages = with_client_ids(messages, run_key(context))
        results = self.hook.send(messages)
        return self.report(context, results)

    def report(self, context: Any, results: list[SendResult]) -> list[str]:
        context["ti"].xcom_push(key=RESULTS_KEY, value=[r.to_dict() for r in results])
        summary = summarize_send(results)
        self.log.info("Cascade send: %s", summary.line())
        if summary.total and summary.failed:
            ratio = summary.failed / summary.total
            limit = self.max_failure_ratio
            if (limit is None and summary.accepted == 0) or (limit is not None and ratio > limit):
                raise CascadeError(f"Cascade send failed for {summary.failed}/{summary.total}: "
                                   f"{'; '.join(summary.first_errors)}")  # fmt: skip
        ids = list(dict.fromkeys(r.id_message for r in results if r.accepted and r.id_message))
        if self.wait_for_completion and ids:
            return self.wait(context, ids)
        return ids

    def wait(self, context: Context, ids: list[str]) -> list[str]:
        """Wait for final states: one query here, then in the triggerer (``deferrable``) or in
        this worker; the policy is :mod:`airflow_provider_cascade.waiting`, as for the sensor."""
        settings = WaitSettings(
            self.poll_interval, self.hook.settings.repeat_window, self.max_transient_failures
        )
        note = settings.raised_note()
        if note:
            self.log.info("Cascade: %s", note)
        state = StatusWait(ids, settings)
        end = time.time() + self.wait_timeout
        while not poll(self.hook, state, self.log):
            if self.deferrable:
                self.defer(
                    trigger=CascadeMessageStateTrigger(
                        id_messages=ids,
                        end_time=end,
                        cascade_conn_id=self.cascade_conn_id,
                        poll_interval=settings.interval,
                        max_transient_failures=settings.max_transient_failures,
                        repeat_window=settings.window,
                        last_polled_at=state.last_query_at,
                        last_progress=state.logged_progress,
                    ),
                    method_name="execute_complete",
                    timeout=timedelta(seconds=self.wait_timeout + 120),
                )
            if state.next_query_at() >= end:
                raise CascadeError(
                    f"messages were not all final before wait_timeout "
                    f"({self.wait_timeout:g} s): {describe_wait(state)}"
                )
        finish(context, state.states, self.log)
        return ids

    def execute_complete(self, context: Context, event: dict[str, Any]) -> list[str]:
        """The trigger's JSON event; failures are raised here, in the task, as typed errors.
        The event carries every id it waited for, in send order."""
        if event.get("status") != "success":
            raise CascadeError(f"waiting for Cascade messages ended with {describe_event(event)}")
        states = states_from_event(event)
        finish(context, states, self.log)
        return list(states)


class CascadeSendBaseOperator(CascadeSendMessageOperator):
    """A campaign to recipient bases stored at the gateway, with stop-list bases.

    ``bases`` items: a base id, or ``{"base": id, "time_send": ...}``. Texts may use
    ``#name#`` and ``#number#``. Needs the JSON variant (the only one carrying bases).
    """

    template_fields: Sequence[str] = (
        "channels", "bases", "stop_bases", "time_send", "name_delivery",
    )  # fmt: skip

    def __init__(self, *, bases: Any, stop_bases: Any = None, channels: Any, **kwargs: Any) -> None:
        super().__init__(channels=channels, **kwargs)
        self.bases = bases
        self.stop_bases = stop_bases

    def build(self) -> list[Message]:
        bases = [self.bases] if isinstance(self.bases, (str, int, dict)) else self.bases
        stops = [self.stop_bases] if isinstance(self.stop_bases, (str, int)) else self.stop_bases
        return build_messages(
            messages=None,
            channels=self.channels,
            phones=None,
            bases=bases,
            stop_bases=stops,
            time_send=self.time_send,
            name_delivery=self.name_delivery,
        )

    def execute(self, context: Any) -> list[str]:
        variant = self.hook.settings.variant
        if variant is not Variant.JSON:
            raise CascadeValidationError(
                "protocol",
                f"base campaigns need the JSON variant; connection {self.cascade_conn_id!r} "
                f"uses {variant.value.upper()} (set extra protocol=json)",
            )
        return super().execute(context)
