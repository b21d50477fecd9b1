"""Waits until Cascade messages reach a final state; pushes their prices to XCom."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import (
    AirflowSensorTimeout,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)

from ..gateway import CascadeError, CascadeValidationError
from ..gateway._defaults import MAX_TRANSIENT_FAILURES, POLL_INTERVAL
from ..gateway.codec import comma_list
from ..hooks.cascade import CascadeHook
from ..ledger import default_root, is_reference
from ..ledger._prices import keep_prices, observe, observe_ledgers, root_of
from ..triggers.cascade import CascadeMessageStateTrigger
from ..waiting import (
    LedgerWait,
    StatusWait,
    WaitSettings,
    check_wait_args,
    describe_event,
    finish,
    finish_ledgers,
    ledger_wait_after_event,
    poll,
    states_from_event,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

#: Ids as DAG authors pass them: one id, a comma string, or (nested) lists such as the send
#: operator's XCom.
MessageIds = str | int | Iterable[Any] | None


def normalize_ids(value: MessageIds) -> list[str]:
    """One id, a list (e.g. the send operators' XCom), or a comma string."""
    return list(dict.fromkeys(str(i) for i in comma_list("id_messages", value)))


class CascadeMessageStateSensor(BaseSensorOperator):
    """Asks once; if messages are still in flight, defers to the triggerer (or keeps poking).

    Status queries are at least the connection's ``repeat_window`` apart (the gateway refuses
    an identical request within it): a shorter ``poke_interval`` is raised to it, and without
    one the sensor asks as often as that window allows.

    :param id_messages: the ids to wait for: one id, a comma string, a list (nested lists too,
        e.g. a mapped send's XCom), or the ledger reference(s) a file send returns.
    :param cascade_conn_id: the ``cascade`` connection; its ``repeat_window`` extra sets how
        often the gateway may be asked.
    :param deferrable: wait in the triggerer instead of a worker slot.
    :param fail_on_undelivered: fail when any message ends ``not_deliver`` or ``expired``.
    :param max_transient_failures: status queries in a row that may fail transiently (5xx,
        429, network, unreadable answer) before the task fails.
    :param hook_params: keyword arguments for ``CascadeHook``, e.g. ``{"retry_limit": 5}``.
    :param poke_interval: seconds between status queries; raised to the connection's
        ``repeat_window`` when shorter; omitted: that window (60 s on a real account).
    :param timeout: seconds before the wait ends with ``AirflowSensorTimeout`` (``soft_fail``
        skips instead); also the trigger's deadline. None: ``[sensors] default_timeout``.
    :param mode: ``poke`` or ``reschedule`` when not deferrable.
    """

    template_fields: Sequence[str] = ("id_messages",)
    ui_color = "#f0e4ff"

    def __init__(
        self,
        *,
        id_messages: MessageIds,
        cascade_conn_id: str = CascadeHook.default_conn_name,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        fail_on_undelivered: bool = False,
        max_transient_failures: int = MAX_TRANSIENT_FAILURES,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        # without poke_interval: as often as the gateway allows (the connection's window)
        self.poke_interval_asked = "poke_interval" in kwargs
        kwargs.setdefault("poke_interval", POLL_INTERVAL)
        super().__init__(**kwargs)
        check_wait_args("poke_interval", self.poke_interval, max_transient_failures)
        self.id_messages = id_messages
        self.cascade_conn_id = cascade_conn_id
        self.deferrable = deferrable
        self.fail_on_undelivered = fail_on_undelivered
        self.max_transient_failures = max_transient_failures
        self.hook_params = dict(hook_params or {})
        self._wait: StatusWait | None = None

    @cached_property
    def hook(self) -> CascadeHook:
        return CascadeHook(self.cascade_conn_id, **self.hook_params)

    def ledger_refs(self) -> list[dict[str, Any]]:
        """References to campaign ledgers: a send from a file returns one, a mapped send a
        list of them (one per shard). Empty when ``id_messages`` holds ids."""
        value = self.id_messages
        items = [value] if isinstance(value, dict) else value
        if isinstance(items, (str, int)) or items is None:
            return []
        if not isinstance(items, (list, tuple)) and hasattr(items, "__len__"):
            # a mapped task's XCom (LazyXComSequence): index it; iterating it probes one past
            # the end, which Airflow logs as an error
            items = [items[i] for i in range(len(items))]  # type: ignore[index,arg-type]
        items = list(items)
        refs = [dict(i) for i in items if is_reference(i)]
        if refs and len(refs) != len(items):
            raise CascadeValidationError(
                "id_messages", "give ledger references (from sends of files) or ids, not both"
            )
        return refs

    def message_ids(self) -> list[str]:
        """Where the ids come from: the one place to change for another id source."""
        if self.id_messages is None or self.id_messages == "":
            raise CascadeValidationError("id_messages", "is required: ids or a send's output")
        ids = normalize_ids(self.id_messages)
        bad = next((i for i in ids if not (i.isascii() and i.isdigit())), None)
        if bad is not None:
            raise CascadeValidationError("id_message", f"must be a numeric id (got {bad!r})")
        return ids

    def _start(self) -> StatusWait:
        """The wait for this task: ids, the connection's window, the interval raised to it."""
        if self._wait is None:
            settings = WaitSettings(
                float(self.poke_interval) if self.poke_interval_asked else None,
                self.hook.settings.repeat_window,
                self.max_transient_failures,
            )
            note = settings.raised_note()
            if note:
                self.log.info("Cascade: %s", note)
            self.poke_interval = settings.period  # Airflow's poke/reschedule loop uses it
            refs = self.ledger_refs()
            self._wait = (
                LedgerWait(refs, settings) if refs else StatusWait(self.message_ids(), settings)
            )
        return self._wait

    def poke(self, context: Context) -> PokeReturnValue | bool:
        wait = self._start()
        if not isinstance(wait, LedgerWait) and not wait.ids:
            # e.g. a send whose recipients were all rejected or untracked: nothing to poll
            self.log.warning("Cascade: no message ids to wait for (the send accepted none)")
            return PokeReturnValue(is_done=True, xcom_value=finish(context, {}, self.log))
        if poll(self.hook, wait, self.log):
            if isinstance(wait, LedgerWait):
                keep_prices(root_of(wait.urls[0]), self.cascade_conn_id,
                            observe_ledgers(wait.watches), self.log)  # fmt: skip
                return PokeReturnValue(
                    is_done=True,
                    xcom_value=finish_ledgers(
                        context, wait, self.log, fail_on_undelivered=self.fail_on_undelivered
                    ),
                )
            keep_prices(default_root(), self.cascade_conn_id, observe(wait.states.values()),
                        self.log)  # fmt: skip
            value = finish(
                context, wait.states, self.log, fail_on_undelivered=self.fail_on_undelivered
            )
            return PokeReturnValue(is_done=True, xcom_value=value)
        return False

    def execute(self, context: Context) -> Any:
        wait = self._start()
        if not self.deferrable:
            return super().execute(context)
        done = self.poke(context)  # asks once: no deferral when everything is final already
        if isinstance(done, PokeReturnValue) and done.is_done:
            return done.xcom_value
        timeout = self.timeout if isinstance(self.timeout, (int, float)) else 7 * 24 * 3600.0
        self.defer(
            trigger=CascadeMessageStateTrigger(
                id_messages=wait.ids,
                ledgers=wait.urls if isinstance(wait, LedgerWait) else None,
                end_time=time.time() + float(timeout),
                cascade_conn_id=self.cascade_conn_id,
                poll_interval=wait.settings.interval,
                max_transient_failures=self.max_transient_failures,
                repeat_window=wait.settings.window,
                last_polled_at=wait.last_query_at,
                last_progress=wait.logged_progress,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=float(timeout) + 120),
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """The trigger's JSON event: failures are raised here, in the task, as typed errors."""
        status = event.get("status")
        if status == "timeout":
            raise AirflowSensorTimeout(f"Cascade: {describe_event(event)}")
        if status != "success":
            raise CascadeError(f"waiting for Cascade messages ended with {describe_event(event)}")
        if event.get("ledgers"):
            done = ledger_wait_after_event(event)
            keep_prices(root_of(done.urls[0]), self.cascade_conn_id,
                        observe_ledgers(done.watches), self.log)  # fmt: skip
            return finish_ledgers(
                context, done, self.log, fail_on_undelivered=self.fail_on_undelivered
            )
        states = states_from_event(event)
        keep_prices(default_root(), self.cascade_conn_id, observe(states.values()), self.log)
        return finish(context, states, self.log, fail_on_undelivered=self.fail_on_undelivered)
