"""The field mapping, in one place: which gateway field holds which model value, how each
value is written on the wire, and which variant carries which field. ``Message.from_gateway``
and ``_message_fields`` (what the three encoders write) read it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import _checks as check
from ._channels import CLASSES, Channel, ChannelContent
from ._errors import CascadeValidationError
from ._wire import Variant

#: Gateway field -> channel attribute, per channel, in the document's order.
CHANNEL_FIELDS: dict[Channel, dict[str, str]] = {
    Channel.VIBER: {
        "sender_viber": "sender",
        "text_viber": "text",
        "button_text": "button_text",
        "button_url": "button_url",
        "image_url": "image_url",
        "validity_period_viber": "validity_period",
        "finale_viber_read": "finale_read",
    },
    Channel.WHATSAPP: {
        "sender_whatsapp": "sender",
        "text_whatsapp": "text",
        "button_text_whatsapp": "button_text",
        "button_url_whatsapp": "button_url",
        "image_url_whatsapp": "image_url",
        "validity_period_whatsapp": "validity_period",
    },
    Channel.VK: {"templateId": "template_id", "templateData": "template_data"},
    Channel.SMS: {"sender_sms": "sender", "text_sms": "text"},
}

#: Message-level fields of the gateway's JSON ``message`` element.
MESSAGE_FIELDS = frozenset({"name_delivery", "time_send", "phones", "base", "stop_base"})

GATEWAY_KEYS = (
    MESSAGE_FIELDS
    | {c.send_field for c in Channel}
    | {k for names in CHANNEL_FIELDS.values() for k in names}
)

_JSON_XML = frozenset({Variant.JSON, Variant.XML})
_JSON = frozenset({Variant.JSON})

#: Fields not every variant carries (PROTOCOL.md's table); every other field travels in all.
RESTRICTED: dict[str, frozenset[Variant]] = {
    "client_id_message": _JSON_XML,
    "validity_period_whatsapp": _JSON_XML,
    "name_delivery": _JSON_XML,
    "time_send": _JSON_XML,
    "base": _JSON,
    "stop_base": _JSON,
}


def _wire_value(value: Any) -> str | dict[str, str] | None:
    """A model value as the gateway writes it: text, a templateData dict, or None (left out)."""
    if value is None or value is False:
        return None
    if value is True:
        return "1"  # finale_viber_read
    if isinstance(value, Mapping):
        return dict(value) or None
    return str(value)


def channel_fields(content: ChannelContent) -> dict[str, str | dict[str, str]]:
    """A channel's gateway fields with their wire values; unset fields left out."""
    out: dict[str, str | dict[str, str]] = {}
    for key, attribute in CHANNEL_FIELDS[content.channel].items():
        value = _wire_value(getattr(content, attribute))
        if value is not None:
            out[key] = value
    return out


def channels_from_gateway(data: Mapping[str, Any]) -> tuple[ChannelContent, ...]:
    """The cascade from gateway fields: ``send_*`` numbers order the channels."""
    unknown = sorted(set(data) - GATEWAY_KEYS)
    if unknown:
        raise CascadeValidationError(unknown[0], "unknown field in the gateway's message shape")
    ranked: list[tuple[int, int, Channel]] = []
    disabled_but_given: list[str] = []
    for pos, channel in enumerate(Channel):
        number = check.order(channel.send_field, data.get(channel.send_field))
        given = [k for k in CHANNEL_FIELDS[channel] if data.get(k) not in (None, "")]
        if number:
            ranked.append((number, pos, channel))
        else:
            disabled_but_given.extend(given)
    if not ranked:
        raise CascadeValidationError(
            "send_*", "at least one of send_viber, send_whatsapp, send_vk, send_sms must be 1..9"
        )
    if disabled_but_given:
        field = disabled_but_given[0]
        owner = next(c for c in Channel if field in CHANNEL_FIELDS[c])
        raise CascadeValidationError(field, f"is given but {owner.send_field} is 0 or absent")
    return tuple(_channel_from_fields(ch, data) for _, _, ch in sorted(ranked))


def _channel_from_fields(channel: Channel, data: Mapping[str, Any]) -> ChannelContent:
    names = CHANNEL_FIELDS[channel]
    kwargs = {names[key]: value for key, value in data.items() if key in names}
    try:
        return CLASSES[channel](**kwargs)  # type: ignore[no-any-return]
    except TypeError as exc:  # a required argument is missing
        missing = next(k for k, v in names.items() if f"'{v}'" in str(exc))
        raise CascadeValidationError(missing, "is required") from None
