"""The fast read of a usual send answer (``_decode.usual_prefix``) gives exactly what the
exact path (``send_row`` for every row, then ``match_part``) gives, for any answer: rows
perturbed one field at a time, rows left out, swapped or unknown, in JSON and XML. The
quick question ``accepted_ids`` answers either None or exactly ``plain_ids`` of the exact
path's results. The exact path is the oracle here; its own behaviour is pinned by
test_matching and the goldens."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from airflow_provider_cascade.gateway import (
    SMS,
    BaseTarget,
    CascadeError,
    CascadeResponseError,
    Channel,
    LoginPassword,
    Message,
    Recipient,
    SendResult,
    Viber,
)
from airflow_provider_cascade.gateway import _json_codec as json_codec
from airflow_provider_cascade.gateway import _xml_codec as xml_codec
from airflow_provider_cascade.gateway._decode import (
    load_json,
    match_part,
    plain_ids,
    send_row,
    usual_prefix,
)
from airflow_provider_cascade.gateway._xml_codec import parse_document
from airflow_provider_cascade.gateway.codec import (
    CodecSettings,
    HttpResponse,
    JsonCodec,
    SendBatch,
    XmlCodec,
)

SETTINGS = CodecSettings("https://gw", LoginPassword("l", "p"))
CHANNELS = (Viber("Hi", "Shop"), SMS("Hi", "Shop"))
DUPLICATE = "Данное сообщение уже было отправлено."
STOP = "Номер телефона присутствует в стоп-листе."
ABSENT = object()
"""A perturbation value: the key is left out."""


def usual_row(i: int, recipient: Recipient) -> dict[str, Any]:
    """The emulator's (and the document's) success row, in the document's key order; like
    the emulator's, without ``client_id_message`` for a recipient without one."""
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


# One field changed to something the fast read must leave to the exact path (or read alike).
PERTURB: list[tuple[str, Any]] = [
    *(("id_message", v) for v in ["0", "", "00", "١٢", 123, None, "12a", " 12", ABSENT]),
    *(("phone", v) for v in ["79000000099", "", 79000000001, None, ABSENT]),
    *(("client_id_message", v) for v in ["99", "", None, 11, "011", ABSENT]),
    *(("count_message", v) for v in ["", "0", "12", "99", "100", 1, "x", "١", None, ABSENT]),
    *((key, v) for key in ("id_viber", "id_whatsapp", "id_vk", "id_sms")
      for v in ["0", "", "7", "00", "٥", 5, 0, None, "x", ABSENT]),
    ("error", DUPLICATE), ("error", STOP), ("error", ""), ("base", "4"), ("other", "x"),
    ("text", DUPLICATE), ("text", STOP), ("text", " send "), ("text", "deliver"), ("text", ""),
]  # fmt: skip


KEYS = sorted({key for key, _ in PERTURB})


@st.composite
def answers(draw: st.DrawFn) -> tuple[list[Recipient], list[dict[str, Any]]]:
    n = draw(st.integers(1, 12))
    with_ids = draw(st.booleans())
    phones = draw(
        st.lists(st.sampled_from([f"7900000000{i}" for i in range(1, 6)]), min_size=n, max_size=n)
    )
    recipients = [Recipient(p, 11 + i if with_ids else None) for i, p in enumerate(phones)]
    rows = [usual_row(i, r) for i, r in enumerate(recipients)]
    for _ in range(draw(st.integers(0, 4))):  # a few perturbed rows, anywhere
        row = rows[draw(st.integers(0, n - 1))]
        key = draw(st.sampled_from(KEYS))
        value = draw(st.sampled_from([v for k, v in PERTURB if k == key]))
        if value is ABSENT:
            row.pop(key, None)
        else:
            row[key] = value
    shape = draw(st.sampled_from(["as is", "as is", "drop", "swap", "unknown", "extra"]))
    if shape == "drop":
        del rows[draw(st.integers(0, n - 1))]
    elif shape == "swap" and n > 1:
        i = draw(st.integers(0, n - 2))
        rows[i], rows[i + 1] = rows[i + 1], rows[i]
    elif shape == "unknown":
        rows.insert(draw(st.integers(0, n)), usual_row(99, Recipient("79000000077", 77)))
    elif shape == "extra":
        rows.append(dict(rows[-1]))
    return recipients, rows


