"""The asyncio client on the same codecs, against the emulator."""

from __future__ import annotations

import asyncio
import json

import pytest

from airflow_provider_cascade.clients import RetryPolicy
from airflow_provider_cascade.gateway import SMS, CascadeTransportError, Message, MessageStatus
from airflow_provider_cascade.hooks.cascade import CascadeHook
from airflow_provider_cascade.testing.emulator import CascadeEmulator


@pytest.mark.parametrize("protocol", ["json", "xml", "get"])
def test_async_states_match_sync(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, protocol: str
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", cascade_gateway.conn_uri(protocol))
    hook = CascadeHook()
    results = hook.send([Message([SMS("x", "S")], ["79000000001", "79000000006"])])
    ids = [r.id_message for r in results if r.id_message]

    async def poll() -> dict[str, MessageStatus]:
        client = await hook.aget_client()
        try:
            await asyncio.sleep(0.2)
            cascade_gateway.faults.fail_next(1, status=502, retry_after=0)
            states = await client.get_states(ids)
        finally:
            await client.aclose()
        return {k: v.status for k, v in states.items()}

    assert asyncio.run(poll()) == {ids[0]: MessageStatus.DELIVER, ids[1]: MessageStatus.NOT_DELIVER}


def test_async_refused_connection_is_typed(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = {**cascade_gateway.conn_dict("get"), "port": 1, "password": "pw-async-secret"}
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(conn))

    async def poll() -> None:
        client = await CascadeHook().aget_client()
        client.policy = RetryPolicy(retry_limit=1, retry_delay=0.01)
        try:
            await client.get_states(["1"])
        finally:
            await client.aclose()

    with pytest.raises(CascadeTransportError) as err:
        asyncio.run(poll())
    assert "pw-async-secret" not in str(err.value) and err.value.__context__ is None


def test_hook_async_client_in_many_event_loops(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The trigger's shared pool, from a fresh loop each time (as asyncio.run gives)."""
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", cascade_gateway.conn_uri("json"))
    hook = CascadeHook()
    results = hook.send([Message([SMS("x", "S")], [f"7900000000{i}" for i in range(5)])])

    async def poll(id_message: str) -> int:
        client = await hook.aget_client(shared_pool=True)
        try:
            return len(await client.get_states([id_message]))
        finally:
            await client.aclose()

    assert [asyncio.run(poll(r.id_message or "")) for r in results] == [1] * 5


def test_async_send_matches_sync(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", cascade_gateway.conn_uri("xml"))

    def messages(*phones: str) -> list[Message]:
        return [Message([SMS("x", "S")], list(phones)), Message([SMS("y", "S")], ["79000000009"])]

    async def send() -> list[tuple[int, str | None, bool]]:
        client = await CascadeHook().aget_client()
        try:
            results = await client.send(messages("79000000001", "79000000002"))
        finally:
            await client.aclose()
        return [(r.message_index, r.phone, r.accepted) for r in results]

    sync = CascadeHook().send(messages("79000000003", "79000000004"))
    assert asyncio.run(send()) == [(0, "79000000001", True), (0, "79000000002", True),
                                   (1, "79000000009", True)]  # fmt: skip
    assert [(r.message_index, r.accepted) for r in sync] == [(0, True), (0, True), (1, True)]
