"""Secrets in every form a gateway could echo them (issue 14 items 6-9 and 15): raw,
``quote``, ``quote_plus``, JSON- and XML-escaped, in error texts, results, exception chains
and the HTTP libraries' log lines; and credentials no variant can carry refused up front."""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
import traceback
from collections import Counter
from collections.abc import Iterator
from urllib.parse import quote, quote_plus
from xml.sax.saxutils import escape

import pytest

from airflow_provider_cascade.gateway import (
    SMS,
    BearerToken,
    CascadeError,
    CascadeValidationError,
    LoginPassword,
    Message,
)
from airflow_provider_cascade.gateway._secrets import scrub
from airflow_provider_cascade.gateway.codec import CodecSettings
from airflow_provider_cascade.hooks.cascade import CascadeHook
from airflow_provider_cascade.hooks.connection import connection_settings
from airflow_provider_cascade.testing.emulator import CascadeEmulator

SECRET = "Pw$ecr3t/+&=\"<é> x'"


def forms(secret: str) -> dict[str, str]:
    return {
        "raw": secret,
        "quote": quote(secret),
        "quote safe=''": quote(secret, safe=""),
        "quote_plus": quote_plus(secret),
        "lower-case hex": re.sub("%[0-9A-F]{2}", lambda m: m.group().lower(), quote_plus(secret)),
        "JSON ascii": json.dumps(secret)[1:-1],
        "JSON unicode": json.dumps(secret, ensure_ascii=False)[1:-1],
        "JSON all escaped": "".join(f"\\u{ord(c):04x}" for c in secret),
        "XML": escape(secret, {'"': "&quot;", "'": "&apos;"}),
        "HTML": html.escape(secret),
        "numeric entities": "".join(f"&#{ord(c)};" for c in secret),
        "hex entities": "".join(f"&#x{ord(c):X};" for c in secret),
    }


FORMS = forms(SECRET)


def leaks(text: str) -> list[str]:
    return [name for name, form in FORMS.items() if form in text]


def test_scrub_finds_every_form(figures: Counter[str]) -> None:
    for name, form in FORMS.items():
        text = f"error for [{form}] here"
        assert scrub(text, [SECRET]) == "error for [***] here", name
        figures["secret forms searched"] += 1
    assert scrub("a short pw ab", ["ab"]) == "a short pw ab"  # too short to search for


def chain(exc: BaseException | None) -> Iterator[BaseException]:
    while exc is not None:
        yield exc
        exc = exc.__cause__ or exc.__context__


def everything_about(exc: CascadeError) -> str:
    parts = []
    for item in chain(exc):
        parts += [str(item), repr(item), repr(vars(item)), repr(item.args)]
    parts.append("".join(traceback.format_exception(exc)))
    return "\n".join(parts)


ECHO_BODIES = {
    ("json", "send"): lambda t: json.dumps({"error": t}).encode(),
    ("json", "row"): lambda t: json.dumps(
        {"message": [[{"phone": "79000000001", "error": t}]]}
    ).encode(),
    ("json", "state"): lambda t: json.dumps(
        {"state": [{"id_message": "1000123", "time_change_state": "", "state": t}]}
    ).encode(),
    ("xml", "send"): lambda t: f"<response><error>{escape(t)}</error></response>".encode(),
    ("xml", "state"): lambda t: (
        f'<response><state id_message="1000123" time_change_state="">{escape(t)}</state></response>'
    ).encode(),
    ("get", "send"): lambda t: t.encode(),
    ("get", "state"): lambda t: t.encode(),
}


def hook_for(gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, protocol: str) -> CascadeHook:
    conn = gw.conn_dict(protocol, retry_limit=0, repeat_window=0)
    conn["password"] = SECRET
    gw.gateway.add_account(gw.login, SECRET, (gw.token,))
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(conn))
    return CascadeHook()


