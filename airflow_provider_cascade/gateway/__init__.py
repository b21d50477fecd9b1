"""The Cascade gateway protocol without I/O: messages in, request descriptions out;
response bytes in, typed results out. No Airflow import here."""

from __future__ import annotations

from ._capabilities import RESTRICTED, check_capabilities
from ._channels import SMS, VK, Channel, ChannelContent, Viber, WhatsApp
from ._checks import MAX_CLIENT_ID
from ._codec_base import Codec
from ._codecs import make_codec
from ._decode import check_status
from ._errors import (
    CascadeAuthError,
    CascadeDuplicateRequestError,
    CascadeError,
    CascadeGatewayError,
    CascadeResponseError,
    CascadeServerError,
    CascadeTransportError,
    CascadeValidationError,
)
from ._get_codec import GetCodec
from ._json_codec import JsonCodec
from ._message import BaseTarget, Message, Recipient, as_message
from ._results import FINAL_STATES, MessageState, MessageStatus, SendResult
from ._summary import SendSummary, StateSummary, summarize, summarize_send
from ._timefmt import DEFAULT_TIMEZONE, format_time_send
from ._wire import (
    Auth,
    BearerToken,
    CodecSettings,
    HttpRequest,
    HttpResponse,
    LoginPassword,
    SendBatch,
    StateBatch,
    Variant,
    redact_url,
)
from ._xml_codec import XmlCodec

__all__ = [
    "DEFAULT_TIMEZONE",
    "FINAL_STATES",
    "MAX_CLIENT_ID",
    "RESTRICTED",
    "SMS",
    "VK",
    "Auth",
    "BaseTarget",
    "BearerToken",
    "CascadeAuthError",
    "CascadeDuplicateRequestError",
    "CascadeError",
    "CascadeGatewayError",
    "CascadeResponseError",
    "CascadeServerError",
    "CascadeTransportError",
    "CascadeValidationError",
    "Channel",
    "ChannelContent",
    "Codec",
    "CodecSettings",
    "GetCodec",
    "HttpRequest",
    "HttpResponse",
    "JsonCodec",
    "LoginPassword",
    "Message",
    "MessageState",
    "MessageStatus",
    "Recipient",
    "SendBatch",
    "SendResult",
    "SendSummary",
    "StateBatch",
    "StateSummary",
    "Variant",
    "Viber",
    "WhatsApp",
    "XmlCodec",
    "as_message",
    "check_capabilities",
    "check_status",
    "format_time_send",
    "make_codec",
    "redact_url",
    "summarize",
    "summarize_send",
]
