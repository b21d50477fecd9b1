"""The emulator refuses what CascadingDoc.txt rules out, in the document's error shapes, and
never drops a connection without an answer (issue 14 items 16-18)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from urllib.parse import quote

import pytest
from lxml import etree

from airflow_provider_cascade.testing.emulator import CascadeEmulator
from tests.emulator._http import (
    JSON,
    XML,
    creds,
    get,
    post,
    post_json,
    post_xml,
    raw_request,
    security,
    sms,
    xml_doc,
)

XML_SMS = "<send_sms>1</send_sms><sender_sms>S</sender_sms><text_sms>x</text_sms>"
ABONENT = '<abonent phone="79000000001"/>'


def json_error(gw: CascadeEmulator, document: object, ctype: str = JSON) -> str:
    """The whole-request error text, or the first message's error text."""
    answer = post_json(gw, document, ctype)
    if "error" in answer:
        return str(answer["error"])
    (item,) = answer["message"]
    assert isinstance(item, dict), f"accepted: {answer}"
    return str(item["error"])


def xml_error(gw: CascadeEmulator, body: str | bytes, path: str = "xml/message.php",
              ctype: str = XML) -> str:  # fmt: skip
    root = post_xml(gw, body, path, ctype)
    assert root.tag == "response"
    error = root.find("error")
    if error is None:
        error = root.find("message/error")
    assert error is not None, etree.tostring(root)
    return error.text or ""


def get_error(gw: CascadeEmulator, query: str) -> str:
    return get(f"{gw.url}/sendmessage.php?login={gw.login}&password={gw.password}&{query}")


def json_raw(gw: CascadeEmulator, text: str) -> str:
    return json_error(gw, text.replace("LOGIN", gw.login).replace("PASSWORD", gw.password).encode())


SMS_JSON = '{"send_sms":"1","sender_sms":"S","text_sms":"x","phones":[{"phone":"79000000001"}]}'

