"""CascadeHook over real HTTP against the emulator, every variant and both auth kinds."""

from __future__ import annotations

import json
import logging
import time

import pytest

from airflow_provider_cascade.gateway import (
    SMS,
    CascadeAuthError,
    CascadeError,
    CascadeServerError,
    CascadeTransportError,
    CascadeValidationError,
    Channel,
    Message,
    MessageStatus,
    Viber,
    defaults,
)
from airflow_provider_cascade.hooks.cascade import CascadeHook
from airflow_provider_cascade.hooks.connection import ConnectionSettings, connection_settings
from airflow_provider_cascade.testing.emulator import CascadeEmulator

VARIANTS = [(p, a) for p in ("json", "xml", "get") for a in ("password", "token")]


def use(
    monkeypatch: pytest.MonkeyPatch, gw: CascadeEmulator, protocol: str, **kw: object
) -> CascadeHook:
    auth = str(kw.pop("auth", "password"))
    conn = gw.conn_dict(protocol, auth=auth, **kw)
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(conn))
    return CascadeHook()


def message(*phones: str) -> Message:
    return Message([Viber("Привет <&>\nмир", "Shop"), SMS("hi", "Shop")], list(phones))


@pytest.mark.parametrize(("protocol", "auth"), VARIANTS)
def test_send_and_states(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, protocol: str, auth: str
) -> None:
    hook = use(monkeypatch, cascade_gateway, protocol, auth=auth)
    results = hook.send([message("79000000001", "79000000005"), message("79000000006")])
    assert [(r.message_index, r.phone, r.accepted) for r in results] == [
        (0, "79000000001", True),
        (0, "79000000005", True),
        (1, "79000000006", True),
    ]
    received = {d.phone: d.received for d in cascade_gateway.deliveries}
    assert received["79000000001"]["text_viber"] == "Привет <&>\nмир"
    time.sleep(0.2)
    states = hook.get_states([r.id_message for r in results if r.id_message])
    by_phone = {r.phone: states[r.id_message or ""] for r in results}
    assert by_phone["79000000001"].status is MessageStatus.DELIVER
    assert by_phone["79000000006"].status is MessageStatus.NOT_DELIVER
    if protocol != "get":
        expected = cascade_gateway.final_prices(results[1].id_message or "")
        assert by_phone["79000000005"].prices[Channel.SMS] == expected["sms"]