def batch_of(codec: JsonCodec | XmlCodec, recipients: list[Recipient]) -> SendBatch:
    (batch,) = codec.send_batches([Message(CHANNELS, recipients)])
    return batch


def json_body(rows: list[dict[str, Any]]) -> bytes:
    return json.dumps(
        {"message": [[{k: v for k, v in r.items() if k != "text"} for r in rows]]}
    ).encode()


def xml_body(rows: list[dict[str, Any]]) -> bytes:
    root = etree.Element("response")
    message = etree.SubElement(root, "message")
    for row in rows:
        attrs = {k: str(v) for k, v in row.items() if k != "text" and v is not None}
        etree.SubElement(message, "information", attrs).text = row.get("text", "send")
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def exact(
    codec: JsonCodec | XmlCodec, batch: SendBatch, body: bytes, status: int = 200
) -> list[SendResult]:
    """The exact path alone, as parse_send read every answer before the fast read."""
    (part,) = batch.parts
    if isinstance(codec, JsonCodec):
        items = load_json(HttpResponse(status, body))["message"]
        if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], list):
            raise CascadeResponseError("not one list of rows")
        if not all(isinstance(r, dict) for r in items[0]):
            raise CascadeResponseError("a row is not an object")
        rows = [send_row(r) for r in items[0]]
    else:
        root = xml_codec._load(HttpResponse(status, body))
        messages = [c for c in root if c.tag == "message"]
        if len(messages) != 1 or not all(c.tag == "information" for c in messages[0]):
            raise CascadeResponseError("not one message of rows")
        rows = [send_row(dict(c.attrib), c.text or "") for c in messages[0]]
    return match_part(part, rows)


def outcome(fn: Any) -> Any:
    try:
        return [(r, r.to_dict()) for r in fn()]
    except CascadeResponseError as exc:
        return ("refused", str(exc))


def assert_every_field_set(results: list[SendResult]) -> None:
    for result in results:
        for f in dataclasses.fields(SendResult):
            getattr(result, f.name)  # an unset slot raises AttributeError


def check_alike(variant: str, recipients: list[Recipient], rows: list[dict[str, Any]]) -> None:
    codec = JsonCodec(SETTINGS) if variant == "json" else XmlCodec(SETTINGS)
    batch = batch_of(codec, recipients)
    body = json_body(rows) if variant == "json" else xml_body(rows)
    got = outcome(lambda: codec.parse_send(batch, HttpResponse(200, body)))
    if isinstance(got, list):
        assert_every_field_set([r for r, _ in got])
    assert got == outcome(lambda: exact(codec, batch, body))
    check_ids_alike(codec, batch, body)


def check_ids_alike(
    codec: JsonCodec | XmlCodec, batch: SendBatch, body: bytes, status: int = 200
) -> list[str] | None:
    """``accepted_ids`` is None, or what ``plain_ids`` makes of the exact path's results."""
    ids = codec.accepted_ids(batch, HttpResponse(status, body))
    if ids is not None:
        results = exact(codec, batch, body, status)  # must not raise either
        assert ids == plain_ids(results, len(results))
    return ids


@pytest.mark.parametrize("variant", ["json", "xml"])
@pytest.mark.parametrize("with_ids", [True, False])
@pytest.mark.parametrize(("key", "value"), PERTURB)
def test_each_odd_field_reads_as_the_exact_path_reads_it(
    variant: str, with_ids: bool, key: str, value: Any
) -> None:
    """Every perturbation on the middle row of three: the first row is read fast, the middle
    one must be read as the exact path reads it (or refused alike), and the last after it."""
    recipients = [Recipient(f"7900000000{i}", 11 + i if with_ids else None) for i in range(3)]
    rows = [usual_row(i, r) for i, r in enumerate(recipients)]
    if value is ABSENT:
        rows[1].pop(key, None)
    else:
        rows[1][key] = value
    check_alike(variant, recipients, rows)


@given(answers(), st.sampled_from(["json", "xml"]))
def test_any_answer_reads_as_the_exact_path_reads_it(
    case: tuple[list[Recipient], list[dict[str, Any]]], variant: str
) -> None:
    check_alike(variant, *case)


