"""Status answers and the protocol's limits, each test aimed at one realistic bug."""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from airflow_provider_cascade.gateway import (
    SMS,
    VK,
    CascadeAuthError,
    CascadeResponseError,
    CascadeServerError,
    CascadeValidationError,
    Channel,
    LoginPassword,
    Message,
    MessageState,
    MessageStatus,
    Recipient,
    Variant,
    Viber,
    comma_list,
    summarize,
)
from airflow_provider_cascade.gateway._codec_base import unique_ids
from airflow_provider_cascade.gateway.codec import (
    CodecSettings,
    GetCodec,
    HttpResponse,
    JsonCodec,
    XmlCodec,
    make_codec,
)
from airflow_provider_cascade.operators._build import with_client_ids

SETTINGS = CodecSettings("https://gw", LoginPassword("login", "Pw$ecr3t/+x"))
VARIANTS = [Variant.JSON, Variant.XML, Variant.GET]
STATE_WORDS = ["send", "deliver", "not_deliver", "expired", "partly_deliver"]


def state_answer(variant: Variant, state: str, **fields: object) -> HttpResponse:
    """A status answer for id 1, written without the production encoder."""
    if variant is Variant.GET:
        return HttpResponse(200, state.encode())
    row = {"id_message": "1", "time_change_state": "2017-11-23 13:15:25", **fields}
    if variant is Variant.JSON:
        body = json.dumps({"state": [{**row, "state": state}]}).encode()
        return HttpResponse(200, body)
    root = etree.Element("response")
    etree.SubElement(root, "state", {k: str(v) for k, v in row.items()}).text = state
    return HttpResponse(200, etree.tostring(root, encoding="utf-8"))


def parse_state(variant: Variant, response: HttpResponse) -> MessageState:
    codec = make_codec(variant, SETTINGS)
    (batch,) = codec.state_batches(["1"])
    return codec.parse_state(batch, response)["1"]


# -- states ---------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("word", STATE_WORDS)
def test_every_state_word_and_its_finality(variant: Variant, word: str) -> None:
    state = parse_state(variant, state_answer(variant, word))
    assert state.status is MessageStatus(word) and state.error is None
    assert state.is_final is (word != "send")  # partly_deliver is final: no status will come


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("padded", ["deliver ", " deliver", "\tdeliver\n"])
def test_padded_state_is_the_state_in_every_variant(variant: Variant, padded: str) -> None:
    state = parse_state(variant, state_answer(variant, padded, state_viber=" read "))
    assert state.status is MessageStatus.DELIVER and state.state == "deliver" and state.is_final
    if variant is not Variant.GET:
        assert state.channel_states == {Channel.VIBER: "read"}


@pytest.mark.parametrize("variant", VARIANTS)
def test_unknown_id_is_a_final_error_state(variant: Variant) -> None:
    text = "Сообщение с таким ID не принималось"
    state = parse_state(variant, state_answer(variant, text, time_change_state=""))
    assert state.status is MessageStatus.ERROR and state.is_final and state.error == text


def test_json_prices_as_numbers_are_exact_decimals() -> None:
    body = (
        b'{"state":[{"id_message":"1","state":"deliver","time_change_state":"",'
        b'"price_sms":12345678901234567.89,"price_viber":0.1,"price_vk":3,"num_parts_sms":2}]}'
    )
    state = parse_state(Variant.JSON, HttpResponse(200, body))
    assert state.prices == {
        Channel.SMS: Decimal("12345678901234567.89"),
        Channel.VIBER: Decimal("0.1"),
        Channel.VK: Decimal(3),
    }
    assert state.num_parts_sms == 2


@pytest.mark.parametrize("price", ["abc", "NaN", "Infinity", True, [1]])
def test_unreadable_prices_are_typed_errors(price: object) -> None:
    body = json.dumps({"state": [{"id_message": "1", "state": "deliver", "price_sms": price}]})
    with pytest.raises(CascadeResponseError, match="price_sms"):
        parse_state(Variant.JSON, HttpResponse(200, body.encode()))


