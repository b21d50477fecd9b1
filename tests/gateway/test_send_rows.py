"""One send row, read by the one reader of each variant: what it keeps, what it refuses,
and that a field the reader does not know changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from lxml import etree

from airflow_provider_cascade.gateway import (
    SMS,
    CascadeResponseError,
    Channel,
    LoginPassword,
    Message,
    Recipient,
    Viber,
)
from airflow_provider_cascade.gateway.codec import (
    CodecSettings,
    HttpResponse,
    JsonCodec,
    SendBatch,
    XmlCodec,
)

SETTINGS = CodecSettings("https://gw", LoginPassword("l", "p"))
CHANNELS = (Viber("Hi", "Shop"), SMS("Hi", "Shop"))
NO_FUNDS = "Недостаточно средств для отправки SMS."
VARIANTS = ["json", "xml"]


def codec_of(variant: str) -> JsonCodec | XmlCodec:
    return JsonCodec(SETTINGS) if variant == "json" else XmlCodec(SETTINGS)


def batch_of(codec: JsonCodec | XmlCodec, recipients: list[Recipient]) -> SendBatch:
    (batch,) = codec.send_batches([Message(channels=CHANNELS, recipients=tuple(recipients))])
    return batch


def usual_row(i: int, recipient: Recipient) -> dict[str, Any]:
    """The document's success row, in its key order (no client id for a recipient sent
    without one, as the emulator answers)."""
    row = {
        "id_message": str(1000 + i),
        "client_id_message": recipient.client_id_message,
        "phone": recipient.phone,
        "count_message": "1",
        "id_viber": str(5000 + i),
        "id_whatsapp": "0",
        "id_vk": "0",
        "id_sms": "0",
    }
    if recipient.client_id_message is None:
        del row["client_id_message"]
    return row


def body_of(variant: str, rows: list[dict[str, Any]]) -> bytes:
    """JSON rows as they are; XML rows with ``text`` as the element's text."""
    if variant == "json":
        return json.dumps({"message": [rows]}, ensure_ascii=False).encode()
    root = etree.Element("response")
    message = etree.SubElement(root, "message")
    for row in rows:
        attrs = {k: str(v) for k, v in row.items() if k != "text" and v is not None}
        etree.SubElement(message, "information", attrs).text = row.get("text", "send")
    return etree.tostring(root, encoding="utf-8")


def read(variant: str, recipients: list[Recipient], rows: list[dict[str, Any]]) -> list[Any]:
    codec = codec_of(variant)
    return codec.parse_send(batch_of(codec, recipients), HttpResponse(200, body_of(variant, rows)))


# -- a row with an id and a text that is not a status: the gateway holds that message ------
def test_an_xml_row_with_an_id_and_a_text_that_is_no_status_is_tracked_with_its_text() -> None:
    recipients = [Recipient("79000000001", 11), Recipient("79000000002", 12)]
    rows = [usual_row(i, r) for i, r in enumerate(recipients)]
    rows[1]["text"] = NO_FUNDS
    first, second = read("xml", recipients, rows)
    assert first.accepted and first.note is None
    assert second.id_message == "1001"
    assert second.accepted, "the gateway gave an id: the ledger must poll it"
    assert second.error is None
    assert second.note == NO_FUNDS
    assert second.channel_ids == {Channel.VIBER: "5001"}


def test_a_json_row_with_an_error_beside_its_ids_is_tracked_with_the_error_as_note() -> None:
    recipients = [Recipient("79000000001", 11)]
    row = {**usual_row(0, recipients[0]), "id_sms": "7000", "error": NO_FUNDS}
    (result,) = read("json", recipients, [row])
    assert (result.id_message, result.accepted, result.error) == ("1000", True, None)
    assert result.note == NO_FUNDS
    assert result.channel_ids == {Channel.VIBER: "5000", Channel.SMS: "7000"}
    assert result.to_dict()["note"] == NO_FUNDS


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_row_with_an_error_and_no_id_is_a_rejection(variant: str) -> None:
    recipients = [Recipient("79000000001", 11)]
    row = {**usual_row(0, recipients[0]), "id_message": "0", "id_viber": "0"}
    row["error" if variant == "json" else "text"] = NO_FUNDS
    (result,) = read(variant, recipients, [row])
    assert (result.id_message, result.accepted, result.error, result.note) == (
        None, False, NO_FUNDS, None,
    )  # fmt: skip


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_repeated_client_id_with_the_earlier_id_is_already_sent(variant: str) -> None:
    recipients = [Recipient("79000000001", 11)]
    row = usual_row(0, recipients[0])
    row["error" if variant == "json" else "text"] = "Данное сообщение уже было отправлено."
    (result,) = read(variant, recipients, [row])
    assert (result.id_message, result.already_sent, result.accepted) == ("1000", True, True)


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_note_is_scrubbed_of_the_password_like_an_error(variant: str) -> None:
    settings = CodecSettings("https://gw", LoginPassword("l", "Pw$ecr3t/+x"))
    codec = JsonCodec(settings) if variant == "json" else XmlCodec(settings)
    recipients = [Recipient("79000000001", 11)]
    batch = batch_of(codec, recipients)
    row = usual_row(0, recipients[0])
    row["error" if variant == "json" else "text"] = f"{NO_FUNDS} (login l, password Pw$ecr3t/+x)"
    (result,) = codec.parse_send(batch, HttpResponse(200, body_of(variant, [row])))
    assert result.note is not None and NO_FUNDS in result.note
    assert "Pw$ecr3t/+x" not in result.note


