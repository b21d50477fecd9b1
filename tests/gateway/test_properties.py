"""Any valid message survives encoding, read back by an independent decoder in this file and
compared with an oracle written from the document's field names (not the production
mapping in ``gateway/_fields.py``)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from airflow_provider_cascade.gateway import SMS, VK, BearerToken, Message, Variant, Viber, WhatsApp
from airflow_provider_cascade.gateway.codec import CodecSettings, make_codec

SPECIAL = st.sampled_from(["\n", "<", "&", '"', "'", "😀", "ж", "Ω", " ", "\t", "#", "%", "+"])
CHARS = st.characters(blacklist_categories=("Cs", "Cc", "Cn")) | SPECIAL
TEXT = st.text(CHARS, min_size=1, max_size=40).filter(lambda s: s.strip() and "\\n" not in s)
BUTTON = st.text(CHARS, min_size=1, max_size=19).filter(lambda s: s.strip() and "\\n" not in s)
URL = st.from_regex(r"https://[a-z]{1,10}\.example/[a-z0-9]{0,10}", fullmatch=True)
PHONES = st.lists(st.from_regex(r"7[0-9]{10}", fullmatch=True), min_size=1, max_size=5, unique=True)
MINUTES = st.none() | st.integers(1, 10_000)


@st.composite
def viber(draw: st.DrawFn) -> Viber:
    button = draw(st.none() | st.tuples(BUTTON, URL))
    image = draw(st.none() | URL) if button else None
    text, url = button or (None, None)
    return Viber(draw(TEXT), draw(TEXT), text, url, image, draw(MINUTES), draw(st.booleans()))


@st.composite
def whatsapp(draw: st.DrawFn) -> WhatsApp:
    button = draw(st.none() | st.tuples(BUTTON, URL))
    text, url = button or (None, None)
    return WhatsApp(draw(TEXT), draw(st.none() | TEXT), text, url, draw(st.none() | URL))


@st.composite
def messages(draw: st.DrawFn) -> Message:
    """Messages every variant carries (no fields restricted to JSON/XML)."""
    pool = [
        draw(viber()),
        draw(whatsapp()),
        VK(draw(st.integers(1, 10**6)), draw(st.dictionaries(st.sampled_from(["Name", "Where", "a_1"]), TEXT))),
        SMS(draw(TEXT), draw(TEXT)),
    ]  # fmt: skip
    channels = draw(st.permutations(pool))[: draw(st.integers(1, 4))]
    return Message(channels, draw(PHONES))


def expected(message: Message) -> dict[str, Any]:
    """The gateway's fields for a message, written out from the document's field list."""
    out: dict[str, Any] = {}
    for number, c in enumerate(message.channels, start=1):
        if isinstance(c, Viber):
            fields = {
                "send_viber": number, "sender_viber": c.sender, "text_viber": c.text,
                "button_text": c.button_text, "button_url": c.button_url,
                "image_url": c.image_url, "validity_period_viber": c.validity_period,
                "finale_viber_read": 1 if c.finale_read else None,
            }  # fmt: skip
        elif isinstance(c, WhatsApp):
            fields = {
                "send_whatsapp": number, "sender_whatsapp": c.sender, "text_whatsapp": c.text,
                "button_text_whatsapp": c.button_text, "button_url_whatsapp": c.button_url,
                "image_url_whatsapp": c.image_url,
            }  # fmt: skip
        elif isinstance(c, VK):
            data = dict(c.template_data)
            fields = {"send_vk": number, "templateId": c.template_id, "templateData": data or None}
        else:
            fields = {"send_sms": number, "sender_sms": c.sender, "text_sms": c.text}
        for key, value in fields.items():
            if value is not None:
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
CHECKS = settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])


@CHECKS
@given(messages())
def test_json_round_trip(message: Message) -> None:
    (batch,) = make_codec(Variant.JSON, SETTINGS).send_batches([message])
    assert decode_json(batch.request.body or b"") == expected(message)


@CHECKS
@given(messages())
def test_xml_round_trip(message: Message) -> None:
    (batch,) = make_codec(Variant.XML, SETTINGS).send_batches([message])
    assert decode_xml(batch.request.body or b"") == expected(message)


@CHECKS
@given(messages())
def test_get_round_trip(message: Message) -> None:
    batches = make_codec(Variant.GET, SETTINGS).send_batches([message])
    decoded = [decode_get(b.request.url) for b in batches]
    phones = [p for d in decoded for p in d.pop("phones")]
    assert all(d == decoded[0] for d in decoded)
    assert {**decoded[0], "phones": phones} == expected(message)
    assert all(len(b.request.url) < 2000 for b in batches)