def test_prices_are_summed_exactly() -> None:
    states = {
        str(i): MessageState(
            str(i),
            "deliver",
            MessageStatus.DELIVER,
            prices={Channel.SMS: Decimal("0.1"), Channel.VIBER: Decimal("12345678901234567.01")},
        )
        for i in range(3)
    }
    summary = summarize(states)
    assert summary.by_channel == {"sms": "0.3", "viber": "37037036703703701.03"}
    assert summary.grand_total == "37037036703703701.33"
    assert summary.by_state == {"deliver": 3} and summary.final == 3


@pytest.mark.parametrize("bad", ["١٢٣", "²", "12 3", "-1", "1.0", "0"])
def test_ids_asked_about_are_ascii_digits(bad: str) -> None:
    with pytest.raises(CascadeValidationError) as err:
        unique_ids(["1", bad])
    assert err.value.field == "id_message"


def test_ids_asked_about_from_a_list_or_a_comma_string() -> None:
    assert unique_ids("5, 6,5") == ["5", "6"]
    assert unique_ids([7, "8", ["9", 7]]) == ["7", "8", "9"]
    (batch,) = JsonCodec(SETTINGS).state_batches("5,6")
    assert batch.ids == ("5", "6")


@pytest.mark.parametrize("key", ["id_message", "id_sms"])
@pytest.mark.parametrize("bad", ["١٢٣", "²", "1e3", -5])
def test_ids_in_answers_are_ascii_digits(key: str, bad: object) -> None:
    codec = JsonCodec(SETTINGS)
    (batch,) = codec.send_batches([Message([SMS("Hi", "S")], [Recipient("79000000001", 1)])])
    row = {"id_message": "5", "client_id_message": "1", "phone": "79000000001", key: bad}
    with pytest.raises(CascadeResponseError, match=key):
        codec.parse_send(batch, HttpResponse(200, json.dumps({"message": [[row]]}).encode()))
    if key == "id_message":
        body = json.dumps({"state": [{"id_message": bad, "state": "deliver"}]}).encode()
        with pytest.raises(CascadeResponseError):
            parse_state(Variant.JSON, HttpResponse(200, body))


def test_json_that_looks_like_utf32_is_a_typed_error() -> None:
    body = b"\x00\x00\x00{\x00\x11\x00\x00"  # valid UTF-8; json.loads(bytes) guesses UTF-32
    with pytest.raises(CascadeResponseError):
        parse_state(Variant.JSON, HttpResponse(200, body))


# -- HTTP statuses --------------------------------------------------------------------------
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("status", [401, 403])
def test_401_and_403_are_auth_errors(variant: Variant, status: int) -> None:
    codec = make_codec(variant, SETTINGS)
    (send,) = codec.send_batches([Message([SMS("Hi", "S")], ["79000000001"])])
    (state,) = codec.state_batches(["1"])
    with pytest.raises(CascadeAuthError) as err:
        codec.parse_send(send, HttpResponse(status, b"Forbidden"))
    assert err.value.http_status == status
    with pytest.raises(CascadeAuthError):
        codec.parse_state(state, HttpResponse(status, b"{}"))


@pytest.mark.parametrize("status", [429, 500, 503])
def test_429_and_5xx_are_transient(status: int) -> None:
    (state,) = JsonCodec(SETTINGS).state_batches(["1"])
    response = HttpResponse(status, b"", {"Retry-After": "7"})
    with pytest.raises(CascadeServerError) as err:
        JsonCodec(SETTINGS).parse_state(state, response)
    assert err.value.retry_after == 7.0


# -- limits ---------------------------------------------------------------------------------
@pytest.mark.parametrize("codec_class", [JsonCodec, XmlCodec])
def test_state_batches_hold_at_most_max_state_ids(codec_class: type[JsonCodec]) -> None:
    ids = [str(i) for i in range(1, 1002)]
    sizes = [len(b.ids) for b in codec_class(SETTINGS).state_batches(ids)]
    assert sizes == [500, 500, 1]  # the default is 500
    small = CodecSettings("https://gw", LoginPassword("l", "p"), max_state_ids=3)
    batches = codec_class(small).state_batches(ids[:7])
    assert [b.ids for b in batches] == [("1", "2", "3"), ("4", "5", "6"), ("7",)]
    body = batches[0].request.body or b""
    assert body.count(b"<id_message>") + body.count(b'"id_message"') == 3  # what is sent


