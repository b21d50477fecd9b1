"""Batch planning: which messages, recipients and ids go into which request."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ._message import Message
from ._wire import HttpRequest


@dataclass(frozen=True, slots=True)
class Part:
    """A message (or a share of its phones) inside one request; ``message_index`` is the
    message's place in the caller's list."""

    message_index: int
    message: Message


@dataclass(frozen=True, slots=True, repr=False)
class SendBatch:
    """One send request and what it carries: its answer is matched against ``parts``."""

    request: HttpRequest
    parts: tuple[Part, ...]

    @property
    def retry_safe(self) -> bool:
        """True when the gateway itself refuses a resend: every recipient has a client id."""
        return all(
            not p.message.bases
            and all(r.client_id_message is not None for r in p.message.recipients)
            for p in self.parts
        )

    def __repr__(self) -> str:
        return f"SendBatch({self.request!r}, parts={len(self.parts)})"


@dataclass(frozen=True, slots=True, repr=False)
class StateBatch:
    """One status request and the ids it asks about, in order."""

    request: HttpRequest
    ids: tuple[str, ...]

    def __repr__(self) -> str:
        return f"StateBatch({self.request!r}, ids={len(self.ids)})"


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
            current.append(Part(index, message.with_recipients(chunk, bases=None if first else ())))
            load += len(chunk) + (bases if first else 0)
            start += len(chunk)
            first = False
            if load >= max_recipients and start < len(phones):
                requests.append(current)
                current, load = [], 0
    if current:
        requests.append(current)
    return requests


def chunks(ids: Sequence[str], size: int) -> Iterator[tuple[str, ...]]:
    """Ids in requests of at most ``size``."""
    for start in range(0, len(ids), size):
        yield tuple(ids[start : start + size])
