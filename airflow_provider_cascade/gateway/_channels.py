"""What each channel carries. Values are checked when constructed."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from enum import Enum
from typing import Any, ClassVar, Union

from . import _checks as check
from ._errors import CascadeValidationError

MAX_TEXT = 1000
MAX_BUTTON_TEXT = 19
_TEMPLATE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


class Channel(str, Enum):
    """A delivery channel; the value is the suffix of its ``send_*`` field."""

    VIBER = "viber"
    WHATSAPP = "whatsapp"
    VK = "vk"
    SMS = "sms"

    @property
    def send_field(self) -> str:
        return f"send_{self.value}"


@dataclass(frozen=True, slots=True)
class Viber:
    text: str
    sender: str
    button_text: str | None = None
    button_url: str | None = None
    image_url: str | None = None
    validity_period: int | timedelta | None = None
    finale_read: bool = False
    channel: ClassVar[Channel] = Channel.VIBER

    def __post_init__(self) -> None:
        check.text("text_viber", self.text, required=True, max_len=MAX_TEXT)
        check.text("sender_viber", self.sender, required=True)
        check.text("button_text", self.button_text, required=False, max_len=MAX_BUTTON_TEXT)
        check.text("button_url", self.button_url, required=False)
        check.text("image_url", self.image_url, required=False)
        check.button_pair("button_text", "button_url", self.button_text, self.button_url)
        if self.image_url is not None and self.button_text is None:
            raise CascadeValidationError(
                "image_url", "an image needs a button: set button_text and button_url too"
            )
        object.__setattr__(
            self, "validity_period", check.minutes("validity_period_viber", self.validity_period)
        )
        object.__setattr__(self, "finale_read", check.flag("finale_viber_read", self.finale_read))


@dataclass(frozen=True, slots=True)
class WhatsApp:
    text: str
    sender: str | None = None
    button_text: str | None = None
    button_url: str | None = None
    image_url: str | None = None
    validity_period: int | timedelta | None = None
    channel: ClassVar[Channel] = Channel.WHATSAPP

    def __post_init__(self) -> None:
        check.text("text_whatsapp", self.text, required=True, max_len=MAX_TEXT)
        check.text("sender_whatsapp", self.sender, required=False)
        check.text(
            "button_text_whatsapp", self.button_text, required=False, max_len=MAX_BUTTON_TEXT
        )
        check.text("button_url_whatsapp", self.button_url, required=False)
        check.text("image_url_whatsapp", self.image_url, required=False)
        check.button_pair(
            "button_text_whatsapp", "button_url_whatsapp", self.button_text, self.button_url
        )
        object.__setattr__(
            self,
            "validity_period",
            check.minutes("validity_period_whatsapp", self.validity_period),
        )


@dataclass(frozen=True, slots=True)
class VK:
    """A VK template approved by VK; ``template_data`` fills its parameters."""

    template_id: str | int
    template_data: Mapping[str, str] = field(default_factory=dict)
    channel: ClassVar[Channel] = Channel.VK

    def __post_init__(self) -> None:
        object.__setattr__(self, "template_id", check.identifier("templateId", self.template_id))
        if not isinstance(self.template_data, Mapping):
            raise CascadeValidationError(
                "templateData", "must be a mapping of parameter name to value"
            )
        clean: dict[str, str] = {}
        for key, value in self.template_data.items():
            if not isinstance(key, str) or _TEMPLATE_KEY.fullmatch(key) is None:
                raise CascadeValidationError(
                    "templateData",
                    f"parameter names must start with a letter or '_' and hold only "
                    f"letters, digits, '_', '.', '-' (got {key!r})",
                )
            clean[key] = check.template_value(f"templateData.{key}", value)
        object.__setattr__(self, "template_data", clean)


@dataclass(frozen=True, slots=True)
class SMS:
    text: str
    sender: str
    channel: ClassVar[Channel] = Channel.SMS

    def __post_init__(self) -> None:
        check.text("text_sms", self.text, required=True)
        check.text("sender_sms", self.sender, required=True)


ChannelContent = Union[Viber, WhatsApp, VK, SMS]  # noqa: UP007 (runtime alias, py3.10)

CLASSES: dict[Channel, type[Any]] = {
    Channel.VIBER: Viber,
    Channel.WHATSAPP: WhatsApp,
    Channel.VK: VK,
    Channel.SMS: SMS,
}


def channel_from_mapping(item: Mapping[str, Any]) -> ChannelContent:
    """Build a channel from a small dict: ``{"channel": "viber", "text": ..., "sender": ...}``."""
    data = dict(item)
    name = data.pop("channel", None)
    try:
        channel = Channel(str(name).lower())
    except ValueError:
        raise CascadeValidationError(
            "channel", f"must be one of viber, whatsapp, vk, sms (got {name!r})"
        ) from None
    cls = CLASSES[channel]
    allowed = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise CascadeValidationError(
            f"{channel.value}.{unknown[0]}", f"unknown field; allowed: {', '.join(sorted(allowed))}"
        )
    try:
        return cls(**data)  # type: ignore[no-any-return]
    except TypeError:
        needed = [n for n in ("text", "sender", "template_id") if n in allowed and n not in data]
        raise CascadeValidationError(
            f"{channel.value}.{needed[0] if needed else '?'}", "is required"
        ) from None