CASES: dict[str, Callable[[CascadeEmulator], str]] = {
    # content types and charsets
    "json text/plain": lambda gw: json_error(gw, {**creds(gw), "message": [sms()]}, "text/plain"),
    "json charset cp1251": lambda gw: json_error(
        gw, {**creds(gw), "message": [sms()]}, "application/json; charset=windows-1251"),
    "json application/jsonx": lambda gw: json_error(
        gw, {**creds(gw), "message": [sms()]}, "application/jsonx"),
    "xml application/xml": lambda gw: xml_error(
        gw, xml_doc(gw, f"<message>{XML_SMS}{ABONENT}</message>"), ctype="application/xml"),
    "xml charset koi8-r": lambda gw: xml_error(
        gw, xml_doc(gw, f"<message>{XML_SMS}{ABONENT}</message>"),
        ctype="text/xml; charset=koi8-r"),
    "xml declared cp1251": lambda gw: xml_error(
        gw, xml_doc(gw, f"<message>{XML_SMS}{ABONENT}</message>").replace(
            'encoding="utf-8"', 'encoding="windows-1251"')),
    "json not utf-8": lambda gw: json_error(
        gw, json.dumps({**creds(gw), "message": [sms(text_sms="Привет")]},
                       ensure_ascii=False).encode("cp1251")),
    # duplicate keys and elements
    "json duplicate top-level key": lambda gw: json_raw(
        gw, '{"login":"LOGIN","login":"LOGIN","password":"PASSWORD","message":[' + SMS_JSON + "]}"),
    "json duplicate message field": lambda gw: json_raw(
        gw, '{"login":"LOGIN","password":"PASSWORD","message":[{"send_sms":"1","send_sms":"2",'
        '"sender_sms":"S","text_sms":"x","phones":[{"phone":"79000000001"}]}]}'),
    "json duplicate templateData key": lambda gw: json_raw(
        gw, '{"login":"LOGIN","password":"PASSWORD","message":[{"send_vk":"1","templateId":"1",'
        '"templateData":{"a":"1","a":"2"},"phones":[{"phone":"79000000001"}]}]}'),
    "xml duplicate field": lambda gw: xml_error(
        gw, xml_doc(gw, f"<message>{XML_SMS}<text_sms>y</text_sms>{ABONENT}</message>")),
    "xml duplicate security": lambda gw: xml_error(
        gw, xml_doc(gw, f"{security(gw)}<message>{XML_SMS}{ABONENT}</message>")),
    "xml duplicate login": lambda gw: xml_error(
        gw, xml_doc(gw, f"<message>{XML_SMS}{ABONENT}</message>").replace(
            "<security>", f'<security><login value="{gw.login}"/>')),
    "xml duplicate templateData element": lambda gw: xml_error(
        gw, xml_doc(gw, "<message><send_vk>1</send_vk><templateId>1</templateId><templateData>"
                        f"<a>1</a><a>2</a></templateData>{ABONENT}</message>")),
    # field values the document rules out
    "json validity_period_viber abc": lambda gw: json_error(gw, {**creds(gw), "message": [{
        "send_viber": "1", "sender_viber": "S", "text_viber": "x",
        "validity_period_viber": "abc", "phones": [{"phone": "79000000001"}]}]}),
    "xml validity_period_whatsapp 0": lambda gw: xml_error(
        gw, xml_doc(gw, "<message><send_whatsapp>1</send_whatsapp><text_whatsapp>x"
                        "</text_whatsapp><validity_period_whatsapp>0</validity_period_whatsapp>"
                        f"{ABONENT}</message>")),
    "get validity_period_viber abc": lambda gw: get_error(
        gw, "phone=79000000001&send_viber=1&sender_viber=S&text_viber=x"
            "&validity_period_viber=abc"),
    "json finale_viber_read 2": lambda gw: json_error(gw, {**creds(gw), "message": [{
        "send_viber": "1", "sender_viber": "S", "text_viber": "x",
        "finale_viber_read": "2", "phones": [{"phone": "79000000001"}]}]}),
    "get finale_viber_read 2": lambda gw: get_error(
        gw, "phone=79000000001&send_viber=1&sender_viber=S&text_viber=x&finale_viber_read=2"),
    "json send_sms arabic digit": lambda gw: json_error(
        gw, {**creds(gw), "message": [sms(send_sms="١")]}),
    "json client id 2^63": lambda gw: json_error(gw, {**creds(gw), "message": [{
        **sms(), "phones": [{"phone": "79000000001", "client_id_message": str(2**63)}]}]}),
    "xml client id 2^64": lambda gw: xml_error(
        gw, xml_doc(gw, f'<message>{XML_SMS}<abonent phone="79000000001" '
                        f'client_id_message="{2**64}"/></message>')),
    "json client id superscript": lambda gw: json_error(gw, {**creds(gw), "message": [{
        **sms(), "phones": [{"phone": "79000000001", "client_id_message": "12²"}]}]}),
    "json nested templateData": lambda gw: json_error(gw, {**creds(gw), "message": [{
        "send_vk": "1", "templateId": "1", "templateData": {"a": {"b": "c"}},
        "phones": [{"phone": "79000000001"}]}]}),
    "xml nested templateData": lambda gw: xml_error(
        gw, xml_doc(gw, "<message><send_vk>1</send_vk><templateId>1</templateId><templateData>"
                        f"<a><b>c</b></a></templateData>{ABONENT}</message>")),
    "get nested templateData": lambda gw: get_error(
        gw, "phone=79000000001&send_vk=1&templateId=1&templateData="
            + quote(json.dumps({"a": {"b": "c"}}))),
    "get templateData duplicate key": lambda gw: get_error(
        gw, "phone=79000000001&send_vk=1&templateId=1&templateData="
            + quote('{"a":"1","a":"2"}')),
    "json time_send 25:99": lambda gw: json_error(
        gw, {**creds(gw), "message": [sms(time_send="2017-11-23 25:99")]}),
    "xml time_send 2017-02-30": lambda gw: xml_error(
        gw, xml_doc(gw, f"<message>{XML_SMS}<time_send>2017-02-30 10:00</time_send>"
                        f"{ABONENT}</message>")),
    "json base time_send 24:00": lambda gw: json_error(gw, {**creds(gw), "message": [{
        "send_sms": "1", "sender_sms": "S", "text_sms": "x",
        "base": [{"base": "1", "time_send": "2030-01-01 24:00"}]}]}),
    # documents of the wrong shape
    "json empty state list": lambda gw: json_error(gw, {**creds(gw), "state": []}),
    "json state id arabic digits": lambda gw: json_error(
        gw, {**creds(gw), "state": [{"id_message": "١٢٣"}]}),
    "json login a number": lambda gw: json_error(
        gw, {"login": 12, "password": gw.password, "message": [sms()]}),
    "json NaN": lambda gw: json_raw(
        gw, '{"login":"LOGIN","password":"PASSWORD","message":[{"send_sms":NaN}]}'),
    "json no post data": lambda gw: json_error(gw, b""),
    "xml login without value": lambda gw: xml_error(
        gw, f'<?xml version="1.0" encoding="utf-8"?><request><security><login>{gw.login}</login>'
            f'<password value="{gw.password}"/></security><message>{XML_SMS}{ABONENT}</message>'
            "</request>"),
    "xml password without value": lambda gw: xml_error(
        gw, f'<?xml version="1.0" encoding="utf-8"?><request><security><login value="{gw.login}"'
            f'/><password/></security><message>{XML_SMS}{ABONENT}</message></request>'),
    "xml text between elements": lambda gw: xml_error(
        gw, xml_doc(gw, f"<message>junk{XML_SMS}{ABONENT}</message>")),
    "xml unknown attribute": lambda gw: xml_error(
        gw, xml_doc(gw, f'<message priority="1">{XML_SMS}{ABONENT}</message>')),
    "xml abonent with text": lambda gw: xml_error(
        gw, xml_doc(gw, f'<message>{XML_SMS}<abonent phone="79000000001">x</abonent></message>')),
    "xml state id padded": lambda gw: xml_error(
        gw, xml_doc(gw, "<state><id_message> 1 </id_message></state>"), "xml/state_message.php"),
    "xml no post data": lambda gw: xml_error(gw, b""),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_refused_in_the_documents_shape(cascade_gateway: CascadeEmulator, case: str) -> None:
    text = CASES[case](cascade_gateway)
    assert text and text not in ("send", "deliver") and not text.isdigit(), text
    assert text != "Неправильный логин или пароль"  # refused for its form, not its login
    assert cascade_gateway.deliveries == []
    assert cascade_gateway.internal_errors == []


def test_what_the_document_allows_is_accepted(cascade_gateway: CascadeEmulator) -> None:
    """The document's own forms stay accepted: a bare ``application/json`` (its PHP example),
    tabs between XML elements, the largest signed 64-bit client id, flags 0 and 1."""
    gw = cascade_gateway
    ok = post_json(gw, {**creds(gw), "message": [{
        **sms(validity_period_viber="90", finale_viber_read="0"),
        "phones": [{"phone": "79000000001", "client_id_message": str(2**63 - 1)}]}]},
        "application/json")  # fmt: skip
    assert ok["message"][0][0]["id_message"].isdigit()
    root = post_xml(gw, xml_doc(gw, f"<message>\t{XML_SMS}\t<finale_viber_read>1"
                                    f"</finale_viber_read>{ABONENT}</message>"),
                    ctype="text/xml; charset=UTF-8")  # fmt: skip
    assert root.find("message/information").get("id_message").isdigit()  # type: ignore[union-attr]
    assert len(gw.deliveries) == 2


def test_get_url_longer_than_2000_characters(cascade_gateway: CascadeEmulator) -> None:
    """«Не стоит использовать URL длиной более 2,000 символов»: 2,000 is the last accepted."""
    gw = cascade_gateway
    head = (f"{gw.url}/sendmessage.php?login={gw.login}&password={gw.password}"
            "&phone=79000000001&send_sms=1&sender_sms=S&text_sms=")  # fmt: skip
    at_limit = head + "x" * (2000 - len(head))
    assert len(at_limit) == 2000
    assert get(at_limit).isdigit()
    over = get(at_limit.replace("phone=79000000001", "phone=79000000002") + "y")
    assert "2000" in over and not over.isdigit()
    assert [d.phone for d in gw.deliveries] == ["79000000001"]


def test_unknown_id_rows_carry_every_field_empty(cascade_gateway: CascadeEmulator) -> None:
    gw = cascade_gateway
    fields = ["id_message", "time_change_state", "state", "state_sms", "state_viber",
              "state_whatsapp", "state_vk", "num_parts_sms", "price_sms", "price_viber",
              "price_whatsapp", "price_vk"]  # fmt: skip
    (row,) = post_json(gw, {**creds(gw), "state": [{"id_message": "42"}]})["state"]
    assert list(row) == fields
    assert row == {**dict.fromkeys(fields, ""), "id_message": "42",
                   "state": "Сообщение с таким ID не принималось"}  # fmt: skip
    root = post_xml(gw, xml_doc(gw, "<state><id_message>42</id_message></state>"),
                    "xml/state_message.php")  # fmt: skip
    (state,) = root.findall("state")
    assert dict(state.attrib) == {**dict.fromkeys(fields[:2] + fields[3:], ""), "id_message": "42"}
    assert state.text == "Сообщение с таким ID не принималось"


@pytest.mark.parametrize(
    "head",
    [
        b"POST /sendmessagejson.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: abc\r\n\r\n",
        b"POST /sendmessagejson.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: -5\r\n\r\n",
        b"POST /sendmessagejson.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
    ids=["letters", "negative", "bad-chunk"],
)
def test_bad_framing_is_answered_not_dropped(cascade_gateway: CascadeEmulator, head: bytes) -> None:
    answer = raw_request(cascade_gateway, head)
    assert answer.startswith(b"HTTP/1.1 400"), answer
    assert cascade_gateway.internal_errors == []


def test_chunked_body_is_read(cascade_gateway: CascadeEmulator) -> None:
    gw = cascade_gateway
    body = json.dumps({**creds(gw), "message": [sms()]}).encode()
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    answer = raw_request(gw, b"POST /sendmessagejson.php HTTP/1.1\r\nHost: x\r\n"
                             b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                             b"Connection: close\r\n\r\n", chunked)  # fmt: skip
    assert answer.startswith(b"HTTP/1.1 200") and b'"id_message"' in answer
    assert len(gw.deliveries) == 1


def test_an_emulator_bug_is_a_500_not_silence(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever goes wrong inside, the client hears an answer; the traceback is kept for the
    test that caused it. (The one place a function is patched: to plant a bug.)"""
    gw = cascade_gateway

    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(gw.gateway, "authenticate", broken)
    answer = raw_request(gw, b"GET /sendmessage.php?login=a&password=b&id_message=1 HTTP/1.1"
                             b"\r\nHost: x\r\n\r\n")  # fmt: skip
    assert answer.startswith(b"HTTP/1.1 500")
    (trace,) = gw.internal_errors
    assert "boom" in trace
    gw.reset()  # or the fixture fails this test for the emulator's failure


def test_document_examples_still_pass(cascade_gateway: CascadeEmulator) -> None:
    """The strict reader takes the document's own XML status example verbatim (one line)."""
    gw = cascade_gateway
    body = (f'<?xml version="1.0" encoding="utf-8" ?><request>{security(gw)}<state>'
            "\t<id_message>111</id_message>\t<id_message>112</id_message></state></request>")  # fmt: skip
    root = etree.fromstring(post(gw.url + "/xml/state_message.php", body.encode(), XML))
    assert [s.get("id_message") for s in root.findall("state")] == ["111", "112"]


def test_a_client_that_gave_up_is_not_an_emulator_error(cascade_gateway: CascadeEmulator) -> None:
    """A slow answer written to a client that timed out (broken pipe) is the client's
    business, not a failure of the emulator."""
    import socket
    import urllib.request

    gw = cascade_gateway
    gw.faults.slow_next(1, seconds=0.5)
    with pytest.raises((TimeoutError, socket.timeout, OSError)):
        urllib.request.urlopen(f"{gw.url}/sendmessage.php?id_message=1", timeout=0.1)
    time.sleep(0.8)
    assert gw.internal_errors == []
