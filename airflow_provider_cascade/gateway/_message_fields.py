"""What one message writes on the wire (its header fields) and which variants can carry it,
from the field mapping in ``_fields``."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from ._channels import WhatsApp
from ._errors import CascadeValidationError
from ._fields import RESTRICTED, channel_fields
from ._message import Message
from ._timefmt import format_time_send
from ._wire import Variant


def message_fields(message: Message, tz: ZoneInfo) -> dict[str, str | dict[str, str]]:
    """Header fields of one message (no phones or bases): ``send_*`` from the cascade order,
    then the message's own fields, then each channel's."""
    out: dict[str, str | dict[str, str]] = {}
    for number, content in enumerate(message.channels, start=1):
        out[content.channel.send_field] = str(number)
    if message.name_delivery is not None:
        out["name_delivery"] = message.name_delivery
    time_send = format_time_send(message.time_send, tz)
    if time_send is not None:
        out["time_send"] = time_send
    for content in message.channels:
        out.update(channel_fields(content))
    return out


def fields_used(message: Message) -> list[str]:
    """The restricted fields a message uses."""
    used: list[str] = []
    if any(r.client_id_message is not None for r in message.recipients):
        used.append("client_id_message")
    if any(isinstance(c, WhatsApp) and c.validity_period is not None for c in message.channels):
        used.append("validity_period_whatsapp")
    if message.name_delivery is not None:
        used.append("name_delivery")
    if message.time_send is not None or any(b.time_send is not None for b in message.bases):
        used.append("time_send")
    if message.bases:
        used.append("base")
    if message.stop_bases:
        used.append("stop_base")
    return used


def check_capabilities(message: Message, variant: Variant) -> None:
    """Refuse a message that needs a field ``variant`` cannot carry, naming who can."""
    for name in fields_used(message):
        carriers = RESTRICTED[name]
        if variant not in carriers:
            names = " or ".join(sorted(v.value.upper() for v in carriers))
            raise CascadeValidationError(
                name,
                f"the {variant.value.upper()} variant cannot carry it; use the {names} variant",
            )