@pytest.mark.parametrize("variant", ["json", "xml"])
def test_a_usual_answer_is_read_in_one_pass(variant: str) -> None:
    """The document's success rows, in order, never reach the exact path: every row is
    taken by the fast read, and each result equals the exact path's, field for field."""
    recipients = [Recipient(f"7900000{i:04}", 100 + i) for i in range(300)]
    recipients += [Recipient(f"7910000{i:04}") for i in range(300)]
    codec = JsonCodec(SETTINGS) if variant == "json" else XmlCodec(SETTINGS)
    batch = batch_of(codec, recipients)
    rows = [usual_row(i, r) for i, r in enumerate(recipients)]
    rows[7]["id_sms"] = "777"  # two channel ids
    rows[8]["count_message"] = ""  # no count
    rows[9]["id_viber"] = "0"  # no channel id at all
    rows[310]["count_message"] = None  # JSON null (in XML: no attribute): no count
    body = json_body(rows) if variant == "json" else xml_body(rows)
    (part,) = batch.parts
    if variant == "json":
        fields = json_codec._usual_rows(json.loads(body)["message"][0])
    else:
        (message,) = parse_document(body)
        fields = xml_codec._usual_rows(list(message))
    fast = usual_prefix(part, fields)
    assert len(fast) == len(recipients)
    assert_every_field_set(fast)
    results = codec.parse_send(batch, HttpResponse(200, body))
    assert results == exact(codec, batch, body)
    assert results[7].channel_ids == {Channel.VIBER: "5007", Channel.SMS: "777"}
    assert list(results[7].channel_ids) == [Channel.VIBER, Channel.SMS]  # Channel order
    assert results[8].parts is None and results[310].parts is None
    assert results[9].channel_ids == {}
    assert results[300].client_id_message is None and results[0].client_id_message == "100"
    assert all(r.message_index == 0 and r.accepted for r in results)
    channel_ids = [r.channel_ids for r in results]
    assert len({id(d) for d in channel_ids}) == len(channel_ids)  # nothing shared


def test_xml_attributes_in_any_order_or_fewer_are_read_alike() -> None:
    """The document's XML row has no count_message or id_whatsapp, in its own order."""
    recipients = [Recipient(f"7900000000{i}", 11 + i) for i in range(3)]
    codec = XmlCodec(SETTINGS)
    batch = batch_of(codec, recipients)
    root = etree.Element("response")
    message = etree.SubElement(root, "message")
    for i, r in enumerate(recipients):
        attrs = {"id_message": str(1000 + i), "client_id_message": str(r.client_id_message),
                 "id_sms": "0", "id_viber": str(500 + i), "id_vk": "0", "phone": r.phone}  # fmt: skip
        if i == 1:
            attrs = dict(reversed(attrs.items()))
        etree.SubElement(message, "information", attrs).text = "send"
    body = etree.tostring(root, encoding="utf-8")
    results = codec.parse_send(batch, HttpResponse(200, body))
    assert results == exact(codec, batch, body)
    assert [(r.id_message, r.parts, r.channel_ids) for r in results] == [
        (str(1000 + i), None, {Channel.VIBER: str(500 + i)}) for i in range(3)
    ]


@pytest.mark.parametrize("variant", ["json", "xml"])
def test_channel_id_0_is_no_id_on_either_path(variant: str) -> None:
    """Rows in order are read fast, the same rows in reverse order the exact way: in both a
    channel id of 0 means "not sent on this channel", and any other digits are an id."""
    recipients = [Recipient(f"7900000000{i}", 11 + i) for i in range(3)]
    codec = JsonCodec(SETTINGS) if variant == "json" else XmlCodec(SETTINGS)
    batch = batch_of(codec, recipients)
    rows = [usual_row(i, r) for i, r in enumerate(recipients)]
    rows[1]["id_sms"] = "7001"
    want = [
        {Channel.VIBER: "5000"},
        {Channel.VIBER: "5001", Channel.SMS: "7001"},
        {Channel.VIBER: "5002"},
    ]
    for order in (rows, rows[::-1]):
        body = json_body(order) if variant == "json" else xml_body(order)
        results = codec.parse_send(batch, HttpResponse(200, body))
        assert [r.channel_ids for r in results] == want


