"""Any valid message survives encoding, read back by an independent decoder in this file."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from airflow_provider_cascade.gateway import (
    SMS,
    VK,
    BearerToken,
    CodecSettings,
    Message,
    Variant,
    Viber,
    WhatsApp,
    make_codec,
)

SPECIAL = st.sampled_from(["\n", "<", "&", '"', "'", "😀", "ж", "Ω", " ", "\t", "#"])
CHARS = st.characters(blacklist_categories=("Cs", "Cc", "Cn")) | SPECIAL
TEXT = st.text(CHARS, min_size=1, max_size=40).filter(lambda s: s.strip() and "\\n" not in s)
PHONES = st.lists(st.from_regex(r"7[0-9]{10}", fullmatch=True), min_size=1, max_size=5, unique=True)


@st.composite
def messages(draw: st.DrawFn) -> Message:
    pool = [
        Viber(draw(TEXT), draw(TEXT)),
        WhatsApp(draw(TEXT)),
        VK(draw(st.integers(1, 10**6)), {"Name": draw(TEXT), "Where": draw(TEXT)}),
        SMS(draw(TEXT), draw(TEXT)),
    ]
    channels = draw(st.permutations(pool))[: draw(st.integers(1, 4))]
    return Message(channels, draw(PHONES))


def expected(message: Message) -> dict[str, Any]:
    """Plain fields straight from the model, without any codec."""
    out: dict[str, Any] = {}
    for number, content in enumerate(message.channels, start=1):
        out[content.channel.send_field] = str(number)
        for key, value in content.to_fields().items():
            out[key] = value if isinstance(value, dict) else str(value)
    out["phones"] = [r.phone for r in message.recipients]
    return out


def decode_json(body: bytes) -> dict[str, Any]:
    (item,) = json.loads(body)["message"]
    item["phones"] = [p["phone"] for p in item["phones"]]
    return item  # type: ignore[no-any-return]


def decode_xml(body: bytes) -> dict[str, Any]:
    assert b"\n" not in body and b"\r" not in body
    root = etree.fromstring(body)
    (message,) = root.findall("message")
    out: dict[str, Any] = {"phones": []}
    for element in message:
        if element.tag == "abonent":
            out["phones"].append(element.get("phone"))
        elif element.tag == "templateData":
            out["templateData"] = {e.tag: e.text.replace("\\n", "\n") for e in element}
        else:
            out[element.tag] = (element.text or "").replace("\\n", "\n")
    return out


def decode_get(url: str) -> dict[str, Any]:
    query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    query["phones"] = query.pop("phone").split(",")
    if "templateData" in query:
        query["templateData"] = json.loads(query["templateData"])
    return query


SETTINGS = CodecSettings("http://127.0.0.1:1", BearerToken("t"))


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(messages())
def test_json_round_trip(message: Message) -> None:
    (batch,) = make_codec(Variant.JSON, SETTINGS).send_batches([message])
    assert decode_json(batch.request.body or b"") == expected(message)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(messages())
def test_xml_round_trip(message: Message) -> None:
    (batch,) = make_codec(Variant.XML, SETTINGS).send_batches([message])
    assert decode_xml(batch.request.body or b"") == expected(message)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(messages())
def test_get_round_trip(message: Message) -> None:
    batches = make_codec(Variant.GET, SETTINGS).send_batches([message])
    decoded = [decode_get(b.request.url) for b in batches]
    phones = [p for d in decoded for p in d.pop("phones")]
    assert all(d == decoded[0] for d in decoded)
    assert {**decoded[0], "phones": phones} == expected(message)
    assert all(len(b.request.url) < 2000 for b in batches)
