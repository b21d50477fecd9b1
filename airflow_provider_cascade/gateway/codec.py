"""Codec plumbing, public but advanced: what clients, hooks and tests use to turn messages
into HTTP requests and answers into results, without I/O. DAG authors need only the names
in ``airflow_provider_cascade.gateway``."""

from __future__ import annotations

from ._batches import Part, SendBatch, StateBatch
from ._checks import MAX_CLIENT_ID, comma_list
from ._codec_base import Codec, CodecBase, unique_ids
from ._decode import check_status, plain_ids
from ._fields import RESTRICTED, check_capabilities
from ._get_codec import GetCodec
from ._json_codec import JsonCodec
from ._message import as_message
from ._secrets import REDACTED
from ._timefmt import format_time_send
from ._wire import CodecSettings, HttpRequest, HttpResponse, Variant, redact_url
from ._xml_codec import XmlCodec

__all__ = [
    "CODECS",
    "MAX_CLIENT_ID",
    "REDACTED",
    "RESTRICTED",
    "Codec",
    "CodecBase",
    "CodecSettings",
    "GetCodec",
    "HttpRequest",
    "HttpResponse",
    "JsonCodec",
    "Part",
    "SendBatch",
    "StateBatch",
    "XmlCodec",
    "as_message",
    "check_capabilities",
    "check_status",
    "comma_list",
    "format_time_send",
    "make_codec",
    "plain_ids",
    "redact_url",
    "unique_ids",
]

CODECS: dict[Variant, type[GetCodec | JsonCodec | XmlCodec]] = {
    Variant.GET: GetCodec,
    Variant.JSON: JsonCodec,
    Variant.XML: XmlCodec,
}


def make_codec(variant: Variant | str, settings: CodecSettings) -> Codec:
    """The codec for ``variant`` (``"json"``, ``"xml"``, ``"get"`` or a ``Variant``)."""
    return CODECS[Variant.parse(variant)](settings)