@pytest.mark.parametrize("variant", ["json", "xml"])
@pytest.mark.parametrize("count", ["1" * 5000, "0" * 4000 + "1" * 400])
def test_an_absurd_part_count_is_a_typed_error(variant: str, count: str) -> None:
    """int() refuses a text of more than 4,300 digits with a ValueError: the answer must
    still fail as a CascadeResponseError naming the field, in a send and a status answer
    (a JSON number that long is already refused by json.loads as not JSON)."""
    recipients = [Recipient("79000000001", 11)]
    codec = JsonCodec(SETTINGS) if variant == "json" else XmlCodec(SETTINGS)
    batch = batch_of(codec, recipients)
    row = {**usual_row(0, recipients[0]), "count_message": count}
    body = json_body([row]) if variant == "json" else xml_body([row])
    with pytest.raises(CascadeResponseError, match="count_message"):
        codec.parse_send(batch, HttpResponse(200, body))
    assert codec.accepted_ids(batch, HttpResponse(200, body)) is None
    (state_batch,) = codec.state_batches(["1"])
    state = {"id_message": "1", "state": "deliver", "num_parts_sms": count}
    if variant == "json":
        body = json.dumps({"state": [state]}).encode()
    else:
        root = etree.Element("response")
        attrs = {k: str(v) for k, v in state.items() if k != "state"}
        etree.SubElement(root, "state", attrs).text = "deliver"
        body = etree.tostring(root, encoding="utf-8")
    with pytest.raises(CascadeResponseError, match="num_parts_sms"):
        codec.parse_state(state_batch, HttpResponse(200, body))


@pytest.mark.parametrize("variant", ["json", "xml"])
def test_the_usual_answer_is_answered_by_the_quick_read(variant: str) -> None:
    """With client ids, the document's success rows give their ids without the exact path;
    recipients without a client id are left to it (None)."""
    recipients = [Recipient(f"7900000{i:04}", 100 + i) for i in range(300)]
    rows = [usual_row(i, r) for i, r in enumerate(recipients)]
    rows[7]["id_sms"], rows[8]["count_message"], rows[9]["id_viber"] = "777", "", "0"
    codec = JsonCodec(SETTINGS) if variant == "json" else XmlCodec(SETTINGS)
    body = json_body if variant == "json" else xml_body
    ids = check_ids_alike(codec, batch_of(codec, recipients), body(rows))
    assert ids == [str(1000 + i) for i in range(300)]
    without = [Recipient(r.phone) for r in recipients]
    rows = [usual_row(i, r) for i, r in enumerate(without)]
    assert codec.accepted_ids(batch_of(codec, without), HttpResponse(200, body(rows))) is None


def test_the_quick_read_takes_a_request_of_several_messages_part_by_part() -> None:
    codec = JsonCodec(SETTINGS)
    first = [Recipient(f"790000000{i}", 10 + i) for i in range(3)]
    second = [Recipient(f"791000000{i}", 20 + i) for i in range(2)]
    (batch,) = codec.send_batches([Message(CHANNELS, first), Message(CHANNELS, second)])
    assert len(batch.parts) == 2
    one = [usual_row(i, r) for i, r in enumerate(first)]
    two = [usual_row(10 + i, r) for i, r in enumerate(second)]
    body = json.dumps({"message": [one, two]}).encode()
    assert codec.accepted_ids(batch, HttpResponse(200, body)) == [
        "1000", "1001", "1002", "1010", "1011"
    ]  # fmt: skip
    for items in ([two, one], [one], [one, two, two], [one, two[:1]], [one, {"error": "x"}]):
        assert (
            codec.accepted_ids(batch, HttpResponse(200, json.dumps({"message": items}).encode()))
            is None
        )


def test_the_quick_read_leaves_a_message_with_a_stored_base_to_the_exact_path() -> None:
    """Rows for the phones alone say nothing of the base: the exact path counts it missing."""
    codec = JsonCodec(SETTINGS)
    recipients = [Recipient(f"790000000{i}", 10 + i) for i in range(3)]
    (batch,) = codec.send_batches([Message(CHANNELS, recipients, bases=[BaseTarget("4")])])
    rows = [usual_row(i, r) for i, r in enumerate(recipients)]
    assert check_ids_alike(codec, batch, json_body(rows)) is None
    assert [r.answer_missing for r in codec.parse_send(batch, HttpResponse(200, json_body(rows)))] == [
        False, False, False, True
    ]  # fmt: skip