@pytest.mark.parametrize("limit", range(150, 200))
def test_get_urls_are_under_the_limit_and_as_full_as_it_allows(limit: int) -> None:
    settings = CodecSettings("https://gw", LoginPassword("l", "p"), max_url_length=limit)
    phones = [f"7900000{i:04d}" for i in range(40)]
    batches = GetCodec(settings).send_batches([Message([SMS("Hi", "S")], phones)])
    sent = []
    for i, batch in enumerate(batches):
        url = batch.request.url
        chunk = dict(parse_qsl(urlsplit(url).query))["phone"].split(",")
        assert len(url) < limit  # "under 2,000 characters"
        if i + 1 < len(batches):  # one more phone would have reached the limit
            assert len(url) + 1 + len(phones[len(sent) + len(chunk)]) >= limit
        sent.extend(chunk)
    assert sent == phones


def test_get_default_url_limit_is_the_documents() -> None:
    phones = [f"7900000{i:04d}" for i in range(400)]
    batches = GetCodec(SETTINGS).send_batches([Message([SMS("Hi", "S")], phones)])
    lengths = [len(b.request.url) for b in batches]
    assert max(lengths) < 2000 and max(lengths) >= 2000 - 12


@pytest.mark.parametrize(("sizes", "loads"), [((3, 3, 5), [4, 4, 3]), ((3, 2), [4, 1])])
def test_json_batches_hold_at_most_max_recipients(sizes: tuple[int, ...], loads: list[int]) -> None:
    settings = CodecSettings("https://gw", LoginPassword("l", "p"), max_recipients=4)
    messages = [Message([SMS("Hi", "S")], [f"790000000{i}" for i in range(n)]) for n in sizes]
    batches = JsonCodec(settings).send_batches(messages)
    assert [sum(len(p.message.recipients) for p in b.parts) for b in batches] == loads
    sent = [r.phone for b in batches for p in b.parts for r in p.message.recipients]
    assert sent == [r.phone for m in messages for r in m.recipients]
    if sizes != (3, 3, 5):
        return
    assert [(p.message_index, len(p.message.recipients)) for b in batches for p in b.parts] == [
        (0, 3), (1, 1), (1, 2), (2, 2), (2, 3),
    ]  # fmt: skip


def test_bases_travel_with_the_first_share_only() -> None:
    settings = CodecSettings("https://gw", LoginPassword("l", "p"), max_recipients=3)
    message = Message([SMS("Hi", "S")], [f"790000000{i}" for i in range(4)], bases=["7"])
    batches = JsonCodec(settings).send_batches([message])
    shares = [(len(p.message.recipients), len(p.message.bases)) for b in batches for p in b.parts]
    assert shares == [(2, 1), (2, 0)]


@pytest.mark.parametrize("variant", [Variant.JSON, Variant.XML])
def test_a_status_answer_lacking_an_asked_id_is_unreadable(variant: Variant) -> None:
    codec = make_codec(variant, SETTINGS)
    (batch,) = codec.state_batches(["1", "2"])
    with pytest.raises(CascadeResponseError, match="lacks 1 of 2"):
        codec.parse_state(batch, state_answer(variant, "deliver"))


# -- input ----------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["a\x00b", "a\x1bb", "\ud800", "x\udfffy", float("nan"), {"k": 1}])
def test_template_values_are_checked_like_texts(bad: object) -> None:
    with pytest.raises(CascadeValidationError) as err:
        VK(100, {"Name": bad})  # type: ignore[dict-item]
    assert err.value.field == "templateData.Name"


@pytest.mark.parametrize("field", ["text", "sender"])
def test_texts_with_lone_surrogates_are_refused(field: str) -> None:
    kwargs = {"text": "Hi", "sender": "S", field: "a\udc80"}
    with pytest.raises(CascadeValidationError) as err:
        Viber(**kwargs)
    assert err.value.field == f"{field}_viber"


def test_template_values_that_are_fine() -> None:
    vk = VK("100", {"Name": "Имя\nМосква", "n": 3, "empty": ""})
    assert dict(vk.template_data) == {"Name": "Имя\nМосква", "n": "3", "empty": ""}