def test_batching_limits(cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    hook = use(monkeypatch, cascade_gateway, "json", max_recipients=100, max_state_ids=40)
    phones = [f"7900{i:07d}" for i in range(250)]
    results = hook.send([message(*phones[:120]), message(*phones[120:])])
    sends = [r for r in cascade_gateway.requests if r.kind == "send"]
    assert [r.recipients for r in sends] == [100, 100, 50]
    assert len(results) == 250 and all(r.accepted for r in results)
    hook.get_states([r.id_message for r in results if r.id_message])
    assert sum(r.kind == "state" for r in cascade_gateway.requests) == 7  # ceil(250 / 40)


def test_bases_stop_lists_and_schedule(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    gw = cascade_gateway
    gw.add_base("11", [("79000000101", "Анна"), ("79000000102", "Борис")])
    gw.add_base("12", [("79000000102", "")])
    hook = use(monkeypatch, gw, "json")
    results = hook.send([{
        "send_sms": "1", "sender_sms": "Shop", "text_sms": "#name#, hello",
        "base": [{"base": "11", "time_send": "2099-01-01 10:00"}], "stop_base": [{"base": "12"}],
    }])  # fmt: skip
    assert [(r.base, r.phone, r.accepted) for r in results] == [
        ("11", "79000000101", True),
        ("11", "79000000102", False),
    ]
    state = hook.get_states([results[0].id_message or ""])[results[0].id_message or ""]
    assert state.status is MessageStatus.SEND  # scheduled for 2099
    assert gw.deliveries[0].received["text_sms"] == "Анна, hello"


def test_capability_error_sends_nothing(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = use(monkeypatch, cascade_gateway, "xml")
    with pytest.raises(CascadeValidationError, match="base: the XML variant cannot carry it"):
        hook.send([message("79000000001"), {"send_sms": 1, "sender_sms": "S", "text_sms": "x",
                                             "base": [{"base": "1"}]}])  # fmt: skip
    assert cascade_gateway.requests == []


def test_get_polls_an_id_at_most_once_a_minute(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    cascade_gateway.behaviour.repeat_window = 60
    hook = use(monkeypatch, cascade_gateway, "get")
    (result,) = hook.send([message("79000000001")])
    first = hook.get_states([result.id_message or ""])
    second = hook.get_states([result.id_message or ""])
    assert list(first) == [result.id_message] and second == {}
    assert sum(r.kind == "state" for r in cascade_gateway.requests) == 1
    assert cascade_gateway.counters["repeat_refused"] == 0


def test_once_a_minute_error_means_ask_later(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    cascade_gateway.behaviour.repeat_window = 60
    hook = use(monkeypatch, cascade_gateway, "json")
    (result,) = hook.send([message("79000000001")])
    assert len(hook.get_states([result.id_message or ""])) == 1
    assert hook.get_states([result.id_message or ""]) == {}  # refused: try later
    assert cascade_gateway.counters["repeat_refused"] == 1


def test_test_connection(cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    ok, text = use(monkeypatch, cascade_gateway, "xml", auth="token").test_connection()
    assert ok and "xml" in text
    conn = {**cascade_gateway.conn_dict("json"), "password": "wrong-password"}
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(conn))
    assert CascadeHook().test_connection() == (False, "Неправильный логин или пароль")


def test_a_send_that_may_have_arrived_is_never_resent(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ledger's contract: a lost answer is the caller's to resend (after the repeat
    window, same client ids), with or without client ids."""
    gw = cascade_gateway
    hook = use(monkeypatch, gw, "json")
    for cid, phone in ((501, "79000000001"), (None, "79000000002")):
        gw.faults.drop_after_accept_next(1)
        with pytest.raises(CascadeTransportError, match="may or may not have happened") as err:
            hook.send([Message([SMS("x", "S")], [{"phone": phone, "client_id_message": cid}])])
        assert err.value.may_have_sent and err.value.partial_results == []  # type: ignore[attr-defined]
        assert gw.accepted_per_phone()[phone] == 1
    assert len([r for r in gw.requests if r.kind == "send"]) == 2


def test_resend_after_the_window_with_the_same_client_ids_is_deduplicated(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    gw = cascade_gateway
    hook = use(monkeypatch, gw, "json")
    batch = hook.get_conn().codec.send_batches(
        [Message([SMS("x", "S")], [{"phone": "79000000001", "client_id_message": 502}])]
    )[0]
    gw.faults.drop_after_accept_next(1)
    with pytest.raises(CascadeTransportError):
        hook.get_conn().send_batch(batch)
    time.sleep(gw.behaviour.repeat_window)  # the gateway refuses the same request within it
    (again,) = hook.get_conn().send_batch(batch)
    assert again.accepted and again.already_sent
    assert gw.accepted_per_phone()["79000000001"] == 1


def test_get_conn_is_the_cached_blocking_client(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = use(monkeypatch, cascade_gateway, "json", retry_limit=5, retry_delay=0.25)
    assert hook.get_conn() is hook.get_conn() is hook.client
    assert (hook.client.policy.retry_limit, hook.client.policy.retry_delay) == (5, 0.25)
    hook2 = CascadeHook(retry_limit=0, retry_delay=2)
    assert (hook2.get_conn().policy.retry_limit, hook2.get_conn().policy.retry_delay) == (0, 2.0)


def test_retry_limit_is_honoured(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = use(monkeypatch, cascade_gateway, "json", retry_limit=2, retry_delay=0.01)
    cascade_gateway.faults.fail_next(5, status=503)
    with pytest.raises(CascadeServerError):
        hook.get_states(["1000123"])
    assert len(cascade_gateway.faults._queue) == 5 - 3  # the first try and 2 retries


def test_status_queries_retry_5xx(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = use(monkeypatch, cascade_gateway, "json")
    (result,) = hook.send([message("79000000001")])
    cascade_gateway.faults.fail_next(2, status=503, retry_after=0)
    assert result.id_message in hook.get_states([result.id_message or ""])


SECRET_PASSWORD = "pw-Zq81-very-secret"
SECRET_TOKEN = "tok-Zq81-very-secret"


@pytest.mark.parametrize("protocol", ["json", "xml", "get"])
def test_no_secret_in_logs_or_errors(
    cascade_gateway: CascadeEmulator,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    protocol: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    gw = cascade_gateway

    def attempt(conn: dict[str, object]) -> None:
        monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(conn))
        hook = CascadeHook()
        hook.client.policy = type(hook.client.policy)(retry_limit=1, retry_delay=0.01)
        try:
            hook.send([message("79000000001")])
            hook.get_states(["1"])
        except CascadeError as exc:
            texts.extend([str(exc), repr(exc), str(exc.__cause__), str(exc.__context__)])

    wrong = {**gw.conn_dict(protocol), "password": SECRET_PASSWORD}
    attempt(wrong)
    token = gw.conn_dict(protocol)
    token.pop("login"), token.pop("password")
    token["extra"] = {"protocol": protocol, "token": SECRET_TOKEN}
    attempt(token)
    for fault in ("fail", "garbage", "drop"):
        getattr(gw.faults, {"fail": "fail_next", "garbage": "garbage_next",
                            "drop": "drop_after_accept_next"}[fault])(3)  # fmt: skip
        attempt(wrong)
        attempt(token)
    refused = {**wrong, "port": 1}
    attempt(refused)
    attempt({**token, "port": 1})
    everything = "\n".join(texts) + caplog.text
    assert "Неправильный логин или пароль" in everything
    assert SECRET_PASSWORD not in everything and SECRET_TOKEN not in everything


def test_auth_error_type(cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {**cascade_gateway.conn_dict("json"), "password": "nope-nope"}
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(conn))
    with pytest.raises(CascadeAuthError):
        CascadeHook().send([message("79000000001")])


def test_uri_form_connection(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", cascade_gateway.conn_url("xml"))
    hook = CascadeHook()
    assert hook.settings.variant.value == "xml"
    (result,) = hook.send([message("79000000001")])
    assert result.accepted and cascade_gateway.requests[0].variant == "xml"


def test_duplicate_answered_as_error_row_without_id(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    cascade_gateway.behaviour.duplicate_reply = "error"
    try:
        hook = use(monkeypatch, cascade_gateway, "json")
        msg = Message([SMS("x", "S")], [{"phone": "79000000001", "client_id_message": 9001}])
        (first,) = hook.send([msg])
        time.sleep(cascade_gateway.behaviour.repeat_window)  # the same request, after the window
        (again,) = hook.send([msg])
    finally:
        cascade_gateway.behaviour.duplicate_reply = "earlier_id"
    assert first.accepted and not first.already_sent
    assert again.already_sent and again.accepted and again.id_message is None
    assert again.error == "Данное сообщение уже было отправлено."


def settings_with(**extra: object) -> ConnectionSettings:
    return connection_settings(
        host="https://gw.example", port=None, schema=None, login="shop", password="pw-1234",
        extra=dict(extra),
    )  # fmt: skip


def test_connection_defaults_come_from_the_defaults_module() -> None:
    s = settings_with()
    assert (s.connect_timeout, s.timeout, s.deadline, s.repeat_window) == (
        defaults.CONNECT_TIMEOUT, defaults.READ_TIMEOUT, defaults.REQUEST_DEADLINE,
        defaults.REPEAT_WINDOW,
    )  # fmt: skip


def test_repeat_window_and_deadline_extras() -> None:
    s = settings_with(repeat_window="0", deadline=12.5, connect_timeout="2")
    assert (s.repeat_window, s.deadline, s.connect_timeout) == (0.0, 12.5, 2.0)
    assert settings_with(repeat_window=1.5).repeat_window == 1.5


@pytest.mark.parametrize(
    ("key", "value"),
    [("repeat_window", -1), ("repeat_window", "soon"), ("repeat_window", 3601),
     ("retry_limit", 1.5), ("retry_limit", -1), ("retry_delay", "x"), ("repeat_window", "nan"),
     ("deadline", 0), ("deadline", "inf"), ("deadline", True), ("timeout", -3)],
)  # fmt: skip
def test_bad_timing_extras_are_refused(key: str, value: object) -> None:
    with pytest.raises(CascadeValidationError) as err:
        settings_with(**{key: value})
    assert err.value.field == f"extra.{key}"


@pytest.mark.parametrize("protocol", ["json", "xml"])
def test_a_bulk_send_checks_every_message_first_then_sends_batch_by_batch(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, protocol: str
) -> None:
    """Every message is checked before the first request (a bad message anywhere sends
    nothing); then one request per batch, in order, each answer matched to its recipients."""
    gw = cascade_gateway
    hook = use(monkeypatch, gw, protocol, max_recipients=2)
    client = hook.get_conn()
    phones = [f"7900000010{i}" for i in range(5)]
    results = hook.send([message(*phones)])
    assert [r.phone for r in results] == phones and all(r.accepted for r in results)
    assert client.requests_made == 3 and len(gw.requests) == 3

    with pytest.raises(CascadeValidationError):
        hook.send([message(*phones), message("12")])
    assert len(gw.requests) == 3 and client.requests_made == 3
