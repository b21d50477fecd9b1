"""The retry decision and the connection's settings: the real ``Retrying`` state machine fed
real answers, and the hook built from a real connection URI (no patched functions)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from airflow_provider_cascade.clients import RetryPolicy
from airflow_provider_cascade.clients._policy import Retrying
from airflow_provider_cascade.gateway import SMS, CascadeServerError, Message
from airflow_provider_cascade.gateway.codec import HttpResponse
from airflow_provider_cascade.hooks.cascade import CascadeHook
from airflow_provider_cascade.testing.emulator import CascadeEmulator

POLICY = RetryPolicy(retry_limit=3, retry_delay=0.25, max_delay=60.0)


def answer(status: int, **headers: str) -> HttpResponse:
    return HttpResponse(status, b"<html>busy</html>", {k.replace("_", "-"): v
                                                        for k, v in headers.items()})  # fmt: skip


@pytest.mark.parametrize(("status", "resend"), [(503, True), (429, True), (429, False)])
def test_retry_after_sets_the_wait(status: int, resend: bool) -> None:
    """A gateway saying "come back in 7 s" is believed (capped by max_delay), not the backoff."""
    assert Retrying(POLICY, resend=resend).after(answer(status, Retry_After="7")) == 7.0
    capped = Retrying(RetryPolicy(3, 0.25, max_delay=2.0), resend=resend)
    assert capped.after(answer(status, Retry_After="7")) == 2.0


def test_a_429_send_is_retried_a_5xx_send_is_not() -> None:
    """429: the gateway did not take the request, so even a send may go again; a 5xx send
    may have been taken and is never repeated here (the ledger decides, after the window)."""
    assert Retrying(POLICY, resend=False).after(answer(429)) == 0.25
    error = Retrying(POLICY, resend=False).after(answer(503))
    assert isinstance(error, CascadeServerError) and error.http_status == 503


def test_backoff_doubles_up_to_max_delay() -> None:
    policy = RetryPolicy(retry_limit=9, retry_delay=0.5, max_delay=3.0)
    assert [policy.backoff(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    retrying = Retrying(RetryPolicy(retry_limit=3, retry_delay=0.5, max_delay=60), resend=True)
    assert [retrying.after(answer(502)) for _ in range(3)] == [0.5, 1.0, 2.0]
    assert isinstance(retrying.after(answer(502)), CascadeServerError)  # limit reached


def test_a_retried_5xx_status_query_waits_out_the_repeat_window() -> None:
    """A 5xx status query may have reached the gateway: its copy inside the window would be
    refused. A 429 was not taken, so it needs no window."""
    server = Retrying(POLICY, resend=True, repeat_window=2.0)
    assert server.after(answer(503)) == pytest.approx(2.2)  # window + 10 % margin
    assert Retrying(POLICY, resend=True, repeat_window=2.0).after(answer(429)) == 0.25


def test_the_connection_time_zone_reaches_the_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """An aware ``time_send`` is written in the connection's zone, not the default Moscow."""
    conn = {"conn_type": "cascade", "host": "gw.example", "schema": "https", "login": "u",
            "password": "p", "extra": {"timezone": "Asia/Vladivostok"}}  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(conn))
    hook = CascadeHook()
    assert hook.settings.codec.timezone == "Asia/Vladivostok"
    when = datetime(2030, 1, 1, 0, 0, tzinfo=timezone.utc)
    message = Message([SMS("hi", "Shop")], ["79000000001"], time_send=when)
    (batch,) = hook.client.codec.send_batches([message])
    body = batch.request.body.decode() if batch.request.body else batch.request.url
    assert "2030-01-01 10:00" in body and "2030-01-01 03:00" not in body


def test_get_status_queries_skip_ids_asked_inside_the_window(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GET asks one id per request: asking again about an id inside the window would be a
    refused repeat, so the client leaves it out (the caller sees it as not answered yet)."""
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", cascade_gateway.conn_uri("get"))
    hook = CascadeHook()
    ids = [r.id_message for r in hook.send([Message([SMS("hi", "Shop")], ["79000000001"])])]
    assert set(hook.get_states(ids)) == set(ids)
    assert hook.get_states(ids) == {}
    assert sum(r.kind == "state" for r in cascade_gateway.requests) == 1
    assert cascade_gateway.counters["repeat_refused"] == 0
