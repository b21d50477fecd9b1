"""Choosing a codec by variant."""

from __future__ import annotations

from ._codec_base import Codec
from ._get_codec import GetCodec
from ._json_codec import JsonCodec
from ._wire import CodecSettings, Variant
from ._xml_codec import XmlCodec

_CODECS: dict[Variant, type[GetCodec | JsonCodec | XmlCodec]] = {
    Variant.GET: GetCodec,
    Variant.JSON: JsonCodec,
    Variant.XML: XmlCodec,
}


def make_codec(variant: Variant | str, settings: CodecSettings) -> Codec:
    return _CODECS[Variant.parse(variant)](settings)
