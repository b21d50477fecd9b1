"""The Cascade gateway protocol without I/O: the names a DAG author uses.

Messages (``Message``, ``Recipient``, ``BaseTarget`` and the channels ``Viber``, ``WhatsApp``,
``VK``, ``SMS``), what the gateway answers (``SendResult``, ``MessageState``,
``MessageStatus`` and their summaries), the errors, the protocol ``Variant`` and the
credentials, ``as_message`` (a message from a mapping) and ``comma_list`` (phones or ids given
as a list or a comma string). Request building and answer parsing live in ``gateway.codec``,
every default and limit in ``gateway.defaults``. No Airflow here.
"""

from __future__ import annotations

from ._channels import SMS, VK, Channel, ChannelContent, Viber, WhatsApp
from ._errors import (
    CascadeAuthError,
    CascadeBudgetExceeded,
    CascadeDuplicateRequestError,
    CascadeError,
    CascadeGatewayError,
    CascadeResponseError,
    CascadeSendRejected,
    CascadeServerError,
    CascadeTransportError,
    CascadeUndelivered,
    CascadeValidationError,
    CascadeWaitTimeout,
)
from ._message import BaseTarget, Message, Recipient, as_message
from ._results import MessageState, MessageStatus, SendResult
from ._summary import SendSummary, StateSummary, summarize, summarize_send
from ._wire import Auth, BearerToken, LoginPassword, Variant
from .arguments import comma_list

__all__ = [
    "SMS",
    "VK",
    "Auth",
    "BaseTarget",
    "BearerToken",
    "CascadeAuthError",
    "CascadeBudgetExceeded",
    "CascadeDuplicateRequestError",
    "CascadeError",
    "CascadeGatewayError",
    "CascadeResponseError",
    "CascadeSendRejected",
    "CascadeServerError",
    "CascadeTransportError",
    "CascadeUndelivered",
    "CascadeValidationError",
    "CascadeWaitTimeout",
    "Channel",
    "ChannelContent",
    "LoginPassword",
    "Message",
    "MessageState",
    "MessageStatus",
    "Recipient",
    "SendResult",
    "SendSummary",
    "StateSummary",
    "Variant",
    "Viber",
    "WhatsApp",
    "as_message",
    "comma_list",
    "summarize",
    "summarize_send",
]
