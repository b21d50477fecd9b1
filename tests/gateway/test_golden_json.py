"""The JSON variant against the document's examples."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from airflow_provider_cascade.gateway import (
    CascadeAuthError,
    CascadeDuplicateRequestError,
    CascadeValidationError,
    Channel,
    Message,
    MessageStatus,
)
from airflow_provider_cascade.gateway.codec import (
    CodecSettings,
    HttpResponse,
    JsonCodec,
    Part,
    SendBatch,
)
from tests.golden import (
    SEND_RESPONSE_VALUES,
    STATE_RESPONSE_VALUES,
    fill,
    raw,
    request_text,
)


def doc_messages() -> list[dict[str, Any]]:
    return json.loads(request_text("json_send_request.json"))["message"]  # type: ignore[no-any-return]


def test_third_document_message_is_refused_before_sending() -> None:
    with pytest.raises(CascadeValidationError) as err:
        Message.from_gateway(doc_messages()[2])
    assert err.value.field == "send_*"
    assert "at least one" in err.value.rule


def test_send_request_equals_document(login_settings: CodecSettings) -> None:
    messages = doc_messages()[:2]
    (batch,) = JsonCodec(login_settings).send_batches([Message.from_gateway(m) for m in messages])
    request = batch.request
    assert request.method == "POST"
    assert request.url == "https://имя_хоста/sendmessagejson.php"
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(request.body or b"") == {
        "login": "login",
        "password": "password",
        "message": messages,
    }


def test_php_example_per_base_time_send(login_settings: CodecSettings) -> None:
    message = doc_messages()[0]
    message["base"] = [{"base": "4", "time_send": "2016-11-09 12:40"}, {"base": "5"}]
    (batch,) = JsonCodec(login_settings).send_batches([message])
    sent = json.loads(batch.request.body or b"")["message"][0]
    assert sent["base"] == [{"base": "4", "time_send": "2016-11-09 12:40"}, {"base": "5"}]


def test_token_goes_in_header_not_body(token_settings: CodecSettings) -> None:
    (batch,) = JsonCodec(token_settings).send_batches(doc_messages()[1:2])
    body = json.loads(batch.request.body or b"")
    assert "login" not in body and "password" not in body
    assert batch.request.headers["Authorization"] == "Bearer tok-secret"
    assert "tok-secret" not in repr(batch) and "tok-secret" not in repr(token_settings)


def _three_part_batch(settings: CodecSettings) -> SendBatch:
    (batch,) = JsonCodec(settings).send_batches(doc_messages()[:2])
    third = Message.from_gateway(doc_messages()[1])
    return SendBatch(batch.request, (*batch.parts, Part(2, third)))


def test_send_response_document_example(login_settings: CodecSettings) -> None:
    body = fill(raw("json_send_response.json"), SEND_RESPONSE_VALUES).encode()
    results = JsonCodec(login_settings).parse_send(
        _three_part_batch(login_settings), HttpResponse(200, body)
    )
    assert [(r.message_index, r.phone, r.base) for r in results] == [
        (0, "79801234567", None),
        (0, "79800000001", None),
        (0, "79800000004", "4"),  # base 4 expands to its phones at the gateway
        (0, "79800000005", "4"),
        (0, None, "5"),  # the example has no row for base 5
        (1, "79800000002", None),
        (2, "79800000002", None),  # the whole message refused: one result per recipient
    ]
    assert [r.client_id_message for r in results] == ["111", "112", None, None, None, "113", "113"]
    assert results[4].answer_missing and not results[4].accepted
    assert not any(r.answer_missing for i, r in enumerate(results) if i != 4)
    first = results[0]
    assert first.id_message == "1000123" and first.client_id_message == "111"
    assert first.error is None and first.accepted and first.parts == 1
    assert first.channel_ids == {Channel.VIBER: "501"}
    dup = results[1]
    assert dup.already_sent and dup.accepted and dup.id_message is None
    assert dup.error == "Данное сообщение уже было отправлено."
    assert results[2].base == "4" and not results[2].accepted
    assert results[2].error == "Номер телефона присутствует в стоп-листе."
    assert results[5].id_message == "1000124"
    assert results[5].channel_ids == {Channel.VIBER: "502", Channel.SMS: "701"}
    assert results[6].error == "Такого отправителя нет." and not results[6].accepted


def test_error_document_raises_typed_error(login_settings: CodecSettings) -> None:
    body = fill(raw("json_error.json"), SEND_RESPONSE_VALUES).encode()
    with pytest.raises(CascadeAuthError, match="Неправильный логин или пароль"):
        JsonCodec(login_settings).parse_send(
            _three_part_batch(login_settings), HttpResponse(200, body)
        )
    repeat = json.dumps(
        {"error": "Попытка отправки более одного одинакового запроса в течение минуты"}
    ).encode()
    with pytest.raises(CascadeDuplicateRequestError):
        JsonCodec(login_settings).parse_send(
            _three_part_batch(login_settings), HttpResponse(200, repeat)
        )


def test_state_request_equals_document(login_settings: CodecSettings) -> None:
    (batch,) = JsonCodec(login_settings).state_batches(["111", 112])
    assert json.loads(batch.request.body or b"") == json.loads(
        request_text("json_state_request.json")
    )
    assert batch.ids == ("111", "112")


def test_state_response_document_example(login_settings: CodecSettings) -> None:
    codec = JsonCodec(login_settings)
    (batch,) = codec.state_batches(["111", "112"])
    body = fill(raw("json_state_response.json"), STATE_RESPONSE_VALUES).encode()
    states = codec.parse_state(batch, HttpResponse(200, body))
    first, second = states["111"], states["112"]
    assert first.status is MessageStatus.DELIVER and first.is_final
    assert first.channel_states[Channel.VIBER] == "read"
    assert first.prices[Channel.VIBER] == Decimal("0.55")
    assert first.time_change_state is not None
    assert first.time_change_state.isoformat() == "2017-11-23T13:15:25"
    assert second.status is MessageStatus.NOT_DELIVER
    assert second.prices[Channel.SMS] == Decimal("4.10") and second.num_parts_sms == 2
    assert second.to_dict()["prices"]["sms"] == "4.10"


def test_a_raw_answer_prints_without_its_body_or_headers() -> None:
    """``send_request`` hands the raw answer to its caller, and a gateway may echo what it
    was sent (the password in the body, the token in a header): the answer's repr says its
    status and size only."""
    body = b'{"error": "bad password pass-secret"}'
    answer = HttpResponse(200, body, {"X-Echo": "tok-secret"})
    assert repr(answer) == f"HttpResponse(200, body={len(body)} bytes)"
    assert "secret" not in repr(answer) and "secret" not in str(answer)
