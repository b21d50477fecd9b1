"""Send answers matched to what was sent: exactly one result per recipient, in the batch's
order, carrying the batch's client ids, whatever rows the gateway wrote."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from airflow_provider_cascade.gateway import (
    SMS,
    CascadeGatewayError,
    CascadeResponseError,
    CascadeValidationError,
    LoginPassword,
    Message,
    Recipient,
    SendResult,
)
from airflow_provider_cascade.gateway.codec import (
    CodecSettings,
    GetCodec,
    HttpResponse,
    JsonCodec,
    SendBatch,
    XmlCodec,
)

SETTINGS = CodecSettings("https://gw", LoginPassword("l", "p"))
SMS_ONLY = (SMS("Hi", "Shop"),)
DUPLICATE = "Данное сообщение уже было отправлено."


def ok_row(phone: str, cid: str | None, id_message: str) -> dict[str, str]:
    row = {"id_message": id_message, "phone": phone, "count_message": "1", "id_sms": "9"}
    return row if cid is None else {**row, "client_id_message": cid}


def json_answer(*items: Any) -> HttpResponse:
    return HttpResponse(200, json.dumps({"message": list(items)}).encode())


def xml_answer(*messages: list[dict[str, str]]) -> HttpResponse:
    root = etree.Element("response")
    for rows in messages:
        message = etree.SubElement(root, "message")
        for row in rows:
            attrs = {k: v for k, v in row.items() if k != "text"}
            etree.SubElement(message, "information", attrs).text = row.get("text", "send")
    return HttpResponse(200, etree.tostring(root, xml_declaration=True, encoding="utf-8"))


def batch_of(codec: JsonCodec | XmlCodec, *recipients: Recipient | str) -> SendBatch:
    (batch,) = codec.send_batches([Message(SMS_ONLY, recipients)])
    return batch


THREE = (Recipient("79000000001", 11), Recipient("79000000002", 12), Recipient("79000000003", 13))


def test_empty_row_list_gives_three_missing_answers_not_success() -> None:
    codec = JsonCodec(SETTINGS)
    results = codec.parse_send(batch_of(codec, *THREE), json_answer([]))
    assert [(r.phone, r.client_id_message) for r in results] == [
        ("79000000001", "11"),
        ("79000000002", "12"),
        ("79000000003", "13"),
    ]
    assert all(r.answer_missing and not r.accepted and r.id_message is None for r in results)
    assert all("may have been sent" in (r.error or "") for r in results)


def test_rows_in_any_order_come_back_in_the_batch_order_with_its_client_ids() -> None:
    codec = JsonCodec(SETTINGS)
    rows = [ok_row("79000000003", "13", "103"), ok_row("79000000001", "11", "101")]
    results = codec.parse_send(batch_of(codec, *THREE), json_answer(rows))
    assert [(r.phone, r.client_id_message, r.id_message, r.answer_missing) for r in results] == [
        ("79000000001", "11", "101", False),
        ("79000000002", "12", None, True),
        ("79000000003", "13", "103", False),
    ]


@pytest.mark.parametrize(
    "row",
    [
        ok_row("79000000009", None, "109"),  # a phone never sent
        ok_row("79000000001", "99", "109"),  # a client id never sent
        {**ok_row("79000000001", None, "109"), "base": "4"},  # a base never sent
    ],
)
def test_a_row_for_a_recipient_never_sent_is_never_counted(row: dict[str, str]) -> None:
    codec = JsonCodec(SETTINGS)
    rows = [ok_row(r.phone, str(r.client_id_message), f"10{i}") for i, r in enumerate(THREE)]
    with pytest.raises(CascadeResponseError, match="not sent"):
        codec.parse_send(batch_of(codec, *THREE), json_answer([*rows, row]))


def test_a_client_id_answered_for_another_phone_is_refused() -> None:
    codec = JsonCodec(SETTINGS)
    with pytest.raises(CascadeResponseError, match="sent to 79000000001"):
        codec.parse_send(batch_of(codec, THREE[0]), json_answer([ok_row("79000000002", "11", "1")]))


def test_two_rows_for_one_client_id_are_refused() -> None:
    codec = JsonCodec(SETTINGS)
    row = ok_row("79000000001", "11", "1")
    with pytest.raises(CascadeResponseError, match=r"two rows|not sent"):
        codec.parse_send(batch_of(codec, THREE[0]), json_answer([row, row]))
    other = ok_row("79000000002", "12", "2")  # out of order: caught while indexing
    with pytest.raises(CascadeResponseError, match="two rows"):
        codec.parse_send(batch_of(codec, *THREE[:2]), json_answer([other, other]))


def test_repeated_client_id_with_and_without_the_earlier_id() -> None:
    codec = JsonCodec(SETTINGS)
    rows = [
        {**ok_row("79000000001", "11", "555"), "error": DUPLICATE},
        {"client_id_message": "12", "phone": "79000000002", "error": DUPLICATE},
        {"client_id_message": "13", "phone": "79000000003", "error": "Номер в стоп-листе."},
    ]
    first, second, third = codec.parse_send(batch_of(codec, *THREE), json_answer(rows))
    assert first.already_sent and first.accepted and first.id_message == "555"
    assert second.already_sent and second.accepted and second.id_message is None  # untracked
    assert not third.already_sent and not third.accepted and third.error == "Номер в стоп-листе."


def test_without_client_ids_a_repeated_phone_is_matched_in_order() -> None:
    codec = JsonCodec(SETTINGS)
    rows = [ok_row("79000000001", None, "1"), ok_row("79000000001", None, "2")]
    results = codec.parse_send(batch_of(codec, "79000000001", "79000000001"), json_answer(rows))
    assert [r.id_message for r in results] == ["1", "2"]


def test_json_numbers_in_rows_are_read_as_ids() -> None:
    codec = JsonCodec(SETTINGS)
    row = {"id_message": 555, "client_id_message": 11, "phone": 79000000001, "count_message": 2}
    (result,) = codec.parse_send(batch_of(codec, THREE[0]), json_answer([row]))
    assert (result.id_message, result.client_id_message, result.parts) == ("555", "11", 2)


def test_a_row_without_its_client_id_is_matched_by_phone() -> None:
    codec = JsonCodec(SETTINGS)
    (result,) = codec.parse_send(
        batch_of(codec, THREE[0]), json_answer([ok_row("79000000001", None, "7")])
    )
    assert (result.id_message, result.client_id_message) == ("7", "11")


def test_a_whole_message_error_is_one_result_per_recipient() -> None:
    codec = JsonCodec(SETTINGS)
    results = codec.parse_send(
        batch_of(codec, *THREE), json_answer({"error": "Такого отправителя нет."})
    )
    assert [(r.phone, r.client_id_message, r.error) for r in results] == [
        (r.phone, str(r.client_id_message), "Такого отправителя нет.") for r in THREE
    ]
    assert not any(r.accepted or r.answer_missing for r in results)


def test_xml_rows_matched_like_json() -> None:
    codec = XmlCodec(SETTINGS)
    rows = [
        {"id_message": "3", "client_id_message": "13", "phone": "79000000003"},
        {"client_id_message": "12", "phone": "79000000002", "text": DUPLICATE},
    ]
    results = codec.parse_send(batch_of(codec, *THREE), xml_answer(rows))
    assert [(r.client_id_message, r.id_message, r.accepted, r.answer_missing) for r in results] == [
        ("11", None, False, True),
        ("12", None, True, False),
        ("13", "3", True, False),
    ]
    assert results[1].already_sent
    with pytest.raises(CascadeResponseError):
        codec.parse_send(batch_of(codec, *THREE), xml_answer([*rows, {"phone": "79000000009"}]))


def test_xml_status_text_is_not_an_error_but_a_missing_id_is() -> None:
    codec = XmlCodec(SETTINGS)
    rows = [{"client_id_message": "11", "phone": "79000000001", "text": " send "}]
    (result,) = codec.parse_send(batch_of(codec, THREE[0]), xml_answer(rows))
    assert not result.accepted and result.error == "the gateway returned no id_message"


# -- GET: ids by position ------------------------------------------------------------------
def get_batch(*phones: str) -> SendBatch:
    (batch,) = GetCodec(SETTINGS).send_batches([Message(SMS_ONLY, phones)])
    return batch


def test_get_ids_in_phone_order_and_zero_is_not_an_id() -> None:
    results = GetCodec(SETTINGS).parse_send(
        get_batch("79000000001", "79000000002", "79000000003"), HttpResponse(200, b"101,0,103")
    )
    assert [(r.phone, r.id_message, r.accepted) for r in results] == [
        ("79000000001", "101", True),
        ("79000000002", None, False),
        ("79000000003", "103", True),
    ]
    assert "not sent" in (results[1].error or "")


@pytest.mark.parametrize("body", ["101", "101,102,103"])
def test_get_id_count_differing_from_phone_count_fails_the_batch(body: str) -> None:
    with pytest.raises(CascadeResponseError, match="ids for 2 phones"):
        GetCodec(SETTINGS).parse_send(
            get_batch("79000000001", "79000000002"), HttpResponse(200, body.encode())
        )


@pytest.mark.parametrize("body", ["١٢٣", "²", "12３"])
def test_get_non_ascii_digits_are_not_ids(body: str) -> None:
    with pytest.raises(CascadeGatewayError):
        GetCodec(SETTINGS).parse_send(get_batch("79000000001"), HttpResponse(200, body.encode()))


def test_get_identical_requests_in_one_call_are_refused_before_sending() -> None:
    codec = GetCodec(SETTINGS)
    message = Message(SMS_ONLY, ["79000000001"])
    with pytest.raises(CascadeValidationError) as err:
        codec.send_batches([message, message])
    assert err.value.field == "messages" and err.value.message_index == 1
    assert "identical" in err.value.rule and "message 0" in err.value.rule
    # the same phones split into two equal requests inside one message
    phones = ["79000000001", "79000000002"] * 2
    (two,) = codec.send_batches([Message(SMS_ONLY, phones[:2])])
    tiny = CodecSettings(
        "https://gw", LoginPassword("l", "p"), max_url_length=len(two.request.url) + 1
    )
    assert len(GetCodec(tiny).send_batches([Message(SMS_ONLY, phones[:3])])) == 2
    with pytest.raises(CascadeValidationError, match="identical"):
        GetCodec(tiny).send_batches([Message(SMS_ONLY, phones)])
    # separate calls (the ledger sends chunk by chunk) are each checked on their own
    assert len(codec.send_batches([message])) == len(codec.send_batches([message])) == 1


# -- a property: any subset of rows, any order -------------------------------------------
@st.composite
def sent_and_answered(draw: st.DrawFn) -> tuple[list[Recipient], list[int]]:
    n = draw(st.integers(1, 30))
    phones = draw(
        st.lists(st.sampled_from([f"7900000000{i}" for i in range(5)]), min_size=n, max_size=n)
    )
    with_ids = draw(st.booleans())
    recipients = [Recipient(p, i + 1 if with_ids else None) for i, p in enumerate(phones)]
    answered = draw(st.permutations(range(n)))[: draw(st.integers(0, n))]
    return recipients, answered


@given(sent_and_answered(), st.sampled_from(["json", "xml"]))
def test_every_recipient_gets_exactly_one_result(
    case: tuple[list[Recipient], list[int]], variant: str
) -> None:
    recipients, answered = case
    codec = JsonCodec(SETTINGS) if variant == "json" else XmlCodec(SETTINGS)
    batch = batch_of(codec, *recipients)
    rows = []
    for i in answered:  # the gateway may answer in any order and leave rows out
        r = recipients[i]
        cid = None if r.client_id_message is None else str(r.client_id_message)
        rows.append(ok_row(r.phone, cid, str(1000 + i)))
    if recipients[0].client_id_message is None:
        # without client ids only the n-th row per phone is known: expect that order
        answered = sorted(answered)
        rows = [ok_row(recipients[i].phone, None, str(1000 + i)) for i in answered]
    response = json_answer(rows) if variant == "json" else xml_answer(rows)
    results: list[SendResult] = codec.parse_send(batch, response)
    assert len(results) == len(recipients)
    assert [(r.phone, r.client_id_message) for r in results] == [
        (r.phone, None if r.client_id_message is None else str(r.client_id_message))
        for r in recipients
    ]
    got = [r.id_message for r in results if r.accepted]
    assert sorted(got) == sorted(str(1000 + i) for i in answered)
    assert sum(r.answer_missing for r in results) == len(recipients) - len(answered)
    if recipients[0].client_id_message is not None:
        for i, result in enumerate(results):
            assert result.answer_missing == (i not in answered)
            assert result.id_message == (str(1000 + i) if i in answered else None)