# -- what the reader takes as it is ---------------------------------------------------------
@pytest.mark.parametrize("variant", VARIANTS)
def test_a_field_the_reader_does_not_know_changes_nothing(variant: str) -> None:
    recipients = [Recipient(f"7900000000{i}", 11 + i) for i in range(3)]
    rows = [usual_row(i, r) for i, r in enumerate(recipients)]
    plain = read(variant, recipients, rows)
    extended = read(
        variant, recipients, [{**row, "id_telegram": "0", "price": "1.5"} for row in rows]
    )
    assert extended == plain
    assert [r.id_message for r in plain] == ["1000", "1001", "1002"]


def test_xml_attributes_in_any_order_or_fewer_are_read_alike() -> None:
    """The document's XML row has no count_message or id_whatsapp, in its own order."""
    recipients = [Recipient(f"7900000000{i}", 11 + i) for i in range(3)]
    rows = []
    for i, r in enumerate(recipients):
        attrs = {"id_message": str(1000 + i), "client_id_message": str(r.client_id_message),
                 "id_sms": "0", "id_viber": str(500 + i), "id_vk": "0", "phone": r.phone}  # fmt: skip
        rows.append(dict(reversed(attrs.items())) if i == 1 else attrs)
    results = read("xml", recipients, rows)
    assert [(r.id_message, r.parts, r.channel_ids) for r in results] == [
        (str(1000 + i), None, {Channel.VIBER: str(500 + i)}) for i in range(3)
    ]


@pytest.mark.parametrize("variant", VARIANTS)
def test_channel_id_0_is_no_id_and_other_digits_are_one(variant: str) -> None:
    recipients = [Recipient(f"7900000000{i}", 11 + i) for i in range(3)]
    rows = [usual_row(i, r) for i, r in enumerate(recipients)]
    rows[1]["id_sms"] = "7001"
    for order in (rows, rows[::-1]):
        assert [r.channel_ids for r in read(variant, recipients, order)] == [
            {Channel.VIBER: "5000"},
            {Channel.VIBER: "5001", Channel.SMS: "7001"},
            {Channel.VIBER: "5002"},
        ]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("key", ["id_message", "id_viber", "id_sms"])
@pytest.mark.parametrize("value", ["١٢", "12a", " 12", "²"])
def test_an_id_that_is_not_ascii_digits_is_a_typed_error(
    variant: str, key: str, value: str
) -> None:
    recipients = [Recipient("79000000001", 11)]
    row = {**usual_row(0, recipients[0]), key: value}
    with pytest.raises(CascadeResponseError, match=key):
        read(variant, recipients, [row])


def test_json_numbers_for_ids_and_counts_read_as_their_digits() -> None:
    recipients = [Recipient("79000000001", 11)]
    row = {**usual_row(0, recipients[0]), "id_message": 1000, "id_viber": 5000,
           "id_sms": 0, "count_message": 2, "client_id_message": 11}  # fmt: skip
    (result,) = read("json", recipients, [row])
    assert (result.id_message, result.parts, result.client_id_message) == ("1000", 2, "11")
    assert result.channel_ids == {Channel.VIBER: "5000"}


@pytest.mark.parametrize("value", [True, 1.5, [], {}])
@pytest.mark.parametrize("key", ["id_message", "phone", "count_message", "id_sms", "error"])
def test_a_json_value_of_another_type_is_a_typed_error(key: str, value: Any) -> None:
    recipients = [Recipient("79000000001", 11)]
    row = {**usual_row(0, recipients[0]), key: value}
    with pytest.raises(CascadeResponseError, match=key):
        read("json", recipients, [row])


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("count", ["1" * 5000, "0" * 4000 + "1" * 400])
def test_an_absurd_part_count_is_a_typed_error(variant: str, count: str) -> None:
    """int() refuses a text of more than 4,300 digits with a ValueError: the answer must
    still fail as a CascadeResponseError naming the field, in a send and a status answer."""
    recipients = [Recipient("79000000001", 11)]
    row = {**usual_row(0, recipients[0]), "count_message": count}
    with pytest.raises(CascadeResponseError, match="count_message"):
        read(variant, recipients, [row])
    codec = codec_of(variant)
    (state_batch,) = codec.state_batches(["1"])
    state = {"id_message": "1", "state": "deliver", "num_parts_sms": count}
    if variant == "json":
        body = json.dumps({"state": [state]}).encode()
    else:
        root = etree.Element("response")
        etree.SubElement(
            root, "state", {"id_message": "1", "num_parts_sms": count}
        ).text = "deliver"
        body = etree.tostring(root, encoding="utf-8")
    with pytest.raises(CascadeResponseError, match="num_parts_sms"):
        codec.parse_state(state_batch, HttpResponse(200, body))
