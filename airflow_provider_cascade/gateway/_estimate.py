"""What a campaign will cost, known before the first request: units per channel (SMS parts,
one unit for Viber, WhatsApp and VK), counted as the recipients stream past, times prices.

Three figures: the worst case (every channel of the cascade used), the first-channel case
(everyone reached by the first channel), and, with a history of earlier campaigns, the
expected cost from the share of messages that fell through to each place in the cascade.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from ._channels import SMS, Channel, ChannelContent
from ._errors import CascadeBudgetExceeded, CascadeValidationError
from ._message import Message, Recipient
from ._sms import sms_parts

BASES = ("worst_case", "first_channel", "expected")
MAX_LISTED_MESSAGES = 100
"""Counts by message are listed for this many messages; the rest are summed as ``others``."""
CENT = Decimal("0.01")


def parse_prices(field_name: str, value: Any) -> dict[Channel, Decimal]:
    """``{"sms": "2.50", "viber": 1}``: a price per unit (an SMS part, a Viber message) for
    each channel named."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):  # a connection form's text field
        try:
            value = json.loads(value)
        except ValueError:
            raise CascadeValidationError(field_name, "must be a JSON object") from None
    if not isinstance(value, Mapping):
        raise CascadeValidationError(field_name, "must map channel names to prices per unit")
    out: dict[Channel, Decimal] = {}
    for name, raw in value.items():
        try:
            channel = Channel(str(name).lower())
        except ValueError:
            raise CascadeValidationError(
                f"{field_name}.{name}", "unknown channel (viber, whatsapp, vk, sms)"
            ) from None
        try:
            price = Decimal(str(raw)) if not isinstance(raw, (bool, float)) else None
        except InvalidOperation:
            price = None
        if price is None and isinstance(raw, float):
            price = Decimal(repr(raw))
        if price is None or not price.is_finite() or price < 0:
            raise CascadeValidationError(
                f"{field_name}.{channel.value}", f"must be a decimal price >= 0 (got {raw!r})"
            )
        out[channel] = price
    return out


def message_units(message: Message) -> tuple[tuple[Channel, int], ...]:
    """Units one recipient of ``message`` costs on each channel, in cascade order."""
    return channel_units(message.channels, placeholders=bool(message.bases))


def channel_units(
    channels: Iterable[ChannelContent], *, placeholders: bool = False
) -> tuple[tuple[Channel, int], ...]:
    return tuple(
        (c.channel, sms_parts(c.text, placeholders=placeholders).parts if isinstance(c, SMS) else 1)
        for c in channels
    )


@dataclass
class Tally:
    """Recipients counted by message, by send time and by (cascade place, channel) as they
    stream to the plan: counters only, however large the campaign."""

    recipients: int = 0
    messages: int = 0
    by_message: dict[int, int] = field(default_factory=dict)
    by_window: Counter[str] = field(default_factory=Counter)
    units: Counter[tuple[int, Channel]] = field(default_factory=Counter)
    bases: int = 0
    """Bases stored at the gateway: their recipients are not known here."""
    _units: tuple[int, tuple[tuple[Channel, int], ...]] = (-1, ())
    _partial: bool = False
    _first: Message | None = None
    _last_index: int = -1

    def count(
        self, feed: Iterable[tuple[int, Message, Iterable[Recipient]]]
    ) -> Iterator[tuple[int, Message, Iterable[Recipient]]]:
        for index, message, recipients in feed:
            if index != self._last_index:
                self._last_index = index
                self._first = self._first or message
                self.messages += 1
                self.bases += len(message.bases)
            yield index, message, self._recipients(index, message, recipients)

    def _recipients(
        self, index: int, message: Message, recipients: Iterable[Recipient]
    ) -> Iterator[Recipient]:
        if self._units[0] != index:
            self._units = (index, message_units(message))
        units = self._units[1]
        n = 0
        self._partial = True
        for r in recipients:
            n += 1
            yield r
        self._partial = False
        self.add(index, n, units, message.time_send)

    def add(
        self, index: int, n: int, units: tuple[tuple[Channel, int], ...], when: Any = None
    ) -> None:
        """``n`` recipients of message ``index`` at ``when`` (None: at once)."""
        self.recipients += n
        key = index if index < MAX_LISTED_MESSAGES else -1
        self.by_message[key] = self.by_message.get(key, 0) + n
        self.by_window[when if isinstance(when, str) else "now" if when is None else
                       when.isoformat()] += n  # fmt: skip
        for place, (channel, u) in enumerate(units):
            self.units[(place, channel)] += n * u

    def complete(self, counted: int) -> None:
        """A plain file of phones counted without a pass over it: its one message holds
        ``counted`` recipients (the dry run saw the first request's worth only)."""
        if self._partial and self._first is not None and self.messages == 1:
            self.recipients = 0
            self.by_message.clear()
            self.by_window.clear()
            self.units.clear()
            self._partial = False
            self.add(0, counted, message_units(self._first), self._first.time_send)


