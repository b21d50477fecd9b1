"""The emulator driven by hand-written HTTP requests built from the document's examples."""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import quote

from lxml import etree

from airflow_provider_cascade.testing.emulator import CascadeEmulator
from tests.golden import request_text


def post(url: str, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> bytes:
    req = urllib.request.Request(url, body, {"Content-Type": ctype, **(headers or {})})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.read()  # type: ignore[no-any-return]


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.read().decode()  # type: ignore[no-any-return]


def document_json(gw: CascadeEmulator) -> dict:  # type: ignore[type-arg]
    doc = json.loads(request_text("json_send_request.json"))
    doc["login"], doc["password"] = gw.login, gw.password
    return doc  # type: ignore[no-any-return]


def test_json_document_example(cascade_gateway: CascadeEmulator) -> None:
    gw = cascade_gateway
    gw.add_base("4", [("79990000010", "Анна"), ("79990000011", "Борис")])
    gw.add_base("5", [("79990000012", "Вера")])
    gw.add_base("6", [("79990000011", "")])
    gw.add_base("7", [])
    out = json.loads(post(gw.url + "/sendmessagejson.php", json.dumps(document_json(gw)).encode(),
                          "application/json; charset=utf-8"))  # fmt: skip
    first, second, third = out["message"]
    phones = [row["phone"] for row in first]
    assert phones == ["79801234567", "79800000001", "79990000010", "79990000011", "79990000012"]
    assert first[3]["error"] == "Номер телефона присутствует в стоп-листе."
    assert first[2]["base"] == "4" and first[2]["id_message"].isdigit()
    assert second[0]["client_id_message"] == "113"
    assert "error" in third  # the document's third message has no send_* flag
    anna = next(d for d in gw.deliveries if d.phone == "79990000010")
    assert anna.received["text_viber"] == "ТЕКСТ_ВАЙБЕР"


def test_placeholders_filled_from_base(cascade_gateway: CascadeEmulator) -> None:
    gw = cascade_gateway
    gw.add_base("9", [("79990000020", "Анна")])
    doc = {"login": gw.login, "password": gw.password, "message": [{
        "send_sms": "1", "sender_sms": "Shop", "text_sms": "Привет, #name#! Ваш номер #number#",
        "base": [{"base": "9"}]}]}  # fmt: skip
    post(gw.url + "/sendmessagejson.php", json.dumps(doc).encode(), "application/json")
    (delivery,) = gw.deliveries
    assert delivery.received["text_sms"] == "Привет, Анна! Ваш номер 79990000020"


def test_xml_document_example(cascade_gateway: CascadeEmulator) -> None:
    gw = cascade_gateway
    text = request_text("xml_send_request.xml")
    text = text.replace('<login value="login"', f'<login value="{gw.login}"')
    text = text.replace('<password value="password"', f'<password value="{gw.password}"')
    one_line = "".join(line.strip() for line in text.splitlines()).encode()
    root = etree.fromstring(post(gw.url + "/xml/message.php", one_line, "text/xml; charset=utf-8"))
    messages = root.findall("message")
    assert len(messages) == 3
    infos = messages[0].findall("information")
    assert [i.get("phone") for i in infos] == ["79801234567", "79800000001"]
    assert all(i.get("id_message") for i in infos) and infos[0].text == "send"
    assert messages[2].find("error") is not None
    # a document with line breaks is refused as the document demands
    refused = etree.fromstring(post(gw.url + "/xml/message.php", text.encode(), "text/xml"))
    assert refused.tag == "response" and "XML" in (refused.findtext("error") or "")


def test_get_send_and_state(cascade_gateway: CascadeEmulator) -> None:
    gw = cascade_gateway
    url = request_text("get_send_url.txt").strip().replace("https://имя_хоста", gw.url)
    url = url.replace("login=login", f"login={gw.login}").replace(
        "password=password", f"password={gw.password}"
    )
    scheme_host, query = url.split("?", 1)
    encoded = "&".join(
        f"{k}={quote(v, safe=',')}" for k, v in (p.split("=", 1) for p in query.split("&"))
    )
    ids = get(
        f"{scheme_host}?{encoded}".replace("phone=79000000001", "phone=79000000001,79000000002")
    )
    assert len(ids.split(",")) == 2 and all(i.isdigit() for i in ids.split(","))
    state = get(
        f"{gw.url}/sendmessage.php?login=demo&password=demo-secret&id_message={ids.split(',')[0]}"
    )
    assert state in ("send", "deliver")
    bad = get(f"{gw.url}/sendmessage.php?login=demo&password=nope&id_message=1")
    assert bad == "Неправильный логин или пароль"
    unsupported = get(
        f"{gw.url}/sendmessage.php?login=demo&password=demo-secret&phone=79000000001&send_sms=1&text_sms=x&sender_sms=s&time_send=2030-01-01%2010:00"
    )
    assert "time_send" in unsupported


def test_states_prices_and_time_scale(cascade_gateway: CascadeEmulator) -> None:
    gw = cascade_gateway
    gw.set_time_scale(1.0)
    doc = {"login": gw.login, "password": gw.password, "message": [{
        "send_viber": "1", "send_sms": "2", "sender_viber": "S", "text_viber": "hi",
        "sender_sms": "S", "text_sms": "ж" * 71,
        "phones": [{"phone": "79000000001"}, {"phone": "79000000005"}, {"phone": "79000000006"}]}]}  # fmt: skip
    rows = json.loads(
        post(gw.url + "/sendmessagejson.php", json.dumps(doc).encode(), "application/json")
    )["message"][0]
    ids = [r["id_message"] for r in rows]
    ask = json.dumps(
        {"login": gw.login, "password": gw.password, "state": [{"id_message": i} for i in ids]}
    ).encode()
    before = json.loads(post(gw.url + "/sendmessagejson.php", ask, "application/json"))["state"]
    assert [s["state"] for s in before] == ["send", "send", "send"]
    gw.set_time_scale(36_000)
    import time

    time.sleep(gw.behaviour.repeat_window + 0.1)  # the same query again: after the window
    after = {
        s["id_message"]: s
        for s in json.loads(post(gw.url + "/sendmessagejson.php", ask, "application/json"))["state"]
    }
    delivered, fallthrough, failed = (after[i] for i in ids)
    assert delivered["state"] == "deliver" and delivered["price_viber"] == "0.55"
    assert fallthrough["state_viber"] == "not_deliver" and fallthrough["state_sms"] == "deliver"
    assert fallthrough["num_parts_sms"] == "2" and fallthrough["price_sms"] == "4.10"
    assert failed["state"] == "not_deliver"
    xml_ask = (f'<?xml version="1.0" encoding="utf-8"?><request><security><login value="{gw.login}"/>'
               f'<password value="{gw.password}"/></security><state><id_message>{ids[0]}</id_message>'
               "<id_message>42</id_message></state></request>").encode()  # fmt: skip
    states = etree.fromstring(post(gw.url + "/xml/state_message.php", xml_ask, "text/xml"))
    assert [s.text for s in states] == ["deliver", "Сообщение с таким ID не принималось"]


def test_token_instead_of_login(cascade_gateway: CascadeEmulator) -> None:
    gw = cascade_gateway
    doc = {"message": [{"send_sms": "1", "sender_sms": "S", "text_sms": "x",
                        "phones": [{"phone": "79000000001", "client_id_message": "77"}]}]}  # fmt: skip
    auth = {"Authorization": f"Bearer {gw.token}"}
    first = json.loads(
        post(gw.url + "/sendmessagejson.php", json.dumps(doc).encode(), "application/json", auth)
    )
    assert first["message"][0][0]["id_message"].isdigit()
    ask = json.dumps({"state": [{"id_message": "1"}]}).encode()
    wrong = json.loads(
        post(
            gw.url + "/sendmessagejson.php", ask, "application/json", {"Authorization": "Bearer x"}
        )
    )
    assert wrong == {"error": "Неправильный логин или пароль"}


def test_strict_parsing(cascade_gateway: CascadeEmulator) -> None:
    gw = cascade_gateway
    creds = {"login": gw.login, "password": gw.password}
    bad_type = json.loads(post(gw.url + "/sendmessagejson.php", b"{}", "text/plain"))
    assert "Content-Type" in bad_type["error"]
    unknown = json.dumps({**creds, "message": [{"send_sms": "1", "colour": "red"}]}).encode()
    assert (
        "colour"
        in json.loads(post(gw.url + "/sendmessagejson.php", unknown, "application/json"))["error"]
    )
    doctype = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "x">]><request/>'
    assert etree.fromstring(post(gw.url + "/xml/message.php", doctype, "text/xml")).findtext(
        "error"
    )


