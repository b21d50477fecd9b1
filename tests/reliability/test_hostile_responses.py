"""Broken or hostile answers in every variant end in a typed CascadeError with a useful
message and no secret; nothing else escapes."""

from __future__ import annotations

import json
import logging
from collections import Counter
from typing import Any

import pytest

from airflow_provider_cascade.clients import RetryPolicy
from airflow_provider_cascade.gateway import (
    SMS,
    CascadeError,
    CascadeResponseError,
    CascadeServerError,
    CascadeTransportError,
    Message,
)
from airflow_provider_cascade.hooks.cascade import CascadeHook
from airflow_provider_cascade.testing.emulator import CascadeEmulator

SECRET = "pw-Hostile-Secret-77"
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    b"<response><error>&lol3;</error></response>"
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b"<response><error>&xxe;</error></response>"
)
# (name, body, status, content type, expected error class, words in the message)
BODIES: list[tuple[str, bytes, int, str, type[CascadeError], str]] = [
    ("empty body", b"", 200, "text/plain", CascadeError, ""),
    ("HTML error page", b"<html><body>502 Bad Gateway</body></html>", 200, "text/html", CascadeError, ""),
    ("truncated JSON", b'{"message":[[{"id_message":"1","phone"', 200, "application/json", CascadeError, ""),
    ("JSON list", b"[]", 200, "application/json", CascadeError, ""),
    ("JSON wrong shape", b'{"result": "ok"}', 200, "application/json", CascadeError, ""),
    ("object where a string goes", b'{"message":[[{"id_message":{"x":1},"phone":"79000000001"}]],'
     b'"state":[{"id_message":{"x":1},"state":"deliver"}]}', 200, "application/json", CascadeError, ""),
    ("message list too long", b'{"message":[[],[]],"state":[]}', 200, "application/json", CascadeError, ""),
    ("billion laughs", BILLION_LAUGHS, 200, "text/xml", CascadeError, ""),
    ("external entity", EXTERNAL_ENTITY, 200, "text/xml", CascadeError, ""),
    ("invalid UTF-8", b"\xff\xfe\xfa garbage \xc3\x28", 200, "text/plain", CascadeError, ""),
    ("multi-megabyte body", b"x" * (17 * 1024 * 1024), 200, "text/plain", CascadeResponseError, "larger"),
    ("5 MB of JSON noise", b'{"message": "' + b"a" * (5 * 1024 * 1024) + b'"}', 200,
     "application/json", CascadeError, ""),
    ("HTTP 500", b"oops", 500, "text/html", CascadeServerError, "HTTP 500"),
    ("HTTP 503", b"", 503, "text/html", CascadeServerError, "HTTP 503"),
    ("UTF-32 lookalike JSON", b"\x00\x00\x00\x7f\x7f\x7f\x7f\x7f", 200, "application/json",
     CascadeError, ""),
    ("HTTP 404 page", b"<html>not here</html>", 404, "text/html", CascadeError, ""),
]  # fmt: skip


def hook_for(gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, protocol: str,
             **extra: Any) -> CascadeHook:  # fmt: skip
    conn = gw.conn_dict(protocol, **extra)
    conn["password"] = SECRET
    gw.gateway.add_account(gw.login, SECRET, (gw.token,))
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(conn))
    hook = CascadeHook()
    hook.client.policy = RetryPolicy(retry_limit=1, retry_delay=0.01)
    return hook


def attempt(hook: CascadeHook, operation: str) -> CascadeError:
    with pytest.raises(CascadeError) as err:
        if operation == "send":
            hook.send([Message([SMS("hi", "Shop")], ["79000000001"])])
        else:
            result = hook.get_states(["1000123"])
            # an answer that parses must still be complete; otherwise it must have raised
            raise AssertionError(f"no error for a hostile answer: {result}")
    return err.value


def check(err: CascadeError, caplog: pytest.LogCaptureFixture, figures: Counter[str]) -> None:
    text = " ".join([str(err), repr(err), str(err.__cause__), str(err.__context__), caplog.text])
    assert SECRET not in text
    assert str(err)  # a useful message, never empty
    figures["hostile answers tried"] += 1


@pytest.mark.parametrize("operation", ["send", "state"])
@pytest.mark.parametrize("protocol", ["json", "xml", "get"])
@pytest.mark.parametrize(("name", "body", "status", "ctype", "error", "words"), BODIES,
                         ids=[b[0] for b in BODIES])  # fmt: skip
