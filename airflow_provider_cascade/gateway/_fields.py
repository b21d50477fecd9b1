"""A message as the gateway's field names and values, shared by the three encoders,
and the split of many messages into requests within a recipient limit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from ._message import Message
from ._timefmt import format_time_send
from ._wire import Part


def message_fields(message: Message, tz: ZoneInfo) -> dict[str, Any]:
    """Header fields of one message (no phones or bases), values as str or templateData dict."""
    out: dict[str, Any] = {}
    for channel, number in message.orders.items():
        out[channel.send_field] = str(number)
    if message.name_delivery is not None:
        out["name_delivery"] = message.name_delivery
    time_send = format_time_send(message.time_send, tz)
    if time_send is not None:
        out["time_send"] = time_send
    for content in message.channels:
        for key, value in content.to_fields().items():
            out[key] = value if isinstance(value, dict) else str(value)
    return out


def plan_parts(messages: Sequence[Message], max_recipients: int) -> list[list[Part]]:
    """Pack messages into requests of at most ``max_recipients`` phones and bases each;
    a message with more phones is split, its bases travelling with its first share."""
    requests: list[list[Part]] = []
    current: list[Part] = []
    load = 0
    for index, message in enumerate(messages):
        for part, weight in _shares(index, message, max_recipients):
            if current and load + weight > max_recipients:
                requests.append(current)
                current, load = [], 0
            current.append(part)
            load += weight
    if current:
        requests.append(current)
    return requests


def _shares(index: int, message: Message, limit: int) -> list[tuple[Part, int]]:
    phones = message.recipients
    bases = len(message.bases)
    if len(phones) + bases <= limit:
        return [(Part(index, message), len(phones) + bases)]
    first = max(limit - bases, 0)
    shares = [(Part(index, message.split(phones[:first], with_bases=True)), first + bases)]
    for start in range(first, len(phones), limit):
        chunk = phones[start : start + limit]
        shares.append((Part(index, message.split(chunk, with_bases=False)), len(chunk)))
    return shares
