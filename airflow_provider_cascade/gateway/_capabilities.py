"""Which variant carries which field (PROTOCOL.md's table)."""

from __future__ import annotations

from ._errors import CascadeValidationError
from ._message import Message
from ._wire import Variant

_JSON_XML = frozenset({Variant.JSON, Variant.XML})
_JSON = frozenset({Variant.JSON})

#: Fields not every variant carries; every other field travels in all three.
RESTRICTED: dict[str, frozenset[Variant]] = {
    "client_id_message": _JSON_XML,
    "validity_period_whatsapp": _JSON_XML,
    "name_delivery": _JSON_XML,
    "time_send": _JSON_XML,
    "base": _JSON,
    "stop_base": _JSON,
}


def fields_used(message: Message) -> list[str]:
    used: list[str] = []
    if any(r.client_id_message is not None for r in message.recipients):
        used.append("client_id_message")
    for content in message.channels:
        if content.to_fields().get("validity_period_whatsapp") is not None:
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
    for name in fields_used(message):
        carriers = RESTRICTED[name]
        if variant not in carriers:
            names = " or ".join(sorted(v.value.upper() for v in carriers))
            raise CascadeValidationError(
                name,
                f"the {variant.value.upper()} variant cannot carry it; use the {names} variant",
            )
