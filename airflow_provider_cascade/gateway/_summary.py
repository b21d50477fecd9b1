"""Counting states and adding up prices: what sensors and reports show."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ._results import MessageState, SendResult


@dataclass(frozen=True)
class StateSummary:
    total: int
    final: int
    by_state: dict[str, int]
    prices: dict[str, dict[str, str]]  # id -> channel -> decimal string (charged channels only)
    by_channel: dict[str, str]
    grand_total: str

    def totals(self) -> dict[str, Any]:
        return {"by_channel": self.by_channel, "total": self.grand_total}


def summarize(states: Mapping[str, MessageState], total: int | None = None) -> StateSummary:
    by_state: Counter[str] = Counter()
    prices: dict[str, dict[str, str]] = {}
    by_channel: dict[str, Decimal] = {}
    final = 0
    for id_message, state in states.items():
        if state.is_final:
            final += 1
            by_state[state.status.value] += 1
        charged = {c.value: p for c, p in state.prices.items() if p != 0}
        if charged:
            prices[id_message] = {c: str(p) for c, p in charged.items()}
        for channel, price in charged.items():
            by_channel[channel] = by_channel.get(channel, Decimal(0)) + price
    return StateSummary(
        total=len(states) if total is None else total,
        final=final,
        by_state=dict(by_state),
        prices=prices,
        by_channel={c: str(v) for c, v in sorted(by_channel.items())},
        grand_total=str(sum(by_channel.values(), Decimal(0))),
    )


@dataclass(frozen=True)
class SendSummary:
    accepted: int
    already_sent: int
    failed: int
    first_errors: list[str]

    @property
    def total(self) -> int:
        return self.accepted + self.failed

    def line(self) -> str:
        text = (
            f"{self.accepted} accepted ({self.already_sent} already sent earlier), "
            f"{self.failed} failed"
        )
        if self.first_errors:
            text += "; first errors: " + "; ".join(self.first_errors)
        return text


def summarize_send(results: Iterable[SendResult], keep_errors: int = 5) -> SendSummary:
    accepted = already = failed = 0
    errors: list[str] = []
    for r in results:
        if r.accepted:
            accepted += 1
            already += r.already_sent
        else:
            failed += 1
            if len(errors) < keep_errors:
                who = r.phone or (f"base {r.base}" if r.base else f"message {r.message_index}")
                errors.append(f"{who}: {r.error}")
    return SendSummary(accepted, already, failed, errors)
