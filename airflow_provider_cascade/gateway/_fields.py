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
    """Pack messages into requests of at most ``max_recipients`` phones and bases each,
    filling every request; a message's phones are split where a request is full and its
    bases travel, unsplit, with its first share."""
    requests: list[list[Part]] = []
    current: list[Part] = []
    load = 0
    for index, message in enumerate(messages):
        phones = message.recipients
        bases = len(message.bases)
        if current and load + bases + (1 if phones else 0) > max_recipients:
            requests.append(current)
            current, load = [], 0
        if len(phones) + bases <= max_recipients - load:
            current.append(Part(index, message))
            load += len(phones) + bases
            continue
        start, first = 0, True
        while first or start < len(phones):
            room = max(max_recipients - load - (bases if first else 0), 0)
            chunk = phones[start : start + room]
            current.append(Part(index, message.split(chunk, with_bases=first)))
            load += len(chunk) + (bases if first else 0)
            start += len(chunk)
            first = False
            if load >= max_recipients and start < len(phones):
                requests.append(current)
                current, load = [], 0
    if current:
        requests.append(current)
    return requests
