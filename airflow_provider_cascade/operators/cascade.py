"""Operators that send messages: single notifications, personalised batches, recipient files
of any size and base campaigns, every one through the campaign ledger."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from functools import cached_property
from itertools import chain
from typing import Any

from airflow.providers.common.compat.sdk import BaseOperator, Context, conf

from ..gateway import (
    CascadeAuthError,
    CascadeBudgetExceeded,
    CascadeDuplicateRequestError,
    CascadeError,
    CascadeValidationError,
    Message,
    Variant,
)
from ..gateway._defaults import MAX_TRANSIENT_FAILURES, REPEAT_WINDOW
from ..gateway._estimate import (
    Estimate,
    Tally,
    channel_units,
    check_basis,
    check_budget,
    estimate,
    parse_max_cost,
    parse_prices,
)
from ..gateway._message import _as_channel
from ..gateway._timefmt import zone
from ..gateway._windows import SendWindow, Zones, in_windows
from ..hooks.cascade import CascadeHook
from ..ledger import (
    Ledger,
    LedgerSender,
    Plan,
    Totals,
    check_not_past,
    count_plain_phones,
    default_root,
    read_messages,
    recipient_items,
    split_recipients_file,
    task_folder,
)
from ..ledger._prices import keep_prices, known_prices, observe
from ..ledger._sources import Chunk
from ..ledger._suppress import Suppression, suppress_urls
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
from ._build import build_messages

RESULTS_KEY = "send_results"
SUMMARY_KEY = "send_summary"
STATE_STORE_KEY = "cascade_ledger"
ESTIMATE_KEY = "estimate"
Feed = Iterable[tuple[int, Message, Iterable[Any]]]


def run_key(context: Context) -> tuple[object, ...]:
    ti = context["ti"]
    return (ti.dag_id, ti.run_id, ti.task_id, getattr(ti, "map_index", -1))


def default_retry_policy() -> Any:
    """Airflow 3.3+: fail at once on what no retry can fix; a repeat refusal waits a window."""
    try:
        from airflow.providers.common.compat.sdk import (
            ExceptionRetryPolicy,
            RetryAction,
            RetryRule,
        )
    except ImportError:  # Airflow < 3.3 has no retry policies
        return None
    return ExceptionRetryPolicy(
        rules=[
            RetryRule(exception=CascadeValidationError, action=RetryAction.FAIL,
                      reason="invalid input: a retry would fail the same way"),
            RetryRule(exception=CascadeAuthError, action=RetryAction.FAIL,
                      reason="the gateway refused the credentials"),
            RetryRule(exception=CascadeBudgetExceeded, action=RetryAction.FAIL,
                      reason="over max_cost: a retry would cost the same"),
            RetryRule(exception=CascadeDuplicateRequestError, action=RetryAction.RETRY,
                      retry_delay=timedelta(seconds=REPEAT_WINDOW),
                      reason="the gateway's once-a-minute rule: retry after the window"),
        ]
    )  # fmt: skip


class _CascadeSendOperator(BaseOperator):
    """What every send operator shares: the connection, the ledger, the failure policy and the
    optional wait for final states. Subclasses only say what to send (``feed``).

    :param time_send: when the gateway sends: an aware datetime, an ISO 8601 string with an
        offset, or ``YYYY-MM-DD hh:mm`` in the connection's time zone; more than 5 minutes in
        the past is refused. None: at once.
    :param name_delivery: the campaign's name in the gateway's cabinet (JSON and XML only).
    :param cascade_conn_id: the ``cascade`` connection.
    :param max_failure_ratio: share of rejected recipients (0 to 1) above which the task fails;
        None: it fails only when every recipient was rejected.
    :param ledger: root URL or path of the campaign ledger; None: ``[cascade] ledger_path``,
        else ``$AIRFLOW_HOME/cascade_ledger``.
    :param durable: keep the ledger's place and checkpoint in the task state store (Airflow
        3.3+), so a retry finds its ledger even if ``ledger`` changed.
    :param wait_for_completion: after sending, wait until every accepted message is final and
        push ``prices`` and ``price_totals`` (inline sends only; after a file send use the
        sensor on the returned reference).
    :param deferrable: with ``wait_for_completion``, wait in the triggerer instead of holding
        the worker slot; no effect without it.
    :param poll_interval: seconds between status queries while waiting; raised to the
        connection's ``repeat_window`` when shorter; None: that window.
    :param wait_timeout: seconds (or a timedelta) the wait may take before the task fails.
    :param max_transient_failures: status queries in a row that may fail transiently (5xx,
        429, network, unreadable answer) before the wait fails.
    :param hook_params: keyword arguments for ``CascadeHook``, e.g.
        ``{"retry_limit": 5, "retry_delay": 2}``.
    :param dry_run: check everything, plan and estimate the cost, send nothing: the estimate
        is returned (XCom) and written beside the ledger.
    :param prices: price per unit for each channel (an SMS part, a Viber, WhatsApp or VK
        message), e.g. ``{"sms": "2.50", "viber": "1.10"}``; channels not named take the
        connection extra ``prices``, else what earlier campaigns cost.
    :param max_cost: the most the campaign may cost (a decimal): over it, or when it cannot
        be known, the task fails with nothing sent and is not retried.
    :param max_cost_basis: the estimate ``max_cost`` is checked against: ``worst_case``
        (every channel of the cascade used), ``first_channel`` or ``expected``.
    :param send_window: local hours a person may be messaged in, e.g. ``("09:00", "21:00")``:
        a recipient outside them gets ``time_send`` at their window's next opening.
    :param default_timezone: IANA zone of recipients with no ``timezone`` column; None: the
        connection's zone.
    :param suppress_file: CSV (``phone`` column) or JSON Lines of phones never to message, a
        path or object-storage URL, or a list of them.
    """

    ui_color = "#e4f0ff"
    returns_reference = False

    def __init__(
        self,
        *,
        time_send: str | datetime | None = None,
        name_delivery: str | None = None,
        cascade_conn_id: str = CascadeHook.default_conn_name,
        max_failure_ratio: float | None = None,
        ledger: str | None = None,
        durable: bool = True,
        wait_for_completion: bool = False,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float | None = None,
        wait_timeout: timedelta | float = timedelta(hours=24),
        max_transient_failures: int = MAX_TRANSIENT_FAILURES,
        hook_params: dict[str, Any] | None = None,
        dry_run: bool = False,
        prices: Mapping[str, Any] | None = None,
        max_cost: Decimal | str | float | None = None,
        max_cost_basis: str = "worst_case",
        send_window: Sequence[str] | None = None,
        default_timezone: str | None = None,
        suppress_file: str | Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        if "retry_policy" not in kwargs and (policy := default_retry_policy()) is not None:
            kwargs["retry_policy"] = policy
        super().__init__(**kwargs)
        self.time_send = time_send
        self.name_delivery = name_delivery
        self.cascade_conn_id = cascade_conn_id
        if max_failure_ratio is not None and not 0 <= max_failure_ratio <= 1:
            raise CascadeValidationError("max_failure_ratio", "must be between 0 and 1")
        self.max_failure_ratio = max_failure_ratio
        self.ledger = ledger
        self.durable = durable
        self.hook_params = dict(hook_params or {})
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
        self.dry_run_only = dry_run  # BaseOperator.dry_run is a method
        self.prices = parse_prices("prices", prices)
        self.max_cost = parse_max_cost(max_cost)
        self.max_cost_basis = check_basis(max_cost_basis)
        self.send_window = SendWindow.parse(send_window)
        if default_timezone is not None:
            try:
                zone(default_timezone)
            except CascadeValidationError as exc:
                raise CascadeValidationError("default_timezone", exc.rule) from None
        self.default_timezone = default_timezone
        self.suppress_file = suppress_file
        suppress_urls(suppress_file)
        self._tally: Tally | None = None
        self._zones: Zones | None = None
        self._now = datetime.now(timezone.utc)

    @cached_property
    def hook(self) -> CascadeHook:
        return CascadeHook(self.cascade_conn_id, **self.hook_params)

    # -- what to send: subclasses ------------------------------------------------------------
    def feed(self, plan: Plan) -> Feed:
        """(message index, message, its recipients) for every message, streamed."""
        raise NotImplementedError

    def total_hint(self) -> int | None:
        return None

    @cached_property
    def suppression(self) -> Suppression | None:
        urls = suppress_urls(self.suppress_file)
        return Suppression(urls) if urls else None

    def _feed(self, plan: Plan, codec: Any) -> Feed:
        """The feed as sent: suppressed recipients dropped, the others grouped by the
        ``time_send`` their send window gives, counted for the estimate in a dry run."""
        feed = self.feed(plan)
        if self.suppression is not None:
            feed = self.suppression.drop(feed)
        if self.send_window is not None:
            gateway_zone = zone(codec.settings.timezone)
            feed = in_windows(
                feed, self.send_window, gateway_zone=gateway_zone, now=self._now,
                default_zone=zone(self.default_timezone) if self.default_timezone else gateway_zone,
                zone_of=lambda: self._zones.last if self._zones is not None else None,
            )  # fmt: skip
        if self._tally is not None:
            feed = self._tally.count(feed)
        return feed

    def _estimate(self, tally: Tally) -> Estimate:
        """Prices per channel: this task's, else the connection's, else learned from earlier
        campaigns; the history's fall-through shares give the expected figure."""
        known, reach = known_prices(self.ledger or default_root(), self.cascade_conn_id,
                                    self.hook.settings.prices, self.prices)  # fmt: skip
        return estimate(tally, known, reach)

    # -- the send -----------------------------------------------------------------------------
    def execute(self, context: Context) -> Any:
        settings = self.hook.settings
        codec = self.hook.client.codec
        variant = settings.variant
        if variant is Variant.GET:
            self.log.warning(
                "The GET variant cannot carry client_id_message: a recipient whose answer is lost "
                "is recorded as untracked, never resent."
            )
        plan = Plan(
            run_key(context),
            settings.codec.max_recipients,
            client_ids=variant is not Variant.GET,
            allow_repeats=getattr(self, "allow_repeats", False),
        )

        def chunks() -> Iterator[Chunk]:
            return plan.chunks(self._checked(self._feed(plan, codec), codec))

        self._now = datetime.now(timezone.utc)  # one clock for the plan and the send
        dry = replace(plan, derive_ids=False, repeats_skipped=0, samples=[])
        self._tally = tally = Tally()
        try:
            planned, requests = self._dry_run(dry, codec)
        finally:
            self._tally = None
        tally.complete(planned)
        found = self._estimate(tally)
        self.log.info("Cascade estimate: %s", found.line())
        if self.suppression is not None:
            self.log.info("Cascade: %s", self._suppressed_line())
        if self.dry_run_only:
            return self._dry_report(context, found, planned, requests)
        check_budget(found, self.max_cost, self.max_cost_basis)
        ledger = self._open_ledger(context)
        ledger.write_json("estimate.json", found.to_json())
        context["ti"].xcom_push(key=ESTIMATE_KEY, value=found.to_json())
        self.log.info("Cascade send: %s", self._describe(planned, requests, variant, ledger))
        ti = context["ti"]
        sender = LedgerSender(
            ledger,
            self.hook.client,
            repeat_window=getattr(settings, "repeat_window", REPEAT_WINDOW),
            log=self.log,
            keep_ids=not self.returns_reference,
            total_hint=planned,
            try_number=int(getattr(ti, "try_number", 1) or 1),
        )
        totals = sender.run(chunks())
        if plan.repeats_skipped:
            self.log.info(
                "Cascade send: %d repeated phones skipped (each person is messaged once; "
                "allow_repeats=True sends repeats), e.g. %s", plan.repeats_skipped,
                ", ".join(plan.samples),
            )  # fmt: skip
        self._checkpoint(context, ledger, "sent", totals)
        return self.report(context, ledger, totals)

    def _suppressed_line(self) -> str:
        s = self.suppression
        assert s is not None
        sample = f", e.g. {', '.join(s.sample)}" if s.sample else ""
        return (f"{s.suppressed:,} recipients suppressed by {len(s):,} phones in "
                f"{', '.join(s.urls)}{sample}")  # fmt: skip

    def _dry_report(
        self, context: Context, found: Estimate, planned: int, requests: int
    ) -> dict[str, Any]:
        """A dry run's outcome: the estimate and the plan, beside the ledger and in XCom."""
        suppressed = self.suppression.summary() if self.suppression is not None else {}
        value = {**found.to_json(), "dry_run": True, "planned_recipients": planned,
                 "requests": requests, **suppressed}  # fmt: skip
        ti = context["ti"]
        ledger = Ledger(self._ledger_url(context))
        ledger.root.mkdir(parents=True, exist_ok=True)
        ledger.write_json("estimate.json", value)
        value["estimate_file"] = f"{ledger.url}/estimate.json"
        self.log.info("Cascade dry run: nothing sent; %s requests planned; estimate in %s",
                      f"{requests:,}", value["estimate_file"])  # fmt: skip
        ti.xcom_push(key=ESTIMATE_KEY, value=value)
        return value

    def _checked(self, feed: Feed, codec: Any) -> Iterator[tuple[int, Message, Iterable[Any]]]:
        tz = zone(codec.settings.timezone)
        now = datetime.now(timezone.utc)
        for index, message, recipients in feed:
            check_not_past(message, tz, now, "" if index == 0 else f"message[{index}].")
            yield index, message, recipients

    def count_plain(self) -> int | None:
        """Recipients counted by a check that needs no pass over them one by one (a plain
        file of phones), else None. Subclasses that read files say."""
        return None

    def _dry_run(self, dry: Plan, codec: Any) -> tuple[int, int]:
        """Check everything before the first request leaves: bad input fails with nothing
        sent. Every recipient is validated; each message is encoded once, with its first chunk
        (the codec's checks for the variant), not once per request: a file of a million phones
        is one message. Returns (recipients, requests); with a plain file of phones, repeats
        are still among the recipients (the send skips them and says how many)."""
        chunks = dry.chunks(self._checked(self._feed(dry, codec), codec))
        counted = self.count_plain()
        if counted is not None:
            with closing(chunks):
                first = next(chunks, None)  # the message, its time and its first recipients
            if first is None:
                raise CascadeValidationError("phones", "nothing to send: no recipients")
            per_chunk = len(codec.send_batches([m for _, m in first]))
            return counted, -(-counted // dry.max_recipients) * per_chunk
        recipients = requests = 0
        checked = -1  # message indexes grow along the feed
        for chunk in chunks:
            requests += 1
            recipients += sum(len(m.recipients) + len(m.bases) for _, m in chunk)
            if chunk[-1][0] > checked:
                requests += len(codec.send_batches([m for _, m in chunk])) - 1
                checked = chunk[-1][0]
        if not recipients:
            raise CascadeValidationError("phones", "nothing to send: no recipients")
        return recipients, requests

    def _describe(self, planned: int, requests: int, variant: Variant, ledger: Ledger) -> str:
        return (f"{planned:,} recipients in {requests:,} requests over {variant.value.upper()}; "
                f"{self.content_line()}; ledger {ledger.url}")  # fmt: skip

    def content_line(self) -> str:
        return "messages as given"

    # -- the ledger -----------------------------------------------------------------------------
    def _open_ledger(self, context: Context) -> Ledger:
        """The same ledger for every try of this task instance (the 3.3+ task state store keeps
        its location, so a changed setting cannot orphan it)."""
        store = context.get("task_state_store") if self.durable else None
        saved = store.get(STATE_STORE_KEY, None) if store is not None else None
        ti = context["ti"]
        url = saved.get("url") if isinstance(saved, dict) else None
        ledger = Ledger(str(url or self._ledger_url(context)))
        ledger.start(dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id,
                     map_index=getattr(ti, "map_index", -1),
                     variant=self.hook.settings.variant.value)  # fmt: skip
        self._checkpoint(context, ledger, "sending", None)
        return ledger

    def _ledger_url(self, context: Context) -> str:
        """This task instance's folder under the ledger root."""
        ti = context["ti"]
        map_index = getattr(ti, "map_index", None)
        return task_folder(
            self.ledger or default_root(), ti.dag_id, ti.run_id, ti.task_id,
            -1 if map_index is None else int(map_index),
        )  # fmt: skip

    def _checkpoint(
        self, context: Context, ledger: Ledger, state: str, totals: Totals | None
    ) -> None:
        store = context.get("task_state_store") if self.durable else None
        if store is None:
            return
        value: dict[str, Any] = {"url": ledger.url, "version": 1, "state": state}
        if totals is not None:
            value.update(totals.counts())
        store.set(STATE_STORE_KEY, value)

    # -- the outcome --------------------------------------------------------------------------
    def report(self, context: Context, ledger: Ledger, totals: Totals) -> Any:
        counts = totals.counts()
        suppressed = self.suppression.summary() if self.suppression is not None else {}
        if suppressed:
            self.log.info("Cascade send: %s", self._suppressed_line())
        ledger.write_json("summary.json", {**counts, "untracked_sample": totals.untracked_sample,
                                           "first_errors": totals.first_errors,
                                           **suppressed})  # fmt: skip
        self.log.info(
            "Cascade send done: %d recipients: %d accepted (%d already sent earlier), "
            "%d rejected, %d untracked; %d requests (%d recipients resent after a lost answer)",
            totals.total, totals.accepted, totals.already, totals.rejected, totals.untracked,
            totals.requests, totals.resent,
        )  # fmt: skip
        shown = ", ".join(totals.ids[:5]) + (" ..." if len(totals.ids) > 5 else "")
        where = "XCom return_value" if not self.returns_reference else "the ledger"
        self.log.info("Cascade send: ids %s (all in %s; ledger %s)", shown or "none", where,
                      ledger.url)  # fmt: skip
        if totals.first_errors:
            self.log.warning("Cascade send: first errors: %s", "; ".join(totals.first_errors))
        if totals.untracked:
            self.log.warning(
                "Cascade send: %d recipients are UNTRACKED (sent, or perhaps sent, but the "
                "gateway gave no id to poll; never resent): %s%s", totals.untracked,
                ", ".join(totals.untracked_sample),
                " ..." if totals.untracked > len(totals.untracked_sample) else "",
            )  # fmt: skip
        context["ti"].xcom_push(
            key=SUMMARY_KEY,
            value={
                **counts,
                "untracked_sample": totals.untracked_sample,
                "ledger": ledger.url,
                **suppressed,
            },
        )
        if not self.returns_reference:  # per recipient: inline sends only (they are small)
            context["ti"].xcom_push(key=RESULTS_KEY, value=list(_results(ledger)))
        self._apply_failure_policy(totals)
        if self.returns_reference:
            return ledger.ref(**counts)
        ids = list(dict.fromkeys(totals.ids))
        if self.wait_for_completion and ids:
            return self.wait(context, ids)
        return ids

    def _apply_failure_policy(self, totals: Totals) -> None:
        if not totals.total or not totals.rejected:
            return
        ratio = totals.rejected / totals.total
        limit = self.max_failure_ratio
        if (limit is None and totals.accepted + totals.untracked == 0) or (
            limit is not None and ratio > limit
        ):
            raise CascadeError(f"Cascade send failed for {totals.rejected}/{totals.total}: "
                               f"{'; '.join(totals.first_errors)}")  # fmt: skip

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
        keep_prices(self.ledger or default_root(), self.cascade_conn_id,
                    observe(state.states.values()), self.log)  # fmt: skip
        finish(context, state.states, self.log)
        return ids

    def execute_complete(self, context: Context, event: dict[str, Any]) -> list[str]:
        """The trigger's JSON event; failures are raised here, in the task, as typed errors.
        The event carries every id it waited for, in send order."""
        if event.get("status") != "success":
            raise CascadeError(f"waiting for Cascade messages ended with {describe_event(event)}")
        states = states_from_event(event)
        keep_prices(self.ledger or default_root(), self.cascade_conn_id,
                    observe(states.values()), self.log)  # fmt: skip
        finish(context, states, self.log)
        return list(states)


class CascadeSendMessageOperator(_CascadeSendOperator):
    """Send one message (``channels`` in cascade order to ``phones`` or ``recipients_file``) or
    many personalised ones (``messages`` or ``messages_file``).

    Every recipient gets a ``client_id_message`` derived from the task instance, and every
    request goes through the campaign ledger, so no Airflow retry or crash messages anyone
    twice. XCom: for ``phones``/``messages`` the accepted ``id_message`` list (and
    ``send_results``); for files a small reference to the ledger with counts, which
    ``CascadeMessageStateSensor`` accepts as it is.

    :param channels: the cascade: channel dicts (``{"channel": "sms", "sender": ..., "text":
        ...}``) or channel objects, first tried first; not with ``messages``/``messages_file``.
    :param phones: recipients of the one message: a list, a comma string, or dicts with
        ``phone`` and ``client_id_message``.
    :param messages: personalised messages in the gateway's JSON ``message`` shape (or
        ``Message`` objects), each with its own channels and phones.
    :param recipients_file: CSV (``phone`` column) or JSON Lines of recipients, a path or an
        object-storage URL, streamed; returns a ledger reference instead of ids.
    :param messages_file: JSON Lines of messages in the gateway's JSON shape, streamed; returns
        a ledger reference instead of ids.
    :param allow_repeats: send a phone listed twice in one message twice (default: once).
    """

    template_fields: Sequence[str] = (
        "messages", "channels", "phones", "recipients_file", "messages_file", "time_send",
        "name_delivery", "ledger", "suppress_file",
    )  # fmt: skip

    def __init__(
        self,
        *,
        channels: Sequence[Mapping[str, Any] | Any] | Mapping[str, Any] | None = None,
        phones: Sequence[str | int | Mapping[str, Any]] | str | int | None = None,
        messages: Sequence[Message | Mapping[str, Any]] | Mapping[str, Any] | None = None,
        recipients_file: str | None = None,
        messages_file: str | None = None,
        allow_repeats: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        given = [n for n, v in (("phones", phones), ("messages", messages),
                                ("recipients_file", recipients_file),
                                ("messages_file", messages_file)) if v is not None]  # fmt: skip
        if len(given) > 1:
            raise CascadeValidationError(given[1], f"give one of {', '.join(given)}, not several")
        if (messages is not None or messages_file is not None) and channels is not None:
            raise CascadeValidationError("channels", "messages carry their own channels")
        if (recipients_file or messages_file) and self.wait_for_completion:
            raise CascadeValidationError(
                "wait_for_completion",
                "sends of files return a ledger reference: wait with "
                "CascadeMessageStateSensor(id_messages=<this task>.output) instead",
            )
        self.channels = channels
        self.phones = phones
        self.messages = messages
        self.recipients_file = recipients_file
        self.messages_file = messages_file
        self.allow_repeats = allow_repeats

    @property
    def returns_reference(self) -> bool:  # type: ignore[override]
        return self.recipients_file is not None or self.messages_file is not None

    def feed(self, plan: Plan) -> Feed:
        if self.messages_file is not None:
            for index, message in read_messages(self.messages_file):
                yield index, message, plan.recipients(index, message.recipients, "messages_file")
            return
        if self.recipients_file is not None:
            self._zones = zones = Zones("recipients_file")
            items = zones.strip(recipient_items(self.recipients_file))
            rows = plan.recipients(0, items, "recipients_file")
            first = next(rows, None)
            if first is None:
                raise CascadeValidationError("recipients_file", "holds no recipients")
            (template,) = build_messages(
                messages=None, channels=self.channels, phones=[first],
                time_send=self.time_send, name_delivery=self.name_delivery,
            )  # fmt: skip
            yield 0, template, chain([first], rows)
            return
        messages = build_messages(
            messages=self.messages, channels=self.channels, phones=self.phones,
            time_send=self.time_send, name_delivery=self.name_delivery,
        )  # fmt: skip
        for index, message in enumerate(messages):
            where = "phones" if self.phones is not None else f"messages[{index}].phones"
            yield index, message, plan.recipients(index, message.recipients, where)

    def count_plain(self) -> int | None:
        if self.recipients_file is None or self.suppress_file or self.send_window:
            return None  # every recipient is looked at: suppressed ones, windows
        return count_plain_phones(self.recipients_file)

    def content_line(self) -> str:
        if self.channels is None:
            source = self.messages_file or "messages"
            return f"personalised messages from {source}"
        return _channels_line(self.channels)


class CascadeSendBaseOperator(_CascadeSendOperator):
    """A campaign to recipient bases stored at the gateway, with stop-list bases.

    ``bases`` items: a base id, or ``{"base": id, "time_send": ...}``. Texts may use
    ``#name#`` and ``#number#``. Needs the JSON variant (the only one carrying bases).

    :param bases: recipient bases stored at the gateway: ids, or ``{"base": id, "time_send":
        ...}`` for a base's own send time.
    :param channels: the cascade: channel dicts or channel objects, first tried first.
    :param stop_bases: stop-list bases: their phones are not messaged.
    """

    template_fields: Sequence[str] = (
        "channels", "bases", "stop_bases", "time_send", "name_delivery", "ledger",
    )  # fmt: skip

    def __init__(
        self,
        *,
        bases: Sequence[str | int | Mapping[str, Any]] | str | int | Mapping[str, Any],
        channels: Sequence[Mapping[str, Any] | Any] | Mapping[str, Any],
        stop_bases: Sequence[str | int] | str | int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if self.suppress_file:
            raise CascadeValidationError(
                "suppress_file", "a base's phones are stored at the gateway: use stop_bases"
            )
        self.bases = bases
        self.stop_bases = stop_bases
        self.channels = channels

    def feed(self, plan: Plan) -> Feed:
        variant = self.hook.settings.variant
        if variant is not Variant.JSON:
            raise CascadeValidationError(
                "protocol",
                f"base campaigns need the JSON variant; connection {self.cascade_conn_id!r} "
                f"uses {variant.value.upper()} (set extra protocol=json)",
            )
        bases = [self.bases] if isinstance(self.bases, (str, int, Mapping)) else self.bases
        stops = [self.stop_bases] if isinstance(self.stop_bases, (str, int)) else self.stop_bases
        (message,) = build_messages(
            messages=None, channels=self.channels, phones=None, bases=bases, stop_bases=stops,
            time_send=self.time_send, name_delivery=self.name_delivery,
        )  # fmt: skip
        yield 0, message, ()

    def content_line(self) -> str:
        return f"bases {self.bases!r}, stop-lists {self.stop_bases!r}; " + _channels_line(
            self.channels
        )


def _channels_line(channels: Any) -> str:
    """Channels in cascade order with sender and a text excerpt: what the log reader needs."""
    items = [channels] if isinstance(channels, Mapping) else list(channels or ())
    parts = []
    for item in items:
        get = item.get if isinstance(item, Mapping) else (lambda k, o=item: getattr(o, k, None))
        name = get("channel") or getattr(getattr(item, "channel", None), "value", "?")
        text = str(get("text") or "")
        excerpt = text if len(text) <= 40 else text[:39] + "…"
        sender = get("sender")
        parts.append(f"{name}" + (f" from {sender!s}" if sender else "") + (
            f" {excerpt!r}" if excerpt else ""))  # fmt: skip
    return "cascade " + " → ".join(parts)


def _results(ledger: Ledger) -> Iterator[dict[str, Any]]:
    """Per recipient, from the ledger (inline sends only: they are small)."""
    for record in ledger.records():
        for i, e in enumerate(record.entries):
            row = record.rows.get(i)
            if row is not None and row.members:
                for phone, member in row.members:
                    yield {
                        "message_index": e.message,
                        "phone": phone,
                        "base": e.base,
                        "client_id_message": None,
                        "id_message": member.id_message,
                        "fate": member.fate.value,
                        "error": member.error,
                        "already_sent": member.already,
                    }
                continue
            yield {
                "message_index": e.message,
                "phone": e.phone,
                "base": e.base,
                "client_id_message": e.cid,
                "id_message": row.id_message if row else None,
                "fate": row.fate.value if row else "unsent",
                "error": row.error if row and row.fate.value != "accepted" else None,
                "already_sent": bool(row and row.already),
            }


class CascadeSplitRecipientsOperator(BaseOperator):
    """Split a recipients file into ``shards`` CSV files for mapped sends
    (``CascadeSendMessageOperator.partial(...).expand(recipients_file=split.output)``).

    A phone always lands in the same shard. XCom: the list of shard URLs. ``destination``
    defaults to a folder beside the ledgers, per run, so concurrent runs never share files.

    :param recipients_file: the CSV or JSON Lines file to split, a path or object-storage URL.
    :param shards: how many files to write (1 to 10,000).
    :param destination: folder (path or URL) for the shards; None: ``shards/`` under the
        ledger root, per DAG run and task.
    :param max_cost: the most the whole campaign may cost: checked before any shard is
        written (needs ``channels``); over it, or when it cannot be known, the task fails
        and is not retried.
    :param channels: the cascade the shards will be sent with, for the estimate.
    :param prices: price per unit for each channel, as on the send operators.
    :param max_cost_basis: ``worst_case``, ``first_channel`` or ``expected``.
    :param cascade_conn_id: the ``cascade`` connection whose extra ``prices`` and price
        history complete ``prices``.
    """

    template_fields: Sequence[str] = ("recipients_file", "destination")
    ui_color = "#e4f0ff"

    def __init__(
        self,
        *,
        recipients_file: str,
        shards: int,
        destination: str | None = None,
        max_cost: Decimal | str | float | None = None,
        channels: Sequence[Mapping[str, Any] | Any] | Mapping[str, Any] | None = None,
        prices: Mapping[str, Any] | None = None,
        max_cost_basis: str = "worst_case",
        cascade_conn_id: str = CascadeHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        if "retry_policy" not in kwargs and (policy := default_retry_policy()) is not None:
            kwargs["retry_policy"] = policy
        super().__init__(**kwargs)
        self.recipients_file = recipients_file
        self.shards = shards
        self.destination = destination
        self.max_cost = parse_max_cost(max_cost)
        if self.max_cost is not None and channels is None:
            raise CascadeValidationError("channels", "max_cost needs the cascade to estimate")
        self.channels = channels
        self.prices = parse_prices("prices", prices)
        self.max_cost_basis = check_basis(max_cost_basis)
        self.cascade_conn_id = cascade_conn_id

    def execute(self, context: Context) -> list[str]:
        ti = context["ti"]
        if self.max_cost is not None:
            self._check_budget()
        destination = self.destination or task_folder(
            f"{default_root().rstrip('/')}/shards", ti.dag_id, ti.run_id, ti.task_id, -1
        )
        urls = split_recipients_file(self.recipients_file, self.shards, destination)
        self.log.info("Cascade: %s split into %d shards under %s",
                      self.recipients_file, len(urls), destination)  # fmt: skip
        return urls

    def _check_budget(self) -> None:
        """The whole campaign against ``max_cost``, before any shard exists: each recipient
        once per row (a repeat, sent once, is counted as often as listed: the cap errs high)."""
        items = [self.channels] if isinstance(self.channels, Mapping) else list(self.channels or ())
        units = channel_units([_as_channel(c) for c in items])
        counted = count_plain_phones(self.recipients_file)
        if counted is None:
            counted = sum(1 for _ in recipient_items(self.recipients_file))
        tally = Tally(messages=1)
        tally.add(0, counted, units)
        known, reach = known_prices(default_root(), self.cascade_conn_id,
                                    CascadeHook(self.cascade_conn_id).settings.prices,
                                    self.prices)  # fmt: skip
        found = estimate(tally, known, reach)
        self.log.info("Cascade estimate: %s", found.line())
        check_budget(found, self.max_cost, self.max_cost_basis)