def test_inspection_endpoint_and_faults(cascade_gateway: CascadeEmulator) -> None:
    gw = cascade_gateway
    stats = json.loads(get(gw.url + "/_emulator/stats"))
    assert stats["requests"] == 0
    gw.faults.fail_next(1, status=503, retry_after=2)
    req = urllib.request.Request(
        gw.url + "/sendmessagejson.php", b"{}", {"Content-Type": "application/json"}
    )
    try:
        urllib.request.urlopen(req, timeout=5)
        raise AssertionError("expected HTTP 503")
    except urllib.error.HTTPError as exc:
        assert exc.code == 503 and exc.headers["Retry-After"] == "2"
    assert json.loads(get(gw.url + "/_emulator/stats"))["requests"] == 1


def test_prefix_and_cli_help() -> None:
    import subprocess
    import sys

    with CascadeEmulator(prefix="/api") as gw:
        assert gw.url.endswith("/api")
        assert "Неправильный" in get(gw.url + "/sendmessage.php?login=x&password=y&id_message=1")
    out = subprocess.run([sys.executable, "-m", "airflow_provider_cascade.testing.cli", "--help"],
                         capture_output=True, text=True, check=True)  # fmt: skip
    assert "--time-scale" in out.stdout


def test_steered_viber_link_and_unsubscribe(cascade_gateway: CascadeEmulator) -> None:
    gw = cascade_gateway
    gw.steer(r"1$", "link")
    gw.steer(r"2$", "unsubscribe")
    doc = {"login": gw.login, "password": gw.password, "message": [{
        "send_viber": "1", "sender_viber": "S", "text_viber": "hi",
        "phones": [{"phone": "79000000001"}, {"phone": "79000000002"}]}]}  # fmt: skip
    rows = json.loads(
        post(gw.url + "/sendmessagejson.php", json.dumps(doc).encode(), "application/json")
    )["message"][0]
    import time

    time.sleep(0.05)
    assert [gw.state(r["id_message"])["state_viber"] for r in rows] == ["link", "unsubscribe"]
    assert all(gw.state(r["id_message"])["state"] == "deliver" for r in rows)