_ROW = (
    b'{"id_message":"1000","client_id_message":"11","phone":"79000000000","count_message":"1",'
    b'"id_viber":"5000","id_whatsapp":"0","id_vk":"0","id_sms":"0"}'
)


@pytest.mark.parametrize(
    ("status", "body", "quick"),
    [
        (200, b'{"message":[[' + _ROW + b"]]}", True),
        (200, b' \n{ "message" : [ [ ' + _ROW + b" ] ] }\r\n", True),
        (
            200,
            b'{"message":[[' + _ROW.replace(b'"id_message"', b'"id\\u005fmessage"') + b"]]}",
            True,
        ),
        (
            200,
            b'{"message":[[' + _ROW.replace(b'"1000"', b'"1000","id_message":"0"', 1) + b"]]}",
            False,
        ),
        (
            200,
            b'{"message":[[' + _ROW.replace(b'"1000"', b'"0","id_message":"1000"', 1) + b"]]}",
            True,
        ),
        (200, b'{"message":[[' + _ROW + b']],"message":[[]]}'.replace(b"\\", b""), False),
        (200, b'{"message":[[' + _ROW + b"]]}x", False),
        (200, b'\xef\xbb\xbf{"message":[[' + _ROW + b"]]}", False),
        (200, b'{"message":[[' + _ROW.replace(b"79000000000", b"7900000000\xff") + b"]]}", False),
        (200, b'{"message":[[' + _ROW.replace(b'"5000"', b'"\\ud800"') + b"]]}", False),
        (200, b'{"message":[[' + _ROW.replace(b'"5000"', b'"\\u0035000"') + b"]]}", True),
        (200, b'{"message":[[' + _ROW + b']],"error":"no funds"}'.replace(b"\\", b""), False),
        (200, b'{"message":[[' + _ROW + b']],"error":null}'.replace(b"\\", b""), False),
        (200, b'[{"message":[[' + _ROW + b"]]}]", False),
        (200, b'{"message":[[[' + _ROW + b"]]]}", False),
        (200, b'{"message":[' + _ROW + b"]}", False),
        (200, b'{"message":[[' + _ROW.replace(b'"1"', b"1") + b"]]}", False),
        (200, b'{"message":[[' + _ROW.replace(b'"1000"', b"1000") + b"]]}", False),
        (200, b'{"message":[[' + _ROW.replace(b'"1000"', b'"1e3"') + b"]]}", False),
        (201, b'{"message":[[' + _ROW + b"]]}", False),
        (429, b'{"message":[[' + _ROW + b"]]}", False),
        (500, b'{"message":[[' + _ROW + b"]]}", False),
        (403, b'{"message":[[' + _ROW + b"]]}", False),
    ],
)
def test_the_quick_read_of_any_bytes_agrees_with_the_exact_path(
    status: int, body: bytes, quick: bool
) -> None:
    """Byte-level oddities of the usual answer (duplicate keys, escapes, a BOM, bad UTF-8,
    trailing bytes, other statuses): None, or the exact path's ids (which must not fail)."""
    codec = JsonCodec(SETTINGS)
    batch = batch_of(codec, [Recipient("79000000000", 11)])
    ids = check_ids_alike(codec, batch, body, status)
    got = refused_or(lambda: codec.parse_send(batch, HttpResponse(status, body)))
    assert got == refused_or(lambda: exact(codec, batch, body, status))
    assert (ids is not None) == quick


def refused_or(fn: Any) -> Any:
    """The results, or the class of the error (the exact path's texts are its own)."""
    try:
        return [(r, r.to_dict()) for r in fn()]
    except CascadeError as exc:
        return ("refused", type(exc))


_XROW = (
    '<information id_message="1000" client_id_message="11" phone="79000000000" '
    'id_viber="5000" id_sms="0">send</information>'
)
_XDOC = '<?xml version="1.0" encoding="utf-8"?>\n<response><message>{}</message></response>'


