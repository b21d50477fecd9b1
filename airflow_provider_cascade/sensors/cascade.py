"""Waits until Cascade messages reach a final state; pushes their prices to XCom."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import (
    AirflowSensorTimeout,
    AirflowSkipException,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)

from ..gateway import CascadeValidationError, comma_list
from ..gateway.defaults import MAX_TRANSIENT_FAILURES, POLL_INTERVAL
from ..hooks.cascade import CascadeHook
from ..ledger import default_root, is_reference
from ..ledger._prices import keep_prices, observe, observe_ledgers, root_of
from ..ledger._report import SendInfo, check_report_path
from ..reporting import (
    CampaignFacts,
    announce,
    facts_of_wait,
    masking_on,
    push_report,
    report_ids,
    report_ledgers,
    wait_metrics,
)
from ..triggers.cascade import CascadeMessageStateTrigger
from ..ui.links import CascadeCampaignLink
from ..waiting import (
    LedgerWait,
    StatusWait,
    Wait,
    WaitSettings,
    check_wait_args,
    describe_event,
    event_error,
    finish,
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
    :param report_path: where to write the delivery report once the wait ends (also when it
        times out: then with the states known so far): a path or object-storage URL ending in
        ``.csv``, ``.csv.gz``, ``.jsonl`` or ``.parquet`` (Parquet needs
        ``airflow-provider-cascade[parquet]``). One row per recipient; phones masked when the
        connection's ``mask_phones`` is on. None: no report.
    """

    template_fields: Sequence[str] = ("id_messages", "report_path")
    ui_color = "#f0e4ff"
    operator_extra_links = (CascadeCampaignLink(),)

    def __init__(
        self,
        *,
        id_messages: MessageIds,
        cascade_conn_id: str = CascadeHook.default_conn_name,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        fail_on_undelivered: bool = False,
        max_transient_failures: int = MAX_TRANSIENT_FAILURES,
        hook_params: dict[str, Any] | None = None,
        report_path: str | None = None,
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
        self.report_path = report_path
        self._wait: Wait | None = None
        self._facts: CampaignFacts | None = None

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

    def _start(self) -> Wait:
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
            if isinstance(self._wait, LedgerWait):
                self._wait.mask_phones = masking_on(self.hook)
        return self._wait

    def poke(self, context: Context) -> PokeReturnValue | bool:
        wait = self._start()
        if wait.empty:
            # e.g. a send whose recipients were all rejected or untracked: nothing to poll
            self.log.warning("Cascade: no message ids to wait for (the send accepted none)")
            return PokeReturnValue(is_done=True, xcom_value=finish(context, {}, self.log))
        if poll(self.hook, wait, self.log):
            self._ended(context, wait, complete=True)
            self._keep_prices(wait)
            value = wait.finish(context, self.log, fail_on_undelivered=self.fail_on_undelivered)
            return PokeReturnValue(is_done=True, xcom_value=value)
        return False

    def execute(self, context: Context) -> Any:
        check_report_path(self.report_path)  # a bad extension or no pyarrow: fail before waiting
        wait = self._start()
        if not self.deferrable:
            try:
                return super().execute(context)
            except (AirflowSensorTimeout, AirflowSkipException) as exc:
                if isinstance(exc, AirflowSensorTimeout) or self.soft_fail:
                    self._ended(context, wait, complete=False)
                raise
        done = self.poke(context)  # asks once: no deferral when everything is final already
        if isinstance(done, PokeReturnValue) and done.is_done:
            return done.xcom_value
        timeout = self.timeout if isinstance(self.timeout, (int, float)) else 7 * 24 * 3600.0
        self.defer(
            trigger=CascadeMessageStateTrigger(
                **wait.trigger_targets(),
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
            self._ended(context, self._after_event(event), complete=False)
            raise AirflowSensorTimeout(f"Cascade: {describe_event(event)}")
        if status != "success":
            raise event_error(event)
        wait = self._after_event(event)
        self._ended(context, wait, complete=True)
        self._keep_prices(wait)
        value: dict[str, Any] = wait.finish(
            context, self.log, fail_on_undelivered=self.fail_on_undelivered
        )
        return value

    # -- after the wait: report, asset events, lineage, metrics ------------------------------
    def _keep_prices(self, wait: Wait) -> None:
        """What this campaign's messages cost per channel, into the connection's price history
        (estimates of later campaigns learn from it)."""
        if isinstance(wait, LedgerWait):
            keep_prices(root_of(wait.urls[0]), self.cascade_conn_id,
                        observe_ledgers(wait.watches), self.log)  # fmt: skip
        elif isinstance(wait, StatusWait):
            keep_prices(default_root(), self.cascade_conn_id, observe(wait.states.values()),
                        self.log)  # fmt: skip

    def _after_event(self, event: dict[str, Any]) -> Wait:
        """The wait as the trigger's event leaves it (ledger states are beside the ledgers)."""
        if event.get("ledgers"):
            done = ledger_wait_after_event(event)
            done.mask_phones = masking_on(self.hook)
            return done
        wait = StatusWait(self.message_ids(), WaitSettings())
        wait.states.update(states_from_event(event))
        return wait

    def _ended(self, context: Context, wait: Wait, *, complete: bool) -> None:
        """Once the wait ends (``complete``) or times out: the delivery report, then the
        summary for outlets, lineage and metrics."""
        ti = context["ti"]
        summary = wait.summary()
        report = None
        ledgers = [w.ledger for w in wait.watches] if isinstance(wait, LedgerWait) else []
        if self.report_path:
            masked = masking_on(self.hook)
            if isinstance(wait, LedgerWait):
                report = report_ledgers(self.report_path, wait, mask_phones=masked,
                                        complete=complete, log=self.log)  # fmt: skip
            elif isinstance(wait, StatusWait):
                map_index = getattr(ti, "map_index", None)
                info = SendInfo(ti.dag_id, ti.run_id, ti.task_id,
                                -1 if map_index is None else int(map_index),
                                f"{ti.dag_id}.{ti.task_id}")  # fmt: skip
                report = report_ids(self.report_path, wait.ids, wait.states, info,
                                    complete=complete, log=self.log)  # fmt: skip
            if report is not None:
                push_report(context, report)
        facts = facts_of_wait(self.hook, ledgers, summary.by_state, summary.by_channel, report,
                              campaign=f"{ti.dag_id}.{ti.task_id}")  # fmt: skip
        if not ledgers and report is None:
            facts.fates["accepted"] = len(wait.ids)
        self._facts = facts
        announce(context, self.outlets, facts)
        if complete:
            wait_metrics(facts)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """The campaign at the gateway in, the delivery report out, counts and cost."""
        from ..lineage import wait_lineage

        return wait_lineage(self._facts)

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> Any:
        from ..lineage import wait_lineage

        return wait_lineage(self._facts)
