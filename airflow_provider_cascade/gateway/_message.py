"""Messages, recipients and bases: the one model every variant encodes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from . import _checks as check
from ._channels import SMS, VK, Channel, ChannelContent, Viber, WhatsApp, channel_from_mapping
from ._errors import CascadeValidationError
from ._fields import channels_from_gateway
from ._timefmt import check_time_send
from .defaults import MAX_CLIENT_ID

_MAX_CLIENT_ID_TEXT = str(MAX_CLIENT_ID)  # 19 digits: compared as text at that length
_PLAIN_PHONE = re.compile(check.PHONE_PATTERN).fullmatch


@dataclass(frozen=True, slots=True)
class Recipient:
    phone: str
    client_id_message: str | int | None = None

    def __post_init__(self) -> None:
        # The usual values (a str of ASCII digits in range) are checked inline: a campaign
        # file builds millions of recipients. Anything else goes through the full rules,
        # which also normalise (int to str, leading zeros of a client id).
        phone = self.phone
        if not (phone.__class__ is str and phone.isascii() and _PLAIN_PHONE(phone)):
            object.__setattr__(self, "phone", check.phone("phone", phone))
        cid = self.client_id_message
        if cid is not None and not (
            cid.__class__ is str
            and cid.isdigit()
            and cid.isascii()
            and (cid[0] != "0" or len(cid) == 1)
            and (len(cid) < 19 or (len(cid) == 19 and cid <= _MAX_CLIENT_ID_TEXT))
        ):
            object.__setattr__(self, "client_id_message", check.client_id("client_id_message", cid))

    @classmethod
    def parse(cls, value: Any) -> Recipient:
        """A phone (str or int), ``{"phone": ..., "client_id_message": ...}`` or a Recipient."""
        if isinstance(value, Recipient):
            return value
        if isinstance(value, Mapping):
            unknown = sorted(set(value) - {"phone", "client_id_message"})
            if unknown:
                raise CascadeValidationError(f"phones.{unknown[0]}", "unknown field")
            if "phone" not in value:
                raise CascadeValidationError("phone", "is required in every phones item")
            return cls(value["phone"], value.get("client_id_message"))
        return cls(value)


@dataclass(frozen=True, slots=True)
class BaseTarget:
    """A recipient base stored at the gateway, optionally with its own ``time_send``."""

    base: str | int
    time_send: str | datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "base", check.identifier("base", self.base))
        object.__setattr__(self, "time_send", check_time_send("base.time_send", self.time_send))


@dataclass(frozen=True, slots=True)
class Message:
    """One message offered over ``channels`` in the order given (the cascade)."""

    channels: tuple[ChannelContent, ...]
    recipients: tuple[Recipient, ...] = ()
    bases: tuple[BaseTarget, ...] = ()
    stop_bases: tuple[str, ...] = ()
    name_delivery: str | None = None
    time_send: str | datetime | None = None

    def __post_init__(self) -> None:
        channels = tuple(_as_channel(c) for c in _as_iterable("channels", self.channels))
        if not channels:
            raise CascadeValidationError(
                "channels", "at least one channel is required (viber, whatsapp, vk or sms)"
            )
        seen: set[Channel] = set()
        for content in channels:
            if content.channel in seen:
                raise CascadeValidationError(
                    "channels", f"{content.channel.value} is given twice; each channel at most once"
                )
            seen.add(content.channel)
        object.__setattr__(self, "channels", channels)
        recipients = tuple(_as_recipient(r) for r in _as_iterable("phones", self.recipients))
        bases = tuple(_as_base(b) for b in _as_iterable("base", self.bases))
        stop = tuple(
            check.identifier("stop_base.base", _unwrap_base(s))
            for s in _as_iterable("stop_base", self.stop_bases)
        )
        if not recipients and not bases:
            raise CascadeValidationError("phones", "at least one phone or base is required")
        object.__setattr__(self, "recipients", recipients)
        object.__setattr__(self, "bases", bases)
        object.__setattr__(self, "stop_bases", stop)
        check.text("name_delivery", self.name_delivery, required=False)
        object.__setattr__(self, "time_send", check_time_send("time_send", self.time_send))

    def with_recipients(
        self, recipients: Iterable[Recipient], *, bases: Iterable[BaseTarget] | None = None
    ) -> Message:
        """The same content for other recipients; ``bases`` kept unless given (``()``: none)."""
        return replace(
            self, recipients=tuple(recipients), bases=self.bases if bases is None else tuple(bases)
        )

    @classmethod
    def from_gateway(cls, data: Mapping[str, Any]) -> Message:
        """Build from the gateway's JSON ``message`` element, keys exactly as documented."""
        if not isinstance(data, Mapping):
            raise CascadeValidationError("message", "must be a mapping in the gateway's JSON shape")
        return cls(
            channels=channels_from_gateway(data),
            recipients=tuple(_as_iterable("phones", data.get("phones") or ())),
            bases=tuple(_as_iterable("base", data.get("base") or ())),
            stop_bases=tuple(_as_iterable("stop_base", data.get("stop_base") or ())),
            name_delivery=data.get("name_delivery") or None,
            time_send=data.get("time_send") or None,
        )


def as_message(value: Message | Mapping[str, Any]) -> Message:
    return value if isinstance(value, Message) else Message.from_gateway(value)


def _as_iterable(field: str, value: Any) -> Iterable[Any]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise CascadeValidationError(field, f"must be a list, not {type(value).__name__}")
    return value


def _as_channel(value: Any) -> ChannelContent:
    if isinstance(value, Mapping):
        return channel_from_mapping(value)
    if isinstance(value, (Viber, WhatsApp, VK, SMS)):
        return value
    raise CascadeValidationError(
        "channels", f"items must be Viber, WhatsApp, VK, SMS or dicts, not {type(value).__name__}"
    )


def _as_recipient(value: Any) -> Recipient:
    return Recipient.parse(value)


def _as_base(value: Any) -> BaseTarget:
    if isinstance(value, BaseTarget):
        return value
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - {"base", "time_send"})
        if unknown:
            raise CascadeValidationError(f"base.{unknown[0]}", "unknown field")
        if "base" not in value:
            raise CascadeValidationError("base.base", "is required in every base item")
        return BaseTarget(value["base"], value.get("time_send") or None)
    return BaseTarget(value)


def _unwrap_base(value: Any) -> Any:
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - {"base"})
        if unknown:
            raise CascadeValidationError(f"stop_base.{unknown[0]}", "unknown field")
        return value.get("base")
    return value