def test_comma_list_is_the_one_parser() -> None:
    assert comma_list("phones", None) == []
    assert comma_list("phones", "79000000001, 79000000002,,") == ["79000000001", "79000000002"]
    assert comma_list("phones", 79000000001) == ["79000000001"]
    item = {"phone": "79000000003"}
    assert comma_list("ids", [["1", "2"], "3,4", 5, item]) == ["1", "2", "3", "4", "5", item]
    for bad in (True, b"1", {"a": 1}, 1.5):
        with pytest.raises(CascadeValidationError) as err:
            comma_list("phones", bad)
        assert err.value.field == "phones"


def test_with_recipients_keeps_or_drops_bases() -> None:
    message = Message([SMS("Hi", "S")], ["79000000001"], bases=["4"])
    other = message.with_recipients([Recipient("79000000002", 5)])
    assert [r.phone for r in other.recipients] == ["79000000002"] and other.bases == message.bases
    assert message.with_recipients(["79000000003"], bases=()).bases == ()


def test_client_ids_differ_for_a_phone_listed_twice() -> None:
    message = Message([SMS("Hi", "S")], ["79000000001", "79000000002", "79000000001"])
    (with_ids,) = with_client_ids([message], ("dag", "run", "task", -1))
    ids = [r.client_id_message for r in with_ids.recipients]
    assert len(set(ids)) == 3
    (again,) = with_client_ids([message], ("dag", "run", "task", -1))
    assert [r.client_id_message for r in again.recipients] == ids  # stable across tries
    JsonCodec(SETTINGS).send_batches([with_ids])  # the codec accepts them: no id used twice


# -- secrets (scrub itself is helper "hardening"'s; this pins the codec's use of it) -------
@pytest.mark.parametrize("variant", [Variant.JSON, Variant.XML])
def test_a_gateway_echoing_the_password_does_not_leak_it(variant: Variant) -> None:
    codec = make_codec(variant, SETTINGS)
    (batch,) = codec.send_batches([Message([SMS("Hi", "S")], [Recipient("79000000001", 1)])])
    echo = "bad password Pw$ecr3t/+x"
    if variant is Variant.JSON:
        whole = json.dumps({"error": echo}).encode()
        row = {"client_id_message": "1", "phone": "79000000001", "error": echo}
        per_row = json.dumps({"message": [[row]]}).encode()
    else:
        whole = f"<response><error>{echo}</error></response>".encode()
        per_row = (
            f'<response><message><information client_id_message="1" phone="79000000001">'
            f"{echo}</information></message></response>"
        ).encode()
    with pytest.raises(Exception) as err:
        codec.parse_send(batch, HttpResponse(200, whole))
    assert "Pw$ecr3t/+x" not in str(err.value)
    (result,) = codec.parse_send(batch, HttpResponse(200, per_row))
    assert result.error is not None and "Pw$ecr3t/+x" not in result.error


# -- a property: state rows against an oracle written here -------------------------------
@given(
    st.sampled_from([*STATE_WORDS, "Сообщение с таким ID не принималось", "oops"]),
    st.sampled_from(["", " ", "\t", "\n "]),
    st.dictionaries(
        st.sampled_from(list(Channel)),
        st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False),
        max_size=4,
    ),
    st.sampled_from([Variant.JSON, Variant.XML]),
    st.booleans(),
)
def test_state_rows_match_an_independent_reading(
    word: str, pad: str, prices: dict[Channel, Decimal], variant: Variant, as_numbers: bool
) -> None:
    fields: dict[str, object] = {}
    for channel, price in prices.items():
        number = as_numbers and variant is Variant.JSON
        fields[f"price_{channel.value}"] = float(price) if number else str(price)
    response = state_answer(variant, pad + word + pad, **fields)
    if variant is Variant.JSON and as_numbers:  # write numbers with all their digits
        text = response.body.decode()
        for channel, price in prices.items():
            text = text.replace(
                f'"price_{channel.value}": {float(price)!r}', f'"price_{channel.value}": {price}'
            )
        response = HttpResponse(200, text.encode())
    state = parse_state(variant, response)
    known = word in STATE_WORDS
    assert state.state == word
    assert state.status.value == (word if known else "error")
    assert state.is_final == (word != "send")
    assert state.error == (None if known else word)
    assert state.prices == {c: Decimal(str(p)) for c, p in prices.items()}
