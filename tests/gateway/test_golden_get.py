"""The GET variant against the document's examples."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from airflow_provider_cascade.gateway import (
    CascadeAuthError,
    CascadeDuplicateRequestError,
    CascadeGatewayError,
    Message,
    MessageStatus,
)
from airflow_provider_cascade.gateway.codec import CodecSettings, GetCodec, HttpResponse
from tests.golden import raw, request_text


def doc_query(name: str) -> dict[str, str]:
    url = request_text(name).strip()
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def doc_message() -> Message:
    params = doc_query("get_send_url.txt")
    phone = params.pop("phone")
    for key in ("login", "password"):
        params.pop(key)
    fields = {k: v for k, v in params.items() if k != "templateData"}
    import json

    fields["templateData"] = json.loads(params["templateData"])
    return Message.from_gateway({**fields, "phones": [{"phone": phone}]})


def test_send_request_equals_document(login_settings: CodecSettings) -> None:
    (batch,) = GetCodec(login_settings).send_batches([doc_message()])
    parts = urlsplit(batch.request.url)
    assert batch.request.method == "GET" and parts.path == "/sendmessage.php"
    expected = doc_query("get_send_url.txt")
    assert expected.pop("finale_viber_read") == "0"  # 0 is the default; we leave it out
    assert dict(parse_qsl(parts.query)) == expected
    assert "password=***" in batch.request.safe_url and "ПАРОЛЬ" not in repr(batch)


def test_send_responses(login_settings: CodecSettings) -> None:
    codec = GetCodec(login_settings)
    message = doc_message()
    (one,) = codec.send_batches([message])
    body = raw("get_send_response_one.txt").encode()
    (result,) = codec.parse_send(one, HttpResponse(200, body))
    assert (result.phone, result.id_message) == ("79000000001", "1000123")
    two_phones = Message(message.channels, ["79000000001", "79000000002"])
    (two,) = codec.send_batches([two_phones])
    results = codec.parse_send(two, HttpResponse(200, raw("get_send_response_many.txt").encode()))
    assert [(r.phone, r.id_message) for r in results] == [
        ("79000000001", "1000123"),
        ("79000000002", "10001234"),
    ]
    with pytest.raises(CascadeGatewayError, match="Такого отправителя нет"):
        codec.parse_send(two, HttpResponse(200, "Такого отправителя нет.".encode()))
    repeat = "error: Попытка отправки более одного одинакового запроса в течение минуты"
    with pytest.raises(CascadeDuplicateRequestError):
        codec.parse_send(two, HttpResponse(200, repeat.encode()))


def test_state_request_and_response(login_settings: CodecSettings) -> None:
    codec = GetCodec(login_settings)
    (batch,) = codec.state_batches(["1000123"])
    assert dict(parse_qsl(urlsplit(batch.request.url).query)) == doc_query("get_state_url.txt")
    state = codec.parse_state(batch, HttpResponse(200, raw("get_state_response.txt").encode()))
    assert state["1000123"].status is MessageStatus.DELIVER and state["1000123"].is_final
    unknown = codec.parse_state(
        batch, HttpResponse(200, "Сообщение с таким ID не принималось".encode())
    )
    assert unknown["1000123"].status is MessageStatus.ERROR
    with pytest.raises(CascadeAuthError):
        codec.parse_state(batch, HttpResponse(200, "Неправильный логин или пароль".encode()))


def test_ids_one_per_request(login_settings: CodecSettings) -> None:
    batches = GetCodec(login_settings).state_batches(["1", "2", "2", "3"])
    assert [b.ids for b in batches] == [("1",), ("2",), ("3",)]


def test_phones_split_under_url_limit(login_settings: CodecSettings) -> None:
    phones = [f"7900{i:07d}" for i in range(600)]
    message = Message(doc_message().channels, phones)
    batches = GetCodec(login_settings).send_batches([message])
    assert len(batches) > 1
    assert all(len(b.request.url) < 2000 for b in batches)
    sent = [
        p
        for b in batches
        for p in dict(parse_qsl(urlsplit(b.request.url).query))["phone"].split(",")
    ]
    assert sent == phones
