"""The XML variant against the document's examples."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from airflow_provider_cascade.gateway import CascadeAuthError, Message, MessageStatus, Recipient
from airflow_provider_cascade.gateway.codec import CodecSettings, HttpResponse, XmlCodec
from tests.golden import (
    SEND_RESPONSE_VALUES,
    STATE_RESPONSE_VALUES,
    fill_text,
    raw,
    request_text,
)


def canonical(body: bytes) -> dict[str, Any]:
    """An order-insensitive view of a request document, read independently of the codec."""
    root = etree.fromstring(body, etree.XMLParser(remove_blank_text=True))
    out: dict[str, Any] = {"messages": []}
    for child in root:
        if child.tag == "security":
            out["security"] = {e.tag: e.get("value") for e in child}
        elif child.tag == "state":
            out["ids"] = [e.text for e in child]
        else:
            fields: dict[str, Any] = {}
            abonents = []
            for e in child:
                if e.tag == "abonent":
                    abonents.append(dict(e.attrib))
                elif e.tag == "templateData":
                    fields[e.tag] = {d.tag: d.text for d in e}
                else:
                    fields[e.tag] = e.text
            out["messages"].append((fields, abonents))
    return out


def test_send_request_equals_document(login_settings: CodecSettings) -> None:
    document = request_text("xml_send_request.xml").encode()
    messages = json.loads(request_text("json_send_request.json"))["message"][:2]
    for message in messages:
        message.pop("base", None)
        message.pop("stop_base", None)
    (batch,) = XmlCodec(login_settings).send_batches([Message.from_gateway(m) for m in messages])
    body = batch.request.body or b""
    assert batch.request.url == "https://имя_хоста/xml/message.php"
    assert batch.request.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert b"\n" not in body and body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    expected = canonical(document)
    expected["messages"] = expected["messages"][:2]  # the third has no send_* flag
    assert canonical(body) == expected


def test_bases_are_refused_in_xml(login_settings: CodecSettings) -> None:
    from airflow_provider_cascade.gateway import CascadeValidationError

    message = json.loads(request_text("json_send_request.json"))["message"][0]
    with pytest.raises(CascadeValidationError) as err:
        XmlCodec(login_settings).send_batches([message])
    assert err.value.field == "base" and "JSON" in err.value.rule


def test_send_response_document_example(login_settings: CodecSettings) -> None:
    template = Message.from_gateway(
        json.loads(request_text("json_send_request.json"))["message"][1]
    )
    messages = [  # the recipients the document's answer speaks about
        Message(template.channels, [Recipient("79801234567", 111), Recipient("79800000001", 112)]),
        Message(template.channels, [Recipient("79800000004", 113)]),
        Message(template.channels, ["79800000002"]),
    ]
    codec = XmlCodec(login_settings)
    (batch,) = codec.send_batches(messages)
    body = fill_text(raw("xml_send_response.xml"), SEND_RESPONSE_VALUES).encode()
    results = codec.parse_send(batch, HttpResponse(200, body))
    assert [(r.message_index, r.phone, r.accepted) for r in results] == [
        (0, "79801234567", True),
        (0, "79800000001", False),
        (1, "79800000004", True),
        (2, "79800000002", False),  # the whole message refused
    ]
    assert [r.client_id_message for r in results] == ["111", "112", "113", None]
    assert results[0].id_message == "1000123" and results[0].error is None
    assert results[1].error == "Номер телефона присутствует в стоп-листе."
    assert results[3].error == "Такого отправителя нет."


def test_error_document(login_settings: CodecSettings) -> None:
    codec = XmlCodec(login_settings)
    (batch,) = codec.state_batches(["1"])
    body = fill_text(raw("xml_error.xml"), SEND_RESPONSE_VALUES).encode()
    with pytest.raises(CascadeAuthError):
        codec.parse_state(batch, HttpResponse(200, body))


def test_state_request_equals_document(login_settings: CodecSettings) -> None:
    (batch,) = XmlCodec(login_settings).state_batches(["111", "112", "113"])
    assert batch.request.url.endswith("/xml/state_message.php")
    assert canonical(batch.request.body or b"") == canonical(
        request_text("xml_state_request.xml").encode()
    )


def test_state_response_document_example(login_settings: CodecSettings) -> None:
    codec = XmlCodec(login_settings)
    (batch,) = codec.state_batches(["111", "112", "113"])
    body = fill_text(raw("xml_state_response.xml"), STATE_RESPONSE_VALUES).encode()
    states = codec.parse_state(batch, HttpResponse(200, body))
    assert states["111"].status is MessageStatus.DELIVER
    assert states["112"].status is MessageStatus.NOT_DELIVER
    assert states["112"].num_parts_sms == 2
    assert sum(states["112"].prices.values()) == Decimal("4.65")
    unknown = states["113"]
    assert unknown.status is MessageStatus.ERROR and unknown.is_final
    assert unknown.error == "Сообщение с таким ID не принималось"