@pytest.mark.parametrize(("protocol", "where"), list(ECHO_BODIES))
def test_echoed_secret_in_any_form_never_leaves(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture, figures: Counter[str], protocol: str, where: str,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    hook = hook_for(cascade_gateway, monkeypatch, protocol)
    for name, form in FORMS.items():
        text = f"refused: the request was ?login=shop&password={form}&x=1"
        cascade_gateway.faults.reply_next(ECHO_BODIES[(protocol, where)](text))
        try:
            if where == "state":
                seen = repr([s.to_dict() for s in hook.get_states(["1000123"]).values()])
            else:
                seen = repr([r.to_dict() for r in hook.send([Message([SMS("hi", "S")],
                                                                      ["79000000001"])])])  # fmt: skip
        except CascadeError as exc:
            seen = everything_about(exc)
        assert "***" in seen, (name, seen)
        assert not leaks(seen + caplog.text), (name, leaks(seen + caplog.text))
        figures["secret forms searched"] += 1


def test_no_unscrubbed_original_in_the_exception_chain(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Was: the scrubbed error kept the original as ``__context__``."""
    hook = hook_for(cascade_gateway, monkeypatch, "json")
    cascade_gateway.faults.reply_next(b'{"error": "bad password ' + SECRET.encode() + b'"')
    with pytest.raises(CascadeError) as err:
        hook.send([Message([SMS("hi", "S")], ["79000000001"])])
    assert err.value.__context__ is None and err.value.__cause__ is None
    assert not leaks(everything_about(err.value))


def test_httpx_request_log_line_is_redacted(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture, figures: Counter[str],
) -> None:  # fmt: skip
    """httpx logs ``HTTP Request: GET <URL object>`` at INFO; the GET URL holds the password."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")
    hook_for(cascade_gateway, monkeypatch, "get")

    async def poll() -> None:
        client = await CascadeHook().aget_client()
        try:
            await client.get_states(["1000123"])
        finally:
            await client.aclose()

    asyncio.run(poll())
    assert "HTTP Request: GET" in caplog.text
    assert not leaks(caplog.text), leaks(caplog.text)
    figures["secret forms searched"] += len(FORMS)


@pytest.mark.parametrize(
    ("auth", "field"),
    [
        (lambda: BearerToken("tok-ключ-123"), "token"),
        (lambda: BearerToken("tok with space"), "token"),
        (lambda: BearerToken("tok\r\nX-Injected: 1"), "token"),
        (lambda: LoginPassword("shop", "pass\nword"), "password"),
        (lambda: LoginPassword("shop", "pass\x00word"), "password"),
        (lambda: LoginPassword("shop", "pass\ud800word"), "password"),
        (lambda: LoginPassword("sh\top", "password"), "login"),
    ],
)  # fmt: skip
def test_credentials_no_variant_can_carry_are_refused(
    auth: object, field: str, figures: Counter[str]
) -> None:
    with pytest.raises(CascadeValidationError) as err:
        auth()  # type: ignore[operator]
    assert err.value.field == field
    assert err.value.__context__ is None
    assert str(err.value) == f"{field}: {err.value.rule}" and "ключ" not in err.value.rule
    figures["bad inputs tried"] += 1


def test_a_non_latin1_token_from_a_connection_is_a_validation_error() -> None:
    """Was: a raw UnicodeEncodeError whose ``.object`` held ``Bearer <token>``."""
    with pytest.raises(CascadeValidationError, match="token"):
        connection_settings(host="https://gw.example", port=None, schema=None, login=None,
                            password=None, extra={"token": "tok-ключ-123"})  # fmt: skip


def test_unicode_password_is_fine() -> None:
    settings = CodecSettings(base_url="https://gw", auth=LoginPassword("shop", "пароль é 😀"))
    assert settings.auth.password == "пароль é 😀"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("url", "verify", "warned"),
    [
        ("http://gw.example.com/", True, "plain http"),
        ("https://gw.example.com/", False, "verification is off"),
        ("http://127.0.0.1:8080/", True, None),  # this machine (the emulator)
        ("https://gw.example.com/", True, None),
    ],
)
def test_insecure_transport_is_warned_about(
    caplog: pytest.LogCaptureFixture, url: str, verify: bool, warned: str | None
) -> None:
    from airflow_provider_cascade.clients import AsyncCascadeClient, CascadeClient
    from airflow_provider_cascade.gateway import Variant
    from airflow_provider_cascade.gateway.codec import make_codec

    caplog.set_level(logging.WARNING)
    codec = make_codec(Variant.JSON, CodecSettings(base_url=url, auth=LoginPassword("a", "pw1")))
    CascadeClient(codec, verify=verify).close()
    AsyncCascadeClient(codec, verify=verify)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    if warned is None:
        assert warnings == []
    else:
        assert len(warnings) == 2 and all(warned in w for w in warnings), warnings
        assert "pw1" not in caplog.text
