"""What a finished send or wait hands on to the rest of Airflow: the delivery report, the
summary in its outlets' asset events, the figures for lineage and metrics. Airflow glue over
:mod:`airflow_provider_cascade.ledger._report` (which streams the rows)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import chain
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .gateway import MessageState
from .hooks import _metrics
from .ledger import Ledger
from .ledger._report import (
    ReportSummary,
    SendInfo,
    id_rows,
    ledger_rows,
    public_url,
    write_report,
)

if TYPE_CHECKING:
    from .hooks.cascade import CascadeHook
    from .waiting import LedgerWait

REPORT_KEY = "delivery_report"
"""The XCom key of a written report's counts (``ReportSummary.to_json``)."""
_TRUE = {"1", "true", "yes", "on"}


def masking_on(hook: CascadeHook) -> bool:
    """Phone masking as the connection asks (the ``mask_phones`` setting or extra)."""
    value = getattr(hook.settings, "mask_phones", None)
    if value is None:
        extra = hook.get_connection(hook.cascade_conn_id).extra_dejson or {}
        value = extra.get("mask_phones")
    return value is True or str(value).strip().lower() in _TRUE


def gateway_host(hook: CascadeHook) -> str:
    """The gateway's host (and port): never its credentials or path."""
    parts = urlsplit(hook.settings.codec.base_url)
    host = parts.hostname or ""
    return f"{host}:{parts.port}" if parts.port else host


@dataclass
class CampaignFacts:
    """Everything a send or wait task tells downstream: small, JSON-safe, no secrets."""

    campaign: str = ""
    gateway: str = ""
    fates: Counter[str] = field(default_factory=Counter)
    final_states: Counter[str] = field(default_factory=Counter)
    cost_by_channel: dict[str, Decimal] = field(default_factory=dict)
    ledgers: list[str] = field(default_factory=list)
    report: ReportSummary | None = None
    inputs: list[str] = field(default_factory=list)
    """Recipient or message files (URLs), for lineage."""
    stop_bases: list[str] = field(default_factory=list)

    @property
    def cost_total(self) -> Decimal:
        return sum(self.cost_by_channel.values(), Decimal(0))

    def extra(self) -> dict[str, Any]:
        """An outlet asset event's ``extra``."""
        report = self.report
        return {
            "campaign": self.campaign,
            "gateway_host": self.gateway,
            "recipients": sum(self.fates.values()),
            "fates": dict(sorted(self.fates.items())),
            "final_states": dict(sorted(self.final_states.items())),
            "cost_by_channel": {c: str(v) for c, v in sorted(self.cost_by_channel.items())},
            "cost_total": str(self.cost_total),
            "report": public_url(report.url) if report is not None else None,
            "report_complete": report.complete if report is not None else None,
            "ledgers": [public_url(u) for u in self.ledgers],
        }


def send_fates(ledger: Ledger) -> Counter[str]:
    """Counts by fate from a send's summary (written when its send ended)."""
    data = ledger.read_json("summary.json") or {}
    counts = {k: int(data.get(k) or 0) for k in ("accepted", "rejected", "untracked")}
    return Counter({k: v for k, v in counts.items() if v})


def facts_of_wait(
    hook: CascadeHook,
    ledgers: Sequence[Ledger],
    by_state: Mapping[str, int],
    by_channel: Mapping[str, str],
    report: ReportSummary | None,
    *,
    campaign: str = "",
) -> CampaignFacts:
    """A wait's facts: fates from the report (every recipient) or the sends' summaries."""
    infos = [SendInfo.of(ledger) for ledger in ledgers]
    facts = CampaignFacts(
        campaign=", ".join(dict.fromkeys(i.campaign for i in infos if i.campaign)) or campaign,
        gateway=gateway_host(hook),
        ledgers=[ledger.url for ledger in ledgers],
        report=report,
        final_states=Counter(dict(by_state)),
        cost_by_channel={c: Decimal(str(v)) for c, v in by_channel.items()},
    )
    if report is not None:
        facts.fates = Counter(report.by_fate)
    else:
        for ledger in ledgers:
            facts.fates.update(send_fates(ledger))
    return facts


def report_ledgers(
    url: str,
    wait: LedgerWait,
    *,
    mask_phones: bool,
    complete: bool,
    log: logging.Logger | Any,
) -> ReportSummary:
    """Every recipient of the ledgers the wait watched, with the states it recorded."""
    rows = chain.from_iterable(
        ledger_rows(w.ledger, w.known, mask_phones=mask_phones) for w in wait.watches
    )
    return _written(url, rows, complete, log)


def report_ledger_states(
    url: str,
    ledger: Ledger,
    states: Mapping[str, MessageState],
    *,
    mask_phones: bool,
    complete: bool,
    log: logging.Logger | Any,
) -> ReportSummary:
    """An inline send's recipients (its ledger) with the states its wait holds in memory."""
    rows = ledger_rows(ledger, lambda _batch: states, mask_phones=mask_phones)
    return _written(url, rows, complete, log)


def report_ids(
    url: str,
    ids: Iterable[str],
    states: Mapping[str, MessageState],
    info: SendInfo,
    *,
    complete: bool,
    log: logging.Logger | Any,
) -> ReportSummary:
    """A wait on bare ids: one row per id (the phones are not known there)."""
    return _written(url, id_rows(ids, states, info), complete, log)


def _written(
    url: str, rows: Iterator[Any], complete: bool, log: logging.Logger | Any
) -> ReportSummary:
    summary = write_report(url, rows, complete=complete)
    note = "" if complete else " (the wait ended before every message was final: states so far)"
    log.info("Cascade: delivery report of %d recipients written to %s%s", summary.rows,
             public_url(url), note)  # fmt: skip
    return summary


def push_report(context: Any, summary: ReportSummary) -> None:
    context["ti"].xcom_push(key=REPORT_KEY, value=summary.to_json())


def announce(context: Any, outlets: Iterable[Any], facts: CampaignFacts) -> None:
    """Each asset outlet's event carries the campaign's summary in ``extra``."""
    events = context.get("outlet_events") if hasattr(context, "get") else None
    if events is None:
        return
    extra = facts.extra()
    for outlet in outlets or ():
        if _is_asset(outlet):
            events[outlet].extra = dict(extra)


def _is_asset(outlet: Any) -> bool:
    try:
        from airflow.providers.common.compat.sdk import Asset
    except ImportError:  # pragma: no cover - every supported Airflow has assets
        return False
    return isinstance(outlet, Asset)


def wait_metrics(facts: CampaignFacts) -> None:
    _metrics.final_states(facts.final_states, facts.cost_by_channel)
