"""The Cascade gateway protocol without I/O: the names a DAG author uses.

Messages (``Message``, ``Recipient``, ``BaseTarget`` and the channels ``Viber``, ``WhatsApp``,
``VK``, ``SMS``), what the gateway answers (``SendResult``, ``MessageState``,
``MessageStatus`` and their summaries), the errors, the protocol ``Variant`` and the
credentials. Request building and answer parsing live in ``gateway.codec``. No Airflow here.
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
    CascadeServerError,
    CascadeTransportError,
    CascadeValidationError,
)
from ._message import BaseTarget, Message, Recipient
from ._results import MessageState, MessageStatus, SendResult
from ._summary import SendSummary, StateSummary, summarize, summarize_send
from ._wire import Auth, BearerToken, LoginPassword, Variant

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
    "CascadeServerError",
    "CascadeTransportError",
    "CascadeValidationError",
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
    "summarize",
    "summarize_send",
]
