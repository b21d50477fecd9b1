"""A triggerer with a thousand waits: requests on the wire per event loop are capped below
httpx's pool size, so the pool never keeps a long queue of waiters (its queue costs work per
waiter on every completion: 25 ms of CPU per request at a thousand, seconds of loop lag)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

from airflow_provider_cascade.clients import AsyncCascadeClient
from airflow_provider_cascade.clients.aio import MAX_IN_FLIGHT
from airflow_provider_cascade.gateway import LoginPassword
from airflow_provider_cascade.gateway.codec import CodecSettings, make_codec

from ..reliability.hostile import head, hostile, read_request


def test_requests_in_flight_per_loop_are_capped_below_the_pool() -> None:
    lock = threading.Lock()
    now = peak = 0

    def script(sock: socket.socket, index: int) -> None:
        nonlocal now, peak
        request = read_request(sock)
        with lock:
            now += 1
            peak = max(peak, now)
        time.sleep(0.3)  # a slow gateway: requests pile up on the client's side
        ident = request.split(b'"id_message":', 1)[1].split(b'"')[1]
        body = (
            b'{"state": [{"id_message": "%s", "time_change_state": "", "state": "deliver"}]}'
            % ident
        )
        with lock:
            now -= 1
        sock.sendall(head(200, "application/json", Content_Length=len(body)) + body)

    with hostile(script) as server:
        settings = CodecSettings(server.url, LoginPassword("shop", "pw-1234"))

        async def many() -> list[dict[str, object]]:
            clients = [AsyncCascadeClient(make_codec("json", settings), shared_pool=True)
                       for _ in range(150)]  # fmt: skip
            return await asyncio.gather(
                *(c.get_states([str(i + 1)]) for i, c in enumerate(clients))
            )

        answers = asyncio.run(many())
    assert all(len(a) == 1 for a in answers)  # every one answered
    assert MAX_IN_FLIGHT < 100  # httpx's default pool size
    assert 0 < peak <= MAX_IN_FLIGHT
