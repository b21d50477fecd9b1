"""The once-a-minute rule (on everywhere, scaled like the clock), repeated client ids
answered either way, and the inspection helpers and faults the ledger tests rely on."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from airflow_provider_cascade.testing.emulator import CascadeEmulator, scaled_repeat_window
from airflow_provider_cascade.testing.pytest_plugin import FIXTURE_REPEAT_WINDOW
from tests.emulator._http import JSON, XML, creds, get, post, post_json, raw_request, sms, xml_doc

REPEAT = "Попытка отправки более одного одинакового запроса в течение минуты"
DUPLICATE = "Данное сообщение уже было отправлено."


def wait_window(gw: CascadeEmulator) -> None:
    time.sleep(gw.behaviour.repeat_window + 0.05)


# -- the window: on by default everywhere ---------------------------------------------------
def test_window_on_by_default_and_scaled_like_the_clock() -> None:
    assert CascadeEmulator().behaviour.repeat_window == 60.0  # real time: the document's minute
    assert CascadeEmulator(time_scale=6).behaviour.repeat_window == 10.0
    assert CascadeEmulator(time_scale=36_000).behaviour.repeat_window == 1.0  # never under 1 s
    assert scaled_repeat_window(600) == 1.0
    assert CascadeEmulator(repeat_window=0).behaviour.repeat_window == 0  # only when asked


def test_fixture_window(cascade_gateway: CascadeEmulator) -> None:
    assert cascade_gateway.behaviour.repeat_window == FIXTURE_REPEAT_WINDOW == 1.0


def test_cli_window_on_by_default() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "airflow_provider_cascade.testing.cli", "--print-conn", "json"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    conn = json.loads(out.stdout)
    assert conn["extra"]["repeat_window"] == 1.0  # one gateway minute at x600, at least 1 s
    assert conn["port"] == 8765


def test_conn_uri_tells_the_provider_the_window(cascade_gateway: CascadeEmulator) -> None:
    gw = cascade_gateway
    assert json.loads(gw.conn_uri("xml"))["extra"]["repeat_window"] == 1.0
    query = parse_qs(urlsplit(gw.conn_url("get")).query)
    assert query["repeat_window"] == ["1"]
    gw.behaviour.repeat_window = 2.5
    assert json.loads(gw.conn_uri())["extra"]["repeat_window"] == 2.5


@pytest.mark.parametrize("variant", ["json", "xml", "get"])
def test_status_query_repeated_at_once_is_refused(
    cascade_gateway: CascadeEmulator, variant: str
) -> None:
    gw = cascade_gateway

    def ask() -> str:
        if variant == "json":
            doc = {**creds(gw), "state": [{"id_message": "42"}]}
            answer = post_json(gw, doc)
            return str(answer.get("error") or answer["state"][0]["state"])
        if variant == "xml":
            body = xml_doc(gw, "<state><id_message>42</id_message></state>").encode()
            return post(gw.url + "/xml/state_message.php", body, XML).decode()
        return get(f"{gw.url}/sendmessage.php?login=demo&password=demo-secret&id_message=42")

    first = ask()
    assert REPEAT not in first
    again = ask()
    assert REPEAT in again
    if variant == "get":
        assert again == f"error: {REPEAT}"  # the document prints it so
    wait_window(gw)
    assert REPEAT not in ask()
    assert gw.counters["repeat_refused"] == 1


@pytest.mark.parametrize("variant", ["json", "xml", "get"])
def test_send_resent_at_once_is_refused_and_not_sent(
    cascade_gateway: CascadeEmulator, variant: str
) -> None:
    """A send whose answer was lost, resent byte for byte at once, is refused: the refusal
    says nothing about the first copy, which the gateway did accept."""
    gw = cascade_gateway
    gw.faults.drop_after_accept_next(1, on="send")
    if variant == "get":
        url = (f"{gw.url}/sendmessage.php?login=demo&password=demo-secret&phone=79000000001"
               "&send_sms=1&sender_sms=S&text_sms=x")  # fmt: skip
        head = f"GET {url[len(gw.url) :]} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        assert raw_request(gw, head) == b""  # accepted, then the answer was lost
        assert get(url) == f"error: {REPEAT}"
    else:
        if variant == "json":
            body = json.dumps({**creds(gw), "message": [sms(phones=[
                {"phone": "79000000001", "client_id_message": "5"}])]}).encode()  # fmt: skip
            path, ctype = "/sendmessagejson.php", JSON
        else:
            body = xml_doc(gw, "<message><send_sms>1</send_sms><sender_sms>S</sender_sms>"
                               "<text_sms>x</text_sms><abonent phone=\"79000000001\" "
                               "client_id_message=\"5\"/></message>").encode()  # fmt: skip
            path, ctype = "/xml/message.php", XML
        head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()  # fmt: skip
        assert raw_request(gw, head, body) == b""
        assert REPEAT in post(gw.url + path, body, ctype).decode()
        wait_window(gw)
        again = post(gw.url + path, body, ctype).decode()
        assert DUPLICATE in again  # after the window: the client id is known, not sent again
    assert gw.accepted_per_phone() == {"79000000001": 1}
    assert gw.duplicates() == {}


def test_different_bytes_are_a_different_request(cascade_gateway: CascadeEmulator) -> None:
    gw = cascade_gateway
    ask = {**creds(gw), "state": [{"id_message": "1"}, {"id_message": "2"}]}
    post_json(gw, ask)
    assert "error" not in post_json(gw, {**ask, "state": ask["state"][::-1]})
    assert "error" not in post_json(gw, {**creds(gw), "state": [{"id_message": "1"}]})
    assert post_json(gw, ask) == {"error": REPEAT}


# -- repeated client ids ------------------------------------------------------------------
@pytest.mark.parametrize("answer", ["with_id", "without_id"])
def test_repeated_client_id_is_never_sent_again(
    cascade_gateway: CascadeEmulator, answer: str
) -> None:
    gw = cascade_gateway
    gw.behaviour.duplicate_answer = answer
    doc = {
        **creds(gw),
        "message": [sms(phones=[{"phone": "79000000001", "client_id_message": "9"}])],
    }
    (first,) = post_json(gw, doc)["message"][0]
    doc["message"][0]["text_sms"] = "other bytes, same client id"
    (again,) = post_json(gw, doc)["message"][0]
    if answer == "with_id":
        assert again == {"id_message": first["id_message"], "client_id_message": "9",
                         "phone": "79000000001", "error": DUPLICATE}  # fmt: skip
    else:
        assert again == {"client_id_message": "9", "phone": "79000000001", "error": DUPLICATE}
    xml = xml_doc(gw, '<message><send_sms>1</send_sms><sender_sms>S</sender_sms><text_sms>x'
                      '</text_sms><abonent phone="79000000001" client_id_message="9"/></message>')  # fmt: skip
    info = post(gw.url + "/xml/message.php", xml.encode(), XML).decode()
    assert DUPLICATE in info and (f'id_message="{first["id_message"]}"' in info) == (
        answer == "with_id"
    )
    assert gw.accepted_per_client_id() == {"9": 1}
    assert gw.accepted_per_phone() == {"79000000001": 1}
    assert gw.counters["duplicates_refused"] == 2


def test_duplicate_answer_set_at_construction_and_old_spelling() -> None:
    gw = CascadeEmulator(duplicate_answer="without_id")
    assert gw.behaviour.duplicate_answer == "without_id"
    gw.behaviour.duplicate_reply = "earlier_id"  # the old name still steers it
    assert gw.behaviour.duplicate_answer == "with_id"
    with pytest.raises(ValueError, match="duplicate_answer"):
        CascadeEmulator(duplicate_answer="maybe")


def test_duplicates_and_counts_per_phone(cascade_gateway: CascadeEmulator) -> None:
    gw = cascade_gateway
    post_json(gw, {**creds(gw), "message": [sms(phones=[
        {"phone": "79000000001", "client_id_message": "1"},
        {"phone": "79000000001", "client_id_message": "2"},
        {"phone": "79000000002", "client_id_message": "3"}])]})  # fmt: skip
    assert gw.duplicates() == {"79000000001": 2}
    assert gw.accepted_per_client_id() == {"1": 1, "2": 1, "3": 1}


# -- faults the ledger tests need ---------------------------------------------------------
def test_drop_after_accept_counts_accepted_sends_only(cascade_gateway: CascadeEmulator) -> None:
    gw = cascade_gateway
    gw.faults.drop_after_accept_next(2, on="send")
    assert "state" in post_json(gw, {**creds(gw), "state": [{"id_message": "1"}]})  # passes by
    refused = post_json(gw, {"login": "demo", "password": "wrong", "message": [sms()]})
    assert refused == {"error": "Неправильный логин или пароль"}  # refused: not used up
    for phone in ("79000000001", "79000000002"):
        body = json.dumps({**creds(gw), "message": [sms(phone)]}).encode()
        head = (b"POST /sendmessagejson.php HTTP/1.1\r\nHost: x\r\nContent-Type: "
                b"application/json\r\nContent-Length: %d\r\n\r\n" % len(body))  # fmt: skip
        assert raw_request(gw, head, body) == b""
    assert gw.faults.pending == 0
    assert "message" in post_json(gw, {**creds(gw), "message": [sms("79000000003")]})
    assert sorted(gw.accepted_per_phone()) == ["79000000001", "79000000002", "79000000003"]


def test_queued_fault_for_one_kind(cascade_gateway: CascadeEmulator) -> None:
    gw = cascade_gateway
    gw.faults.reply_next(b"<html>busy</html>", status=503, content_type="text/html", on="state")
    assert "message" in post_json(gw, {**creds(gw), "message": [sms()]})  # the send passes by
    with pytest.raises(Exception, match="503"):
        post_json(gw, {**creds(gw), "state": [{"id_message": "1"}]})
    assert gw.faults.pending == 0
    with pytest.raises(ValueError):
        gw.faults.reset_next(on="other")


def test_drop_after_accept_of_a_status_query(cascade_gateway: CascadeEmulator) -> None:
    gw = cascade_gateway
    gw.faults.drop_after_accept_next(1)  # any kind: the status query is processed, unanswered
    body = json.dumps({**creds(gw), "state": [{"id_message": "1"}]}).encode()
    head = (b"POST /sendmessagejson.php HTTP/1.1\r\nHost: x\r\nContent-Type: "
            b"application/json\r\nContent-Length: %d\r\n\r\n" % len(body))  # fmt: skip
    assert raw_request(gw, head, body) == b""
    assert gw.counters["state_queries"] == 1 and gw.faults.pending == 0


def test_reset_restores_every_setting(cascade_gateway: CascadeEmulator) -> None:
    gw = cascade_gateway
    gw.behaviour.repeat_window = 0
    gw.behaviour.duplicate_answer = "without_id"
    gw.set_time_scale(1)
    gw.steer("1$", "expired")
    gw.faults.drop_after_accept_next(3)
    gw.reset()
    assert gw.behaviour.repeat_window == 1.0 and gw.behaviour.duplicate_answer == "with_id"
    assert gw.behaviour.time_scale == 36_000 and gw.behaviour.outcome_rules == []
    assert gw.faults.pending == 0
