"""Codec plumbing, public but advanced: the codecs that turn messages into HTTP requests and
answers into results, without I/O, and the request and response types they trade in. DAG
authors need only the names in ``airflow_provider_cascade.gateway``."""

from __future__ import annotations

from ._batches import Part, SendBatch, StateBatch
from ._codec_base import Codec, CodecBase
from ._get_codec import GetCodec
from ._json_codec import JsonCodec
from ._wire import CodecSettings, HttpRequest, HttpResponse, Variant, redact_url
from ._xml_codec import XmlCodec

__all__ = [
    "CODECS",
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
    "make_codec",
    "redact_url",
]

CODECS: dict[Variant, type[GetCodec | JsonCodec | XmlCodec]] = {
    Variant.GET: GetCodec,
    Variant.JSON: JsonCodec,
    Variant.XML: XmlCodec,
}


def make_codec(variant: Variant | str, settings: CodecSettings) -> Codec:
    """The codec for ``variant`` (``"json"``, ``"xml"``, ``"get"`` or a ``Variant``)."""
    return CODECS[Variant.parse(variant)](settings)
