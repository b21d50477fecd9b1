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
    CascadeSendRejected,
    CascadeValidationError,
    CascadeWaitTimeout,
    Message,
    Variant,
    summarize,
)
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
from ..gateway._privacy import mask_phones_in, shown_phone
from ..gateway._timefmt import zone
from ..gateway._windows import SendWindow, Zones, in_windows
from ..gateway.codec import redact_url
from ..gateway.defaults import MAX_TRANSIENT_FAILURES, REPEAT_WINDOW
from ..hooks import _metrics
from ..hooks.cascade import CascadeHook
from ..ledger import (
    Ledger,
    LedgerInputChanged,
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
from ..ledger._campaigns import campaign_sent, campaign_started
from ..ledger._files import file_identity, text_encoding
from ..ledger._prices import keep_prices, known_prices, observe
from ..ledger._report import check_report_path
from ..ledger._sources import Chunk, ClientIds, FileRows
from ..ledger._suppress import Suppression, suppress_urls
from ..reporting import (
    CampaignFacts,
    announce,
    facts_of_wait,
    gateway_host,
    masking_on,
    push_report,
    report_ledger_states,
    send_fates,
    wait_metrics,
)
from ..triggers.cascade import CascadeMessageStateTrigger
from ..ui.links import CascadeCampaignLink
from ..waiting import (
    StatusWait,
    WaitSettings,
    check_wait_args,
    describe_wait,
    event_error,
    finish,
    poll,
    states_from_event,
)
from ._build import build_messages

RESULTS_KEY = "send_results"
SUMMARY_KEY = "send_summary"
STATE_STORE_KEY = "cascade_ledger"
INPUT_KEY = "input.json"
"""The input file's identity, in the ledger folder from the first try on."""
ESTIMATE_KEY = "estimate"
Feed = Iterable[tuple[int, Message, Iterable[Any]]]


def ledger_ti(context: Context) -> str:
    """``dag_id.task_id``: a campaign's name when it has none."""
    ti = context["ti"]
    return f"{ti.dag_id}.{ti.task_id}"


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
            RetryRule(exception=LedgerInputChanged, action=RetryAction.FAIL,
                      reason="the input changed under the send: a retry would find it changed"),
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
    :param mask_phones: show phones as ``79*****0001`` in this task's log, its XCom
        ``send_summary``, ``summary.json`` and its error texts; None: the connection's
        ``mask_phones`` extra.
    :param report_path: with ``wait_for_completion``, where to write the delivery report once
        the wait ends (also when it times out): a path or object-storage URL ending in
        ``.csv``, ``.csv.gz``, ``.jsonl`` or ``.parquet``; one row per recipient.
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
    operator_extra_links = (CascadeCampaignLink(),)
    allow_repeats = False
    """Send a phone listed twice in one message twice (the operators that take it say so)."""
    _reading: FileRows | None = None
    """The file of messages being read (to name its line in an error), if any."""
    _sender: LedgerSender | None = None
    """The send under way (``on_kill`` stops it)."""

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
        mask_phones: bool | None = None,
        report_path: str | None = None,
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
        self.mask_phones = mask_phones
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
        if report_path is not None and not wait_for_completion:
            raise CascadeValidationError(
                "report_path", "needs wait_for_completion=True (the report holds final states)"
            )
        self.report_path = report_path
        self._facts: CampaignFacts | None = None
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

    def input_url(self) -> str | None:
        """The file this send reads, if any: its identity is kept in the ledger."""
        return None

    def masked(self) -> bool:
        if self.mask_phones is not None:
            return bool(self.mask_phones)
        return self.hook.settings.mask_phones

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
        check_report_path(self.report_path)  # a bad extension or no pyarrow: fail before sending
        settings = self.hook.settings
        codec = self.hook.client.codec
        variant = settings.variant
        if variant is Variant.GET:
            self.log.warning(
                "The GET variant cannot carry client_id_message: a recipient whose answer is lost "
                "is recorded as untracked, never resent."
            )
        masked = self.masked()
        plan = Plan(
            run_key(context),
            settings.codec.max_recipients,
            client_ids=variant is not Variant.GET,
            allow_repeats=self.allow_repeats,
            mask_phones=masked,
        )
        url = self.input_url()
        identity = file_identity(url) if url is not None else None

        def chunks() -> Iterator[Chunk]:
            return plan.chunks(self._checked(self._feed(plan, codec), codec, identity))

        self._ledger_at(context)  # a ledger URL with credentials fails now, before any read
        self._now = datetime.now(timezone.utc)  # one clock for the plan and the send
        dry = replace(plan, derive_ids=False, check_ids=True, repeats_skipped=0, samples=[],
                      given_ids=ClientIds())  # fmt: skip
        self._tally = tally = Tally()
        try:
            planned, requests = self._dry_run(dry, codec, identity)
        except CascadeValidationError as exc:
            if not masked:
                raise
            raise CascadeValidationError(
                exc.field, mask_phones_in(exc.rule), exc.message_index
            ) from None
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
        ledger = self._open_ledger(context, planned)
        self._same_input(ledger, identity)
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
            run_key=plan.run_key,
        )
        self._unchanged(identity)  # the file the check read is the one about to be sent
        self._sender = sender
        try:
            totals = sender.run(chunks())
        finally:
            self._sender = None
        if masked:
            _mask_totals(totals)
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

    def on_kill(self) -> None:
        """Airflow stops this try (a newer one took over, or a user marked it): the send loop
        sends nothing more; the request under way is answered and recorded first."""
        sender = self._sender
        if sender is not None:
            sender.stop()

    def _checked(
        self, feed: Feed, codec: Any, identity: dict[str, Any] | None = None
    ) -> Iterator[tuple[int, Message, Iterable[Any]]]:
        """The feed, each message checked as it comes; with a file, the file's identity
        compared once its last line is read and whenever a line is refused: a file changed
        under a send stops it as changed input, not as bad input found mid-send."""
        tz = zone(codec.settings.timezone)
        now = datetime.now(timezone.utc)
        try:
            for index, message, recipients in feed:
                try:
                    check_not_past(message, tz, now, "" if index == 0 else f"message[{index}].")
                except CascadeValidationError as exc:
                    raise self._at_line(exc) from None
                yield (
                    index,
                    message,
                    (recipients if identity is None else _guarded(recipients, self, identity)),
                )
        except CascadeValidationError:
            self._unchanged(identity)
            raise
        self._unchanged(identity)

    def _at_line(self, exc: CascadeValidationError) -> CascadeValidationError:
        """``exc`` with the file and line the feed is on, when it reads a file of messages."""
        rows = self._reading
        if isinstance(rows, FileRows):
            return CascadeValidationError(exc.field, f"{rows.where()}: {exc.rule}")
        return exc

    def _unchanged(self, identity: dict[str, Any] | None) -> None:
        url = self.input_url()
        if identity is None or url is None:
            return
        now = file_identity(url)
        if now != identity:
            raise LedgerInputChanged(
                f"{redact_url(url)} changed while it was being read (was {_shown(identity)}, "
                f"now {_shown(now)}): the send stopped; the ledger holds what was sent. Run "
                "again with the file as it was, or send the new file in a new run"
            )

    def _same_input(self, ledger: Ledger, identity: dict[str, Any] | None) -> None:
        """The first try records the file's identity in the ledger; every later try compares:
        rows appended or changed between tries must not be sent without a word."""
        if identity is None:
            return
        recorded = ledger.read_json(INPUT_KEY)
        if recorded is None:
            ledger.write_json(INPUT_KEY, identity)
        elif recorded != identity:
            raise LedgerInputChanged(
                f"{identity['url']} is not the file an earlier try of this task read (then "
                f"{_shown(recorded)}, now {_shown(identity)}): nothing more is sent. Restore "
                "the file, or send the new one in a new run"
            )

    def count_plain(self) -> int | None:
        """Recipients counted by a check that needs no pass over them one by one (a plain
        file of phones), else None. Subclasses that read files say."""
        return None

    def _dry_run(
        self, dry: Plan, codec: Any, identity: dict[str, Any] | None = None
    ) -> tuple[int, int]:
        """Check everything before the first request leaves: bad input fails with nothing
        sent. Every recipient is validated and every given client id is checked against the
        whole input (the codec sees one request at a time); each message is encoded once,
        with its first chunk (the codec's checks for the variant), not once per request: a
        file of a million phones is one message. Over GET a message split across requests is
        also encoded with its longest phone (the URL must hold it). Returns (recipients,
        requests); with a plain file of phones, repeats are still among the recipients (the
        send skips them and says how many)."""
        chunks = dry.chunks(self._checked(self._feed(dry, codec), codec, identity))
        # over GET a request's room depends on its longest phone: each share is looked at
        counted = self.count_plain() if codec.variant is not Variant.GET else None
        if counted is not None:
            with closing(chunks):
                first = next(chunks, None)  # the message, its time and its first recipients
            if first is None:
                raise CascadeValidationError("phones", "nothing to send: no recipients")
            per_chunk = len(codec.send_batches([m for _, m in first]))
            return counted, -(-counted // dry.max_recipients) * per_chunk
        recipients = requests = 0
        checked = -1  # message indexes grow along the feed
        longest = 0  # GET: the longest phone of message ``checked`` encoded so far
        for chunk in chunks:
            requests += 1
            recipients += sum(len(m.recipients) + len(m.bases) for _, m in chunk)
            if chunk[-1][0] > checked:
                requests += len(codec.send_batches([m for _, m in chunk])) - 1
                checked = chunk[-1][0]
                longest = _longest(chunk[-1][1])
            elif codec.variant is Variant.GET and _longest(chunk[-1][1]) > longest:
                (_, piece) = chunk[-1]  # a later share of one long message: its URL room
                top = max(piece.recipients, key=lambda r: len(r.phone))
                codec.send_batches([replace(piece, recipients=(top,))])
                longest = len(top.phone)
        dry.check_client_ids()
        if not recipients:
            raise CascadeValidationError("phones", "nothing to send: no recipients")
        return recipients, requests

    def _describe(self, planned: int, requests: int, variant: Variant, ledger: Ledger) -> str:
        return (f"{planned:,} recipients in {requests:,} requests over {variant.value.upper()}; "
                f"{self.content_line()}; ledger {redact_url(ledger.url)}")  # fmt: skip

    def content_line(self) -> str:
        return "messages as given"

    # -- the ledger -----------------------------------------------------------------------------
    def _open_ledger(self, context: Context, planned: int | None = None) -> Ledger:
        """The same ledger for every try of this task instance (the 3.3+ task state store keeps
        its location, so a changed setting cannot orphan it)."""
        ledger = self._ledger_at(context)
        ti = context["ti"]
        ledger.start(dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id,
                     map_index=getattr(ti, "map_index", -1),
                     variant=self.hook.settings.variant.value,
                     campaign=self.name_delivery or f"{ti.dag_id}.{ti.task_id}")  # fmt: skip
        campaign_started(ledger, dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id,
                         map_index=getattr(ti, "map_index", -1), planned=planned,
                         variant=self.hook.settings.variant.value,
                         mask_phones=self.masked())  # fmt: skip
        self._checkpoint(context, ledger, "sending", None)
        return ledger

    def _ledger_at(self, context: Context) -> Ledger:
        """Where this task instance's ledger is (the state store's place first)."""
        store = context.get("task_state_store") if self.durable else None
        saved = store.get(STATE_STORE_KEY, None) if store is not None else None
        url = saved.get("url") if isinstance(saved, dict) else None
        if not url:
            url = self._ledger_url(context)
        if self.returns_reference and redact_url(str(url)) != str(url):
            raise CascadeValidationError(
                "ledger",
                "the ledger URL carries credentials (a password, token or signature), and the "
                "reference this task returns would carry them into XCom: name an Airflow "
                "connection instead (s3://<conn_id>@bucket/path)",
            )
        return Ledger(str(url))

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
        sent = {**counts, "untracked_sample": totals.untracked_sample,
                "id_reused_sample": totals.id_reused_sample,
                "first_errors": totals.first_errors, "mask_phones": self.masked(),
                **suppressed}  # fmt: skip
        ledger.write_json("summary.json", sent)
        campaign_sent(ledger, sent)
        self.log.info(
            "Cascade send done: %d recipients: %d accepted (%d already sent earlier), "
            "%d rejected, %d untracked; %d requests (%d recipients resent after a lost answer)",
            totals.total, totals.accepted, totals.already, totals.rejected, totals.untracked,
            totals.requests, totals.resent,
        )  # fmt: skip
        shown = ", ".join(totals.ids[:5]) + (" ..." if len(totals.ids) > 5 else "")
        where = "XCom return_value" if not self.returns_reference else "the ledger"
        self.log.info("Cascade send: ids %s (all in %s; ledger %s)", shown or "none", where,
                      redact_url(ledger.url))  # fmt: skip
        if totals.first_errors:
            self.log.warning("Cascade send: first errors: %s", "; ".join(totals.first_errors))
        if totals.id_reused:
            self.log.warning(
                "Cascade send: %d recipients were NOT messaged: their client_id_message was "
                "already used by an earlier send (counted as rejected): %s", totals.id_reused,
                _listing(totals.id_reused_sample, totals.id_reused),
            )  # fmt: skip
        if totals.untracked:
            self.log.warning(
                "Cascade send: %d recipients are UNTRACKED (sent, or perhaps sent, but the "
                "gateway gave no id to poll; never resent): %s", totals.untracked,
                _listing(totals.untracked_sample, totals.untracked),
            )  # fmt: skip
        context["ti"].xcom_push(
            key=SUMMARY_KEY,
            value={
                **counts,
                "untracked_sample": totals.untracked_sample,
                "ledger": redact_url(ledger.url),
                **suppressed,
            },
        )
        _metrics.recipients(counts)
        self._facts = CampaignFacts(
            campaign=self.name_delivery or f"{ledger_ti(context)}",
            gateway=gateway_host(self.hook),
            fates=send_fates(ledger),
            ledgers=[ledger.url],
            inputs=self.lineage_inputs(),
            stop_bases=self.lineage_stop_bases(),
        )
        announce(context, self.outlets, self._facts)
        if not self.returns_reference:  # per recipient: inline sends only (they are small)
            context["ti"].xcom_push(key=RESULTS_KEY, value=totals.results())
        self._apply_failure_policy(totals)
        if self.returns_reference:
            return ledger.ref(**counts)
        ids = list(dict.fromkeys(totals.ids))
        if self.wait_for_completion and ids:
            return self.wait(context, ids, ledger)
        if self.wait_for_completion:  # nothing accepted: the report still names everyone
            self._waited(context, ledger, {}, complete=True)
        return ids

    # -- lineage ---------------------------------------------------------------------------
    def lineage_inputs(self) -> list[str]:
        """Files the send read (recipients or messages), for lineage."""
        return []

    def lineage_stop_bases(self) -> list[str]:
        return []

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """The recipient or message file and stop-list bases in; the campaign out."""
        from ..lineage import send_lineage

        return send_lineage(self._facts)

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> Any:
        from ..lineage import send_lineage

        return send_lineage(self._facts)

    def _apply_failure_policy(self, totals: Totals) -> None:
        if not totals.total or not totals.rejected:
            return
        ratio = totals.rejected / totals.total
        limit = self.max_failure_ratio
        if (limit is None and totals.accepted + totals.untracked == 0) or (
            limit is not None and ratio > limit
        ):
            raise CascadeSendRejected(totals.rejected, totals.total, totals.first_errors)

    def wait(self, context: Context, ids: list[str], ledger: Ledger | None = None) -> list[str]:
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
                self._waited(context, ledger, state.states, complete=False)
                raise CascadeWaitTimeout(
                    f"messages were not all final before wait_timeout "
                    f"({self.wait_timeout:g} s): {describe_wait(state)}",
                    final=state.summary().final,
                    total=len(ids),
                )
        self._waited(context, ledger, state.states, complete=True)
        keep_prices(self.ledger or default_root(), self.cascade_conn_id,
                    observe(state.states.values()), self.log)  # fmt: skip
        finish(context, state.states, self.log)
        return ids

    def execute_complete(self, context: Context, event: dict[str, Any]) -> list[str]:
        """The trigger's JSON event; failures are raised here, in the task, as typed errors.
        The event carries every id it waited for, in send order."""
        states = states_from_event(event)
        if event.get("status") != "success":
            if event.get("status") == "timeout":
                self._waited(context, self._ledger_at(context), states, complete=False)
            raise event_error(event)
        self._waited(context, self._ledger_at(context), states, complete=True)
        keep_prices(self.ledger or default_root(), self.cascade_conn_id,
                    observe(states.values()), self.log)  # fmt: skip
        finish(context, states, self.log)
        return list(states)

    def _waited(
        self,
        context: Context,
        ledger: Ledger | None,
        states: Mapping[str, Any],
        *,
        complete: bool,
    ) -> None:
        """The wait ended (or timed out): the report, then the summary for the outlets,
        lineage and metrics."""
        report = None
        if self.report_path and ledger is not None:
            report = report_ledger_states(
                self.report_path, ledger, states, mask_phones=masking_on(self.hook),
                complete=complete, log=self.log,
            )  # fmt: skip
            push_report(context, report)
        summary = summarize(states)
        facts = facts_of_wait(
            self.hook, [ledger] if ledger is not None else [], summary.by_state,
            summary.by_channel, report, campaign=self.name_delivery or ledger_ti(context),
        )  # fmt: skip
        if self._facts is not None:
            facts.inputs, facts.stop_bases = self._facts.inputs, self._facts.stop_bases
        self._facts = facts
        announce(context, self.outlets, facts)
        if complete:
            wait_metrics(facts)


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
        object-storage URL, streamed (``.gz``: gzip); returns a ledger reference instead of
        ids. Checked whole before the first request; changed during the send or between
        tries, it stops the send.
    :param messages_file: JSON Lines of messages in the gateway's JSON shape, streamed
        (``.gz``: gzip); returns a ledger reference instead of ids.
    :param encoding: the text encoding of ``recipients_file`` or ``messages_file``: UTF-8
        (with or without a BOM), or e.g. ``cp1251`` (Excel in Russian locales), ``utf-16``.
    :param allow_repeats: send a phone listed twice in one message twice (default: once).
    """

    template_fields: Sequence[str] = (
        "messages", "channels", "phones", "recipients_file", "messages_file", "time_send",
        "name_delivery", "ledger", "report_path", "suppress_file",
    )  # fmt: skip

    def __init__(
        self,
        *,
        channels: Sequence[Mapping[str, Any] | Any] | Mapping[str, Any] | None = None,
        phones: Sequence[str | int | Mapping[str, Any]] | str | int | None = None,
        messages: Sequence[Message | Mapping[str, Any]] | Mapping[str, Any] | None = None,
        recipients_file: str | None = None,
        messages_file: str | None = None,
        encoding: str = "utf-8",
        allow_repeats: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        text_encoding(encoding)  # an unknown name fails when the DAG is parsed
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
        self.encoding = encoding
        self.allow_repeats = allow_repeats
        self._reading: FileRows | None = None

    @property
    def returns_reference(self) -> bool:  # type: ignore[override]
        return self.recipients_file is not None or self.messages_file is not None

    def input_url(self) -> str | None:
        return self.messages_file if self.messages_file is not None else self.recipients_file

    def feed(self, plan: Plan) -> Feed:
        if self.messages_file is not None:
            self._reading = reader = read_messages(self.messages_file, self.encoding)
            for index, message in reader:
                yield (
                    index,
                    message,
                    plan.recipients(index, message.recipients, "messages_file", source=reader),
                )
            return
        if self.recipients_file is not None:
            items = recipient_items(self.recipients_file, encoding=self.encoding)
            self._zones = zones = Zones("recipients_file", items.where)
            items.items = zones.strip(items.items)
            rows = plan.recipients(0, items, "recipients_file")
            first = next(rows, None)
            if first is None:
                raise CascadeValidationError(
                    "recipients_file", f"{redact_url(self.recipients_file)}: holds no recipients"
                )
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
        return count_plain_phones(self.recipients_file, self.encoding)

    def lineage_inputs(self) -> list[str]:
        return [f for f in (self.recipients_file, self.messages_file) if f]

    def content_line(self) -> str:
        if self.channels is None:
            source = redact_url(self.messages_file) if self.messages_file else "messages"
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
        "channels", "bases", "stop_bases", "time_send", "name_delivery", "ledger", "report_path",
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

    def lineage_stop_bases(self) -> list[str]:
        stops = self.stop_bases
        items = [stops] if isinstance(stops, (str, int)) else list(stops or ())
        return [str(b) for b in items]

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


def _longest(message: Message) -> int:
    return max((len(r.phone) for r in message.recipients), default=0)


def _guarded(
    recipients: Iterable[Any], op: _CascadeSendOperator, identity: dict[str, Any] | None
) -> Iterator[Any]:
    """A message's recipients; a refused one is first checked against a changed file."""
    try:
        yield from recipients
    except CascadeValidationError:
        op._unchanged(identity)
        raise


def _shown(identity: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in identity.items() if k != "url")


def _listing(sample: list[str], count: int) -> str:
    """``a, b, c ...``: a sample, and whether there are more."""
    return ", ".join(sample) + (" ..." if count > len(sample) else "")


def _mask_totals(totals: Totals) -> None:
    """Samples and first errors name phones: shown masked, in the log, XCom and
    ``summary.json`` alike (the ledger keeps them whole)."""
    totals.untracked_sample = [
        shown_phone(p, True) if p.isdigit() else p for p in totals.untracked_sample
    ]
    totals.id_reused_sample = [
        shown_phone(p, True) if p.isdigit() else p for p in totals.id_reused_sample
    ]
    totals.first_errors = [mask_phones_in(text) for text in totals.first_errors]


class CascadeSplitRecipientsOperator(BaseOperator):
    """Split a recipients file into ``shards`` CSV files for mapped sends
    (``CascadeSendMessageOperator.partial(...).expand(recipients_file=split.output)``).

    A phone always lands in the same shard. XCom: the list of shard URLs. ``destination``
    defaults to a folder beside the ledgers, per run, so concurrent runs never share files.

    The whole file is checked first, as a send checks it: a bad phone or a client id given
    twice fails the task naming this file and its line, before any shard is written.

    :param recipients_file: the CSV or JSON Lines file to split, a path or object-storage URL
        (``.gz``: gzip).
    :param shards: how many files to write (1 to 10,000).
    :param destination: folder (path or URL) for the shards; None: ``shards/`` under the
        ledger root, per DAG run and task.
    :param encoding: the file's text encoding: UTF-8 (with or without a BOM), or e.g.
        ``cp1251``, ``utf-16``; the shards are written in UTF-8.
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
        encoding: str = "utf-8",
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
        text_encoding(encoding)
        self.recipients_file = recipients_file
        self.shards = shards
        self.destination = destination
        self.encoding = encoding
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
        urls = split_recipients_file(
            self.recipients_file, self.shards, destination, encoding=self.encoding
        )
        self.log.info("Cascade: %s split into %d shards under %s",
                      redact_url(self.recipients_file), len(urls),
                      redact_url(destination))  # fmt: skip
        return urls

    def _check_budget(self) -> None:
        """The whole campaign against ``max_cost``, before any shard exists: each recipient
        once per row (a repeat, sent once, is counted as often as listed: the cap errs high)."""
        items = [self.channels] if isinstance(self.channels, Mapping) else list(self.channels or ())
        units = channel_units([_as_channel(c) for c in items])
        counted = count_plain_phones(self.recipients_file, self.encoding)
        if counted is None:
            counted = sum(1 for _ in recipient_items(self.recipients_file, encoding=self.encoding))
        tally = Tally(messages=1)
        tally.add(0, counted, units)
        known, reach = known_prices(default_root(), self.cascade_conn_id,
                                    CascadeHook(self.cascade_conn_id).settings.prices,
                                    self.prices)  # fmt: skip
        found = estimate(tally, known, reach)
        self.log.info("Cascade estimate: %s", found.line())
        check_budget(found, self.max_cost, self.max_cost_basis)
