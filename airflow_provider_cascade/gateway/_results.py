"""What the gateway answers, as typed values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from ._channels import Channel


class MessageStatus(str, Enum):
    """Overall state of a message. ``ERROR`` stands for any error text (e.g. unknown id)."""

    SEND = "send"
    DELIVER = "deliver"
    NOT_DELIVER = "not_deliver"
    EXPIRED = "expired"
    PARTLY_DELIVER = "partly_deliver"
    ERROR = "error"

    def is_terminal(self) -> bool:
        """Only ``send`` is still in flight; ``partly_deliver`` is final (no status will come)."""
        return self is not MessageStatus.SEND

    @classmethod
    def from_text(cls, text: str) -> MessageStatus:
        """The gateway's state word (surrounding blanks ignored); any other text is an error."""
        return _BY_TEXT.get(text.strip(), cls.ERROR)


_BY_TEXT = {s.value: s for s in MessageStatus if s is not MessageStatus.ERROR}


@dataclass(slots=True)
class SendResult:
    """One recipient's (or one base's) outcome of a send.

    ``answer_missing``: the answer had no row for this recipient. The request may have been
    accepted, so the recipient may have been messaged: resend only after the repeat window and
    with the same ``client_id_message``. ``already_sent``: the gateway refused a repeated
    ``client_id_message``; ``id_message`` is the earlier id when the gateway gave it back, else
    None (sent, but untracked). ``note``: a text the gateway gave beside an id (e.g.
    ``Недостаточно средств…``): the message is held under that id, so it is accepted and
    polled, and its final state says what became of it.
    """

    message_index: int
    phone: str | None
    id_message: str | None
    client_id_message: str | None = None
    base: str | None = None
    error: str | None = None
    channel_ids: dict[Channel, str] = field(default_factory=dict)
    parts: int | None = None
    already_sent: bool = False
    answer_missing: bool = False
    note: str | None = None

    @property
    def accepted(self) -> bool:
        """Sent now, or earlier under the same ``client_id_message``."""
        return self.already_sent or (self.id_message is not None and self.error is None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "message_index": self.message_index,
            "phone": self.phone,
            "base": self.base,
            "id_message": self.id_message,
            "client_id_message": self.client_id_message,
            "error": self.error,
            "already_sent": self.already_sent,
            "answer_missing": self.answer_missing,
            "note": self.note,
            "parts": self.parts,
            "channel_ids": {c.value: v for c, v in self.channel_ids.items()},
        }


@dataclass(slots=True)
class MessageState:
    id_message: str
    state: str
    status: MessageStatus
    channel_states: dict[Channel, str] = field(default_factory=dict)
    prices: dict[Channel, Decimal] = field(default_factory=dict)
    num_parts_sms: int | None = None
    time_change_state: datetime | None = None
    error: str | None = None

    @property
    def is_final(self) -> bool:
        return self.status.is_terminal()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (prices as decimal strings) for XCom and trigger events."""
        return {
            "id_message": self.id_message,
            "state": self.state,
            "is_final": self.is_final,
            "channel_states": {c.value: s for c, s in self.channel_states.items()},
            "prices": {c.value: str(p) for c, p in self.prices.items()},
            "num_parts_sms": self.num_parts_sms,
            "time_change_state": (
                self.time_change_state.strftime("%Y-%m-%d %H:%M:%S")
                if self.time_change_state
                else None
            ),
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MessageState:
        tcs = data.get("time_change_state")
        state = str(data["state"])
        return cls(
            id_message=str(data["id_message"]),
            state=state,
            status=MessageStatus.from_text(state),
            channel_states={Channel(k): v for k, v in (data.get("channel_states") or {}).items()},
            prices={Channel(k): Decimal(v) for k, v in (data.get("prices") or {}).items()},
            num_parts_sms=data.get("num_parts_sms"),
            time_change_state=datetime.strptime(tcs, "%Y-%m-%d %H:%M:%S") if tcs else None,
            error=data.get("error"),
        )