@dataclass(frozen=True)
class Estimate:
    recipients: int
    messages: int
    by_message: dict[str, int]
    by_window: dict[str, int]
    units: dict[str, int]
    """Units on each channel in the worst case (SMS: parts)."""
    prices: dict[str, dict[str, str]]
    """Per channel: the price per unit and where it came from."""
    unknown: tuple[str, ...]
    """Why a figure is missing: channels without a price, bases of unknown size."""
    worst_case: Decimal | None
    first_channel: Decimal | None
    expected: Decimal | None

    def figure(self, basis: str) -> Decimal | None:
        return {"worst_case": self.worst_case, "first_channel": self.first_channel,
                "expected": self.expected}[basis]  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        def money(v: Decimal | None) -> str | None:
            return None if v is None else str(v)

        return {"recipients": self.recipients, "messages": self.messages,
                "by_message": self.by_message, "by_window": self.by_window,
                "units": self.units, "prices": self.prices, "unknown": list(self.unknown),
                "worst_case": money(self.worst_case), "first_channel": money(self.first_channel),
                "expected": money(self.expected)}  # fmt: skip

    def line(self) -> str:
        """The estimate in one log line."""

        def shown(v: Decimal | None) -> str:
            return "unknown" if v is None else f"{v:,}"

        units = ", ".join(f"{n:,} {c}{' parts' if c == 'sms' else ''}"
                          for c, n in self.units.items())  # fmt: skip
        text = (f"{_counted(self.recipients, self.messages)}; worst case "
                f"{shown(self.worst_case)}, first channel {shown(self.first_channel)}, expected "
                f"{shown(self.expected)}; units {units or 'none'}")  # fmt: skip
        if self.unknown:
            text += f"; unknown: {', '.join(self.unknown)}"
        return text


def estimate(
    tally: Tally,
    prices: Mapping[Channel, tuple[Decimal, str]],
    reach: Sequence[Decimal] | None = None,
) -> Estimate:
    """``prices``: per channel (price per unit, its source); ``reach``: the share of messages
    that got to the 1st, 2nd, ... place of their cascade (from the history), if known."""
    worst = first = expected = Decimal(0)
    unknown: list[str] = []
    units: Counter[str] = Counter()
    for (place, channel), n in sorted(tally.units.items(), key=lambda kv: kv[0][0]):
        units[channel.value] += n
        if channel not in prices:
            if f"price of {channel.value}" not in unknown:
                unknown.append(f"price of {channel.value}")
            continue
        cost = n * prices[channel][0]
        worst += cost
        if place == 0:
            first += cost
        if reach is not None:
            expected += cost * (reach[place] if place < len(reach) else Decimal(0))
    if tally.bases:
        unknown.append(f"recipients of {tally.bases} stored base(s)")
    known = not unknown
    return Estimate(
        recipients=tally.recipients,
        messages=tally.messages,
        by_message={("others" if k < 0 else str(k)): v for k, v in tally.by_message.items()},
        by_window=dict(sorted(tally.by_window.items())),
        units=dict(units),
        prices={c.value: {"price": str(p), "source": s} for c, (p, s) in prices.items()},
        unknown=tuple(unknown),
        worst_case=worst if known else None,
        first_channel=first if known else None,
        expected=expected.quantize(CENT, ROUND_HALF_UP) if known and reach is not None else None,
    )


def check_budget(found: Estimate, max_cost: Decimal | None, basis: str) -> None:
    """Refuse a campaign over its cap, or one whose cost on ``basis`` is not known."""
    if max_cost is None:
        return
    value = found.figure(basis)
    counts = (f"{_counted(found.recipients, found.messages)}, units "
              + ", ".join(f"{c} {n:,}" for c, n in found.units.items()))  # fmt: skip
    if value is None:
        why = "; ".join(found.unknown) or "no history of earlier campaigns for 'expected'"
        raise CascadeValidationError(
            "max_cost", f"the {basis.replace('_', ' ')} cost cannot be known ({why}), so the cap "
            f"{max_cost} cannot be checked: give prices (the prices argument or the connection "
            f"extra prices), or another max_cost_basis; {counts}",
        )  # fmt: skip
    if value > max_cost:
        raise CascadeBudgetExceeded(value, max_cost, basis, counts)


def _counted(recipients: int, messages: int) -> str:
    return (f"{recipients:,} recipient{'' if recipients == 1 else 's'} in {messages:,} "
            f"message{'' if messages == 1 else 's'}")  # fmt: skip


def parse_max_cost(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        cap = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except InvalidOperation:
        cap = None
    if isinstance(value, bool) or cap is None or not cap.is_finite() or cap < 0:
        raise CascadeValidationError("max_cost", f"must be a decimal amount >= 0 (got {value!r})")
    return cap


def check_basis(value: str) -> str:
    if value not in BASES:
        raise CascadeValidationError("max_cost_basis", f"must be one of {', '.join(BASES)}")
    return value