def test_hostile_body(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture, figures: Counter[str], operation: str, protocol: str,
    name: str, body: bytes, status: int, ctype: str, error: type[CascadeError], words: str,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    hook = hook_for(cascade_gateway, monkeypatch, protocol)
    if protocol == "get" and operation == "state" and name in ("HTML error page", "JSON wrong shape",
                                                              "JSON list", "object where a string goes",
                                                              "message list too long", "billion laughs",
                                                              "external entity", "truncated JSON",
                                                              "5 MB of JSON noise", "UTF-32 lookalike JSON"):  # fmt: skip
        # The GET status answer is free text: anything that is not a state is an error text
        # about that message, reported as state ERROR, never as a crash.
        cascade_gateway.faults.reply_next(body, status=status, content_type=ctype, n=2)
        (state,) = hook.get_states(["1000123"]).values()
        assert state.status.value == "error" and state.error
        assert SECRET not in str(state.to_dict())
        figures["hostile answers tried"] += 1
        return
    cascade_gateway.faults.reply_next(body, status=status, content_type=ctype, n=2)
    err = attempt(hook, operation)
    assert isinstance(err, error), (type(err), err)
    assert words in str(err)
    check(err, caplog, figures)


@pytest.mark.parametrize("operation", ["send", "state"])
@pytest.mark.parametrize("protocol", ["json", "xml", "get"])
def test_429_retry_after_then_success(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, figures: Counter[str],
    operation: str, protocol: str,
) -> None:  # fmt: skip
    hook = hook_for(cascade_gateway, monkeypatch, protocol)
    cascade_gateway.faults.fail_next(1, status=429, retry_after=0.05)
    if operation == "send":
        (result,) = hook.send([Message([SMS("hi", "Shop")], ["79000000001"])])
        assert result.accepted
    else:
        assert len(hook.get_states(["1000123"])) == 1
    figures["hostile answers tried"] += 1


@pytest.mark.parametrize("operation", ["send", "state"])
@pytest.mark.parametrize("protocol", ["json", "xml", "get"])
@pytest.mark.parametrize("fault", ["slow", "refused", "reset before", "reset after accept"])
def test_transport_faults(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture, figures: Counter[str], operation: str, protocol: str,
    fault: str,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    extra: dict[str, Any] = {"timeout": 0.3}
    hook = hook_for(cascade_gateway, monkeypatch, protocol, **extra)
    if fault == "refused":
        conn = json.loads(__import__("os").environ["AIRFLOW_CONN_CASCADE_DEFAULT"])
        monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps({**conn, "port": 1}))
        hook = CascadeHook()
        hook.client.policy = RetryPolicy(retry_limit=1, retry_delay=0.01)
    elif fault == "slow":
        cascade_gateway.faults.slow_next(2, seconds=1.0)
    elif fault == "reset before":
        cascade_gateway.faults.reset_next(2)
    else:
        cascade_gateway.faults.drop_after_accept_next(2)
    err = attempt(hook, operation)
    assert isinstance(err, CascadeTransportError), (type(err), err)
    if fault == "refused":
        assert not err.may_have_sent
    if operation == "send" and fault != "refused":
        assert err.may_have_sent and "may or may not have happened" in str(err)
    check(err, caplog, figures)
    if fault == "reset after accept" and operation == "send":
        assert cascade_gateway.accepted_per_phone()["79000000001"] == 1  # sent once, not resent


ECHOES: dict[tuple[str, str], list[bytes]] = {
    ("json", "send"): [b'{"error": "login demo with password %s refused"}',
                       b'{"message":[[{"phone":"79000000001","error":"bad password %s"}]]}'],
    ("json", "state"): [b'{"error": "password %s refused"}',
                        b'{"state":[{"id_message":"1000123","time_change_state":"","state":"no id for %s"}]}'],
    ("xml", "send"): [b"<response><error>password %s refused</error></response>",
                      b'<response><message><information phone="79000000001">bad %s</information></message></response>'],
    ("xml", "state"): [b"<response><error>password %s refused</error></response>",
                       b'<response><state id_message="1000123" time_change_state="">no id for %s</state></response>'],
    ("get", "send"): [b"password %s refused"],
    ("get", "state"): [b"no such id for %s"],
}  # fmt: skip


def outcome_text(hook: CascadeHook, operation: str) -> str:
    """What a caller gets back, an error or results, as text."""
    try:
        if operation == "send":
            return str(
                [r.to_dict() for r in hook.send([Message([SMS("hi", "Shop")], ["79000000001"])])]
            )
        return str([s.to_dict() for s in hook.get_states(["1000123"]).values()])
    except CascadeError as exc:
        return f"{exc} {exc!r}"


@pytest.mark.parametrize(("protocol", "operation"), list(ECHOES))
def test_gateway_echoing_the_password_is_scrubbed(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, figures: Counter[str],
    operation: str, protocol: str,
) -> None:  # fmt: skip
    hook = hook_for(cascade_gateway, monkeypatch, protocol)
    for body in ECHOES[(protocol, operation)]:
        cascade_gateway.faults.reply_next(body.replace(b"%s", SECRET.encode()))
        text = outcome_text(hook, operation)
        assert SECRET not in text and "***" in text, text
        figures["hostile answers tried"] += 1
