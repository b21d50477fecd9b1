"""Turning operator arguments into messages, and stable client ids for retry safety."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..gateway import CascadeValidationError, Message, Recipient, as_message, comma_list
from ..ledger._client_ids import stable_client_id


def build_messages(
    *,
    messages: Any,
    channels: Any,
    phones: Any,
    bases: Any = None,
    stop_bases: Any = None,
    time_send: Any = None,
    name_delivery: str | None = None,
) -> list[Message]:
    if messages is not None:
        if channels is not None or phones is not None:
            raise CascadeValidationError("messages", "give either messages, or channels and phones")
        items = [messages] if isinstance(messages, (Message, Mapping)) else list(messages)
        out = []
        for index, item in enumerate(items):
            try:
                out.append(as_message(item))
            except CascadeValidationError as exc:
                raise exc.at(index) from None
        return out
    if channels is None:
        raise CascadeValidationError("channels", "give channels in cascade order (or messages)")
    if isinstance(channels, Mapping):
        channels = [channels]
    return [
        Message(
            channels=tuple(channels),
            recipients=tuple(comma_list("phones", phones)),
            bases=tuple(bases or ()),
            stop_bases=tuple(stop_bases or ()),
            name_delivery=name_delivery or None,
            time_send=time_send or None,
        )
    ]


def with_client_ids(messages: list[Message], run_key: tuple[object, ...]) -> list[Message]:
    """Give every phone without a client id one derived from the run, task and recipient,
    so that an Airflow retry of the same task instance is refused by the gateway as a duplicate
    while a new run sends anew."""
    out = []
    for index, message in enumerate(messages):
        seen: dict[str, int] = {}
        recipients = []
        for recipient in message.recipients:
            nth = seen[recipient.phone] = seen.get(recipient.phone, -1) + 1
            if recipient.client_id_message is None:
                cid = stable_client_id(*run_key, index, recipient.phone, nth)
                recipient = Recipient(recipient.phone, cid)
            recipients.append(recipient)
        out.append(message.with_recipients(recipients))
    return out