@pytest.mark.parametrize(
    ("body", "quick"),
    [
        (_XDOC.format(_XROW), True),
        (_XDOC.format(_XROW).replace('"1.0" encoding="utf-8"', "'1.0' encoding='UTF-8'"), True),
        (_XDOC.format(_XROW).split("\n", 1)[1], True),
        (_XDOC.format(_XROW).replace('"1.0"', "\"1.0'"), False),
        (_XDOC.format("\n  " + _XROW + "\r\n\t"), True),
        (_XDOC.format(_XROW.replace(">send<", "><")), True),
        (_XDOC.format(_XROW.replace(">send<", ">deliver<")), True),
        (_XDOC.format(_XROW.replace(">send<", "> send <")), False),
        (_XDOC.format(_XROW.replace(">send<", ">Номер в стоп-листе<")), False),
        (_XDOC.format(_XROW.replace('"1000"', '"&#49;000"')), False),
        (_XDOC.format(_XROW.replace('"1000"', "'1000'")), False),
        (_XDOC.format(_XROW.replace('"1000"', '"0"')), False),
        (_XDOC.format(_XROW.replace('"1000"', '""')), False),
        (_XDOC.format(_XROW.replace('"1000"', '"1000" id_message="7"')), False),
        (_XDOC.format(_XROW.replace('"5000"', '"5000" base="4"')), False),
        (_XDOC.format(_XROW.replace('"5000"', '"5000" error="7"')), False),
        (_XDOC.format(_XROW.replace('"5000"', '"5000" xmlns="urn:x"')), False),
        (_XDOC.format(_XROW.replace(">send</information>", "/>")), False),
        (_XDOC.format(_XROW.replace(">send<", "><![CDATA[send]]><")), False),
        (_XDOC.format(_XROW.replace(">send<", "><!-- x -->send<")), False),
        (_XDOC.format(_XROW + "<!-- x -->"), False),
        (_XDOC.format(_XROW + "<?pi x?>"), False),
        (_XDOC.format(_XROW + _XROW.replace("information", "info")), False),
        (_XDOC.format(_XROW + "<information>" + _XROW + "</information>"), False),
        (_XDOC.format(_XROW).replace("<message>", '<message a="1">'), False),
        (_XDOC.format(_XROW).replace("<response>", '<response xmlns="urn:x">'), False),
        (_XDOC.format(_XROW).replace("<message>", "x<message>"), False),
        (
            _XDOC.format(_XROW).replace("<response>", '<!DOCTYPE r [<!ENTITY e "1">]><response>'),
            False,
        ),
        (_XDOC.format(_XROW).replace('encoding="utf-8"', 'encoding="windows-1251"'), False),
        (
            _XDOC.format(_XROW).replace('encoding="utf-8"', 'encoding="utf-8" standalone="yes"'),
            False,
        ),
        (_XDOC.format(_XROW).replace("?>", "?>\ufeff"), False),
        ("\ufeff" + _XDOC.format(_XROW), False),
        (_XDOC.format(_XROW) + "<response/>", False),
        (_XDOC.format(_XROW).replace("</response>", "<message></message></response>"), False),
        (_XDOC.format(_XROW).replace("</response>", "</message></response>"), False),
        (_XDOC.format(_XROW).replace("79000000000", "7900000000\u0665"), False),
        (_XDOC.format(_XROW).replace("<response>", "<response>\u00a0"), False),
        # past libxml2's limits (10,000,000 characters), which lxml keeps (huge_tree=False)
        (_XDOC.format(" " * 10_000_001 + _XROW), False),
        (_XDOC.format(_XROW) + "\n" * 10_000_000, False),
        (_XDOC.format(_XROW.replace('"1000"', '"1' + "0" * 10_000_000 + '"')), False),
    ],
)
def test_the_quick_xml_read_agrees_with_the_exact_path(body: str, quick: bool) -> None:
    """Only the usual grammar is read quickly (None for anything XML allows beyond it), and
    whatever the quick read takes, the exact path (lxml) reads alike."""
    codec = XmlCodec(SETTINGS)
    batch = batch_of(codec, [Recipient("79000000000", 11)])
    raw = body.encode("utf-8")
    ids = check_ids_alike(codec, batch, raw)
    assert (ids is not None) == quick
    got = refused_or(lambda: codec.parse_send(batch, HttpResponse(200, raw)))
    assert got == refused_or(lambda: exact(codec, batch, raw))
    if quick:
        assert ids == ["1000"]
