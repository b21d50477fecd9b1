"""How the emulated gateway decides a recipient's fate, counts SMS parts and prices."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")


def sms_parts(text: str) -> int:
    """GSM-7: 160 in one part, 153 per part when split; anything else UCS-2: 70 / 67."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text):
        units = sum(2 if c in GSM7_EXTENDED else 1 for c in text)
        single, multi = 160, 153
    else:
        units = sum(2 if ord(c) > 0xFFFF else 1 for c in text)
        single, multi = 70, 67
    if units <= single:
        return 1
    return -(-units // multi)


class Outcome(str, Enum):
    """What happens to one recipient."""

    FIRST = "first"  # delivered on the first channel
    READ = "read"  # delivered and read on the first channel (Viber: state_viber=read)
    UNREAD = "unread"  # Viber delivered, never read: with finale_viber_read=1 the cascade goes on
    FALLTHROUGH = "fallthrough"  # every channel fails except the last, which delivers
    NOT_DELIVER = "not_deliver"  # every channel fails
    EXPIRED = "expired"  # subscriber offline on every channel
    PARTLY = "partly"  # sent, final status never came (partly_deliver)
    LINK = "link"  # delivered on the first channel; Viber: the link was followed
    UNSUBSCRIBE = "unsubscribe"  # delivered on the first channel; Viber: unsubscribed


#: Default rule: the phone's last digit.
LAST_DIGIT = {
    "0": Outcome.FIRST,
    "1": Outcome.FIRST,
    "2": Outcome.FIRST,
    "3": Outcome.FIRST,
    "4": Outcome.READ,
    "5": Outcome.FALLTHROUGH,
    "6": Outcome.NOT_DELIVER,
    "7": Outcome.EXPIRED,
    "8": Outcome.PARTLY,
    "9": Outcome.UNREAD,
}

DUPLICATE_ANSWERS = ("with_id", "without_id")

GATEWAY_REPEAT_WINDOW = 60.0
"""The document: the same request at most once a minute (gateway seconds)."""

MIN_REPEAT_WINDOW = 1.0
"""Real seconds: a scaled window never gets shorter than this, so a client that repeats a
request at once (or after a short retry backoff) is still refused, however fast the clock."""


def scaled_repeat_window(time_scale: float) -> float:
    """The once-a-minute window in real seconds for a clock running ``time_scale`` times
    faster: one gateway minute, but at least :data:`MIN_REPEAT_WINDOW`."""
    return max(GATEWAY_REPEAT_WINDOW / time_scale, MIN_REPEAT_WINDOW)


DEFAULT_PRICES = {
    "viber": Decimal("0.55"),
    "whatsapp": Decimal("0.80"),
    "vk": Decimal("0.40"),
    "sms": Decimal("2.05"),  # per part
}


@dataclass
class Behaviour:
    """Settings of the emulated gateway; change them at any time (tests do)."""

    outcome_rules: list[tuple[re.Pattern[str], Outcome]] = field(default_factory=list)
    prices: dict[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_PRICES))
    #: gateway seconds per real second: 3600 makes a 60-minute validity pass in one second
    time_scale: float = 1.0
    #: gateway minutes a successful delivery takes
    delivery_minutes: float = 1.0
    #: real seconds within which an identical request is refused; 0 turns the rule off
    repeat_window: float = 60.0
    #: how a repeated client_id_message is answered (the document does not say): "with_id"
    #: (the earlier id_message and the error text) or "without_id" (the error text only)
    duplicate_answer: str = "with_id"
    timezone: str = "Europe/Moscow"
    #: real seconds every gateway call takes before it is answered: a gateway across the
    #: internet (a round trip of 50 ms is typical) rather than on this machine
    latency: float = 0.0
    #: fields every accepted send row carries besides the document's (a newer gateway's), e.g.
    #: ``{"route": "7"}``: a provider must read such answers as it reads the usual ones
    extra_send_fields: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.duplicate_answer not in DUPLICATE_ANSWERS:
            raise ValueError(f"duplicate_answer must be one of {DUPLICATE_ANSWERS}")

    @property
    def duplicate_reply(self) -> str:
        """Deprecated spelling of :attr:`duplicate_answer` ("earlier_id" / "error")."""
        return "earlier_id" if self.duplicate_answer == "with_id" else "error"

    @duplicate_reply.setter
    def duplicate_reply(self, value: str) -> None:
        self.duplicate_answer = {"earlier_id": "with_id", "error": "without_id"}[value]

    def outcome(self, phone: str) -> Outcome:
        for pattern, outcome in self.outcome_rules:
            if pattern.search(phone):
                return outcome
        return LAST_DIGIT[phone[-1]]

    def steer(self, pattern: str, outcome: Outcome | str) -> None:
        """Phones matching ``pattern`` (a regex) get ``outcome``; the newest rule wins."""
        self.outcome_rules.insert(0, (re.compile(pattern), Outcome(outcome)))
