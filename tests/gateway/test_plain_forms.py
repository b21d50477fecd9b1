"""The plain forms the rest of the provider keeps: results and states as dicts (XCom, trigger
events, reports) and back, the summaries sensors and reports show, and messages and channels
built from mappings (files, templated arguments)."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from airflow_provider_cascade.gateway import (
    SMS,
    CascadeGatewayError,
    CascadeValidationError,
    Channel,
    LoginPassword,
    Message,
    MessageState,
    MessageStatus,
    SendResult,
    Viber,
    as_message,
    summarize,
)
from airflow_provider_cascade.gateway.codec import CodecSettings, GetCodec, HttpResponse


def test_a_send_result_as_a_dict_names_every_field() -> None:
    result = SendResult(2, "79000000001", "1000", "11", None, None, {Channel.SMS: "7"}, 1,
                        note="Недостаточно средств")  # fmt: skip
    assert result.to_dict() == {
        "message_index": 2, "phone": "79000000001", "base": None, "id_message": "1000",
        "client_id_message": "11", "error": None, "already_sent": False,
        "answer_missing": False, "note": "Недостаточно средств", "parts": 1,
        "channel_ids": {"sms": "7"},
    }  # fmt: skip


def test_a_state_survives_its_dict_form_and_json() -> None:
    state = MessageState(
        "1000", "deliver", MessageStatus.DELIVER,
        {Channel.VIBER: "not_deliver", Channel.SMS: "deliver"},
        {Channel.SMS: Decimal("1.25")}, 2, datetime(2026, 5, 1, 9, 7, 3),
    )  # fmt: skip
    data = state.to_dict()
    assert data["time_change_state"] == "2026-05-01 09:07:03"
    assert data["prices"] == {"sms": "1.25"} and data["is_final"] is True
    assert MessageState.from_dict(json.loads(json.dumps(data))) == state


def test_an_error_state_from_its_dict_is_an_error() -> None:
    back = MessageState.from_dict({"id_message": 5, "state": "Сообщение с таким ID не принималось"})
    assert (back.id_message, back.status, back.channel_states) == ("5", MessageStatus.ERROR, {})
    assert back.time_change_state is None and back.prices == {}


def test_the_summary_lists_what_each_id_was_charged_and_the_totals() -> None:
    states = {
        "1": MessageState("1", "deliver", MessageStatus.DELIVER,
                          prices={Channel.SMS: Decimal("1.10"), Channel.VIBER: Decimal("0")}),
        "2": MessageState("2", "send", MessageStatus.SEND, prices={Channel.SMS: Decimal("2.05")}),
        "3": MessageState("3", "expired", MessageStatus.EXPIRED),
    }  # fmt: skip
    summary = summarize(states)
    assert summary.prices == {"1": {"sms": "1.10"}, "2": {"sms": "2.05"}}
    assert summary.by_channel == {"sms": "3.15"} and summary.grand_total == "3.15"
    assert (summary.total, summary.final) == (3, 2)
    assert summary.by_state == {"deliver": 1, "expired": 1}


# -- messages and channels from mappings ------------------------------------------------------
def test_a_message_in_the_gateways_json_shape_is_read() -> None:
    message = as_message({"send_sms": "1", "send_viber": "0", "sender_sms": "Shop",
                          "text_sms": "Hi", "phones": [{"phone": "79000000001"}]})  # fmt: skip
    assert message.channels == (SMS("Hi", "Shop"),)
    assert [r.phone for r in message.recipients] == ["79000000001"]


@pytest.mark.parametrize(("viber", "sms", "first"), [(9, 1, "sms"), ("1", "9", "viber"),
                                                     (0, 9, "sms")])  # fmt: skip
def test_send_numbers_from_0_to_9_order_the_cascade(viber: object, sms: object, first: str) -> None:
    message = as_message({"send_viber": viber, "sender_viber": "Shop", "text_viber": "Hi",
                          "send_sms": sms, "sender_sms": "Shop", "text_sms": "Hi",
                          "phones": ["79000000001"]} if viber else
                         {"send_sms": sms, "sender_sms": "Shop", "text_sms": "Hi",
                          "send_viber": viber, "phones": ["79000000001"]})  # fmt: skip
    assert message.channels[0].channel.value == first


@pytest.mark.parametrize("number", [10, -1, "x", True])
def test_a_send_number_outside_0_to_9_is_refused(number: object) -> None:
    with pytest.raises(CascadeValidationError) as err:
        as_message({"send_sms": number, "sender_sms": "S", "text_sms": "Hi",
                    "phones": ["79000000001"]})  # fmt: skip
    assert err.value.field == "send_sms" and "0 to 9" in str(err.value)


def test_a_message_that_is_no_mapping_names_the_message() -> None:
    with pytest.raises(CascadeValidationError) as err:
        Message.from_gateway(["79000000001"])  # type: ignore[arg-type]
    assert err.value.field == "message" and "mapping" in str(err.value)


def test_an_unknown_key_in_the_gateways_shape_is_named() -> None:
    with pytest.raises(CascadeValidationError) as err:
        as_message({"send_sms": "1", "sender_sms": "S", "text_sms": "Hi", "phones": ["79000000001"],
                    "colour": "red"})  # fmt: skip
    assert err.value.field == "colour"
    assert err.value.rule == "unknown field in the gateway's message shape"


def test_channels_given_as_mappings_are_the_channels() -> None:
    message = Message(
        [{"channel": "viber", "text": "Hi", "sender": "Shop"}, {"channel": "SMS", "text": "Hi",
                                                                 "sender": "Shop"}],
        ["79000000001"],
    )  # fmt: skip
    assert message.channels == (Viber("Hi", "Shop"), SMS("Hi", "Shop"))


@pytest.mark.parametrize(
    ("item", "field", "rule"),
    [
        ({"channel": "telegram", "text": "Hi"}, "channel", "one of viber"),
        ({"channel": "sms", "text": "Hi", "sender": "S", "colour": "red"}, "sms.colour",
         "unknown field"),
        ({"channel": "sms", "text": "Hi"}, "sms.sender", "is required"),
        ({"channel": "vk"}, "vk.template_id", "is required"),
    ],
)  # fmt: skip
def test_a_bad_channel_mapping_names_its_field_and_rule(
    item: dict[str, str], field: str, rule: str
) -> None:
    with pytest.raises(CascadeValidationError) as err:
        Message([item], ["79000000001"])
    assert err.value.field == field and rule in str(err.value)


# -- a secret echoed by the gateway, in JSON escapes of a character outside the BMP ---------
@pytest.mark.parametrize("escaped", ["\\ud83d\\ude00", "\\uD83D\\uDE00"])
def test_a_password_echoed_as_json_surrogate_escapes_is_scrubbed(escaped: str) -> None:
    """A character outside the BMP is two UTF-16 escapes in JSON: both must be found. The
    password is one this process has not met (the codec compiles each password's pattern
    once per process)."""
    password = f"pw\U0001f600x{os.getpid()}"
    codec = GetCodec(CodecSettings("https://gw", LoginPassword("l", password)))
    (batch,) = codec.send_batches([Message([SMS("Hi", "S")], ["79000000001"])])
    echo = f'bad login: {{"password": "pw{escaped}x{os.getpid()}"}}'
    with pytest.raises(CascadeGatewayError) as err:
        codec.parse_send(batch, HttpResponse(200, echo.encode()))
    assert err.value.text == 'bad login: {"password": "***"}'


@pytest.mark.parametrize(
    ("channel", "field"),
    [
        ({"channel": "whatsapp", "text": ""}, "text_whatsapp"),
        ({"channel": "viber", "text": "", "sender": "S"}, "text_viber"),
        ({"channel": "sms", "text": "", "sender": "S"}, "text_sms"),
    ],
)
def test_an_empty_channel_text_is_refused_as_required(channel: dict[str, str], field: str) -> None:
    with pytest.raises(CascadeValidationError) as err:
        Message([channel], ["79000000001"])
    assert (err.value.field, err.value.rule) == (field, "is required")


@pytest.mark.parametrize(
    ("period", "rule"),
    [
        (timedelta(seconds=90), "must be a whole number of minutes"),
        (timedelta(seconds=30), "must be a whole number of minutes"),
        (timedelta(0), "must be at least 1 minute"),
    ],
)
def test_a_validity_period_is_whole_minutes(period: timedelta, rule: str) -> None:
    with pytest.raises(CascadeValidationError) as err:
        Viber("Hi", "Shop", validity_period=period)
    assert (err.value.field, err.value.rule) == ("validity_period_viber", rule)
    assert Viber("Hi", "Shop", validity_period=timedelta(hours=2)).validity_period == 120
