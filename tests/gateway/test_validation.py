"""Bad input: every rule of the document, each naming the field and the rule."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from airflow_provider_cascade.gateway import CascadeValidationError, LoginPassword, Variant
from airflow_provider_cascade.gateway.codec import CodecSettings, JsonCodec, make_codec

VIBER = {"send_viber": "1", "sender_viber": "Shop", "text_viber": "Hi"}
PHONES = {"phones": [{"phone": "79000000001"}]}


def msg(**fields: Any) -> dict[str, Any]:
    out = {**VIBER, **PHONES, **fields}
    return {k: v for k, v in out.items() if v is not None}


# (variant, message mapping, field named, words in the rule)
CASES: list[tuple[str, Any, str, str]] = [
    ("json", {"phones": [{"phone": "79000000001"}]}, "send_*", "at least one"),
    ("json", msg(send_viber="10"), "send_viber", "0 to 9"),
    ("json", msg(send_viber="-1"), "send_viber", "0 to 9"),
    ("json", msg(send_viber="x"), "send_viber", "0 to 9"),
    ("json", msg(text_viber=None), "text_viber", "required"),
    ("json", msg(text_viber="x" * 1001), "text_viber", "at most 1000"),
    ("json", msg(text_viber="   "), "text_viber", "blank"),
    ("json", msg(text_viber="a\x00b"), "text_viber", "control"),
    ("json", msg(text_viber=5), "text_viber", "string"),
    ("json", msg(sender_viber=None), "sender_viber", "required"),
    ("json", msg(button_text="Go"), "button_url", "together"),
    ("json", msg(button_url="https://x"), "button_text", "together"),
    ("json", msg(button_text="x" * 20, button_url="https://x"), "button_text", "at most 19"),
    ("json", msg(image_url="https://x/i.png"), "image_url", "needs a button"),
    ("json", msg(validity_period_viber="0"), "validity_period_viber", "at least 1"),
    ("json", msg(validity_period_viber="1h"), "validity_period_viber", "whole minutes"),
    ("json", msg(finale_viber_read="2"), "finale_viber_read", "0 or 1"),
    ("json", msg(send_whatsapp="2"), "text_whatsapp", "required"),
    (
        "json",
        msg(send_whatsapp="2", text_whatsapp="x" * 1001),
        "text_whatsapp",
        "at most 1000",
    ),
    (
        "json",
        msg(send_whatsapp="2", text_whatsapp="x", button_text_whatsapp="Go"),
        "button_url_whatsapp",
        "together",
    ),
    ("json", msg(send_vk="2"), "templateId", "required"),
    ("json", msg(send_vk="2", templateId="abc"), "templateId", "numeric"),
    (
        "json",
        msg(send_vk="2", templateId="1", templateData={"a b": "x"}),
        "templateData",
        "parameter names",
    ),
    (
        "json",
        msg(send_vk="2", templateId="1", templateData={"a": {"b": 1}}),
        "templateData.a",
        "nested",
    ),
    ("json", msg(send_vk="2", templateId="1", templateData="x"), "templateData", "mapping"),
    (
        "json",
        msg(send_vk="2", templateId="1", templateData={"a": "x\x07"}),
        "templateData.a",
        "control",
    ),
    (
        "json",
        msg(send_vk="2", templateId="1", templateData={"a": "\ud800"}),
        "templateData.a",
        "Unicode",
    ),
    ("json", msg(name_delivery="x\udfff"), "name_delivery", "Unicode"),
    ("json", msg(text_viber="a\ud83d"), "text_viber", "Unicode"),
    ("json", msg(send_sms="2"), "sender_sms", "required"),
    ("json", msg(text_sms="hi"), "text_sms", "send_sms is 0"),
    ("json", msg(phones=[]), "phones", "at least one"),
    ("json", msg(phones=[{"phone": "+79000000001"}]), "phone", "digits"),
    ("json", msg(phones=[{"phone": "7900"}]), "phone", "7 to 15"),
    ("json", msg(phones=[{"phone": "7" * 16}]), "phone", "7 to 15"),
    ("json", msg(phones=[{"phone": "0790000000"}]), "phone", "international"),
    ("json", msg(phones=[{"tel": "79000000001"}]), "phones.tel", "unknown"),
    ("json", msg(phones="79000000001"), "phones", "list"),
    (
        "json",
        msg(phones=[{"phone": "79000000001", "client_id_message": "abc"}]),
        "client_id_message",
        "whole number",
    ),
    (
        "json",
        msg(phones=[{"phone": "79000000001", "client_id_message": str(2**63)}]),
        "client_id_message",
        "64-bit",
    ),
    (
        "json",
        msg(
            phones=[
                {"phone": "79000000001", "client_id_message": "7"},
                {"phone": "79000000002", "client_id_message": "7"},
            ]
        ),
        "client_id_message",
        "used twice",
    ),
    ("json", msg(time_send="2017-11-23"), "time_send", "YYYY-MM-DD hh:mm"),
    ("json", msg(time_send="2017-02-30 10:00"), "time_send", "real date"),
    ("json", msg(time_send=datetime(2030, 1, 1, 12, 0)), "time_send", "naive"),
    ("json", msg(base=[{"base": "x"}]), "base", "numeric"),
    ("json", msg(base=[{"base": "4", "time_send": "soon"}]), "base.time_send", "YYYY"),
    ("json", msg(stop_base=[{"base": "4", "x": 1}]), "stop_base.x", "unknown"),
    ("json", msg(colour="red"), "colour", "unknown field"),
    ("xml", msg(base=[{"base": "4"}]), "base", "JSON"),
    ("xml", msg(stop_base=[{"base": "4"}]), "stop_base", "JSON"),
    ("get", msg(name_delivery="x"), "name_delivery", "JSON or XML"),
    ("get", msg(time_send="2030-01-01 10:00"), "time_send", "JSON or XML"),
    (
        "get",
        msg(phones=[{"phone": "79000000001", "client_id_message": "1"}]),
        "client_id_message",
        "GET variant cannot carry",
    ),
    (
        "get",
        msg(send_whatsapp="2", text_whatsapp="x", validity_period_whatsapp="5"),
        "validity_period_whatsapp",
        "JSON or XML",
    ),
    (
        "get",
        msg(text_viber="ж" * 1000, text_sms="ж" * 900, send_sms="2", sender_sms="S"),
        "text",
        "2000 characters",
    ),
]


@pytest.mark.parametrize(("variant", "message", "field", "rule"), CASES)
def test_invalid_input_names_field_and_rule(
    variant: str, message: Any, field: str, rule: str
) -> None:
    codec = make_codec(Variant(variant), CodecSettings("https://gw", LoginPassword("l", "p")))
    with pytest.raises(CascadeValidationError) as err:
        codec.send_batches([msg(), message])
    assert err.value.field == field
    assert rule in err.value.rule
    assert err.value.message_index == 1
    assert str(err.value).startswith(f"message[1].{field}: ")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"auth": LoginPassword("", "p")}, "login"),
        ({"max_recipients": 0}, "max_recipients"),
        ({"timezone": "Mars/Base"}, "timezone"),
    ],
)
def test_bad_settings(kwargs: dict[str, Any], field: str) -> None:
    base: dict[str, Any] = {"base_url": "https://gw", "auth": LoginPassword("l", "p")}
    with pytest.raises(CascadeValidationError) as err:
        JsonCodec(CodecSettings(**{**base, **kwargs}))
    assert err.value.field == field


def test_unknown_protocol() -> None:
    with pytest.raises(CascadeValidationError, match="protocol"):
        Variant.parse("soap")


def test_timedelta_validity_and_aware_time_send() -> None:
    import zoneinfo

    codec = JsonCodec(CodecSettings("https://gw", LoginPassword("l", "p")))
    london = datetime(2030, 6, 1, 9, 30, tzinfo=zoneinfo.ZoneInfo("Europe/London"))
    (batch,) = codec.send_batches([msg(validity_period_viber=timedelta(hours=2), time_send=london)])
    import json

    sent = json.loads(batch.request.body or b"")["message"][0]
    assert sent["validity_period_viber"] == "120"
    assert sent["time_send"] == "2030-06-01 11:30"  # Moscow is UTC+3, London UTC+1 in June


def test_iso_time_send_with_offset_is_converted() -> None:
    import json

    codec = JsonCodec(CodecSettings("https://gw", LoginPassword("l", "p")))
    (batch,) = codec.send_batches([msg(time_send="2030-06-01T09:30:00+01:00")])
    assert json.loads(batch.request.body or b"")["message"][0]["time_send"] == "2030-06-01 11:30"
    with pytest.raises(CascadeValidationError, match="ISO 8601 with an offset"):
        codec.send_batches([msg(time_send="2030-06-01T09:30:00")])
