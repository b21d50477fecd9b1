"""A request has a total deadline: a gateway that trickles its answer a byte at a time (so no
socket timeout ever fires) fails the request with a typed error that says so, at the deadline."""

from __future__ import annotations

import socket
import time

import pytest

from airflow_provider_cascade.gateway import CascadeTransportError
from tests.reliability.hostile import head, hostile, read_request, run


def trickle(sock: socket.socket, index: int) -> None:
    read_request(sock)
    sock.sendall(head(Content_Length=10_000))
    for _ in range(400):
        sock.sendall(b" ")
        time.sleep(0.05)


@pytest.mark.parametrize("which", ["sync", "async"])
def test_a_trickling_gateway_fails_the_request_at_its_deadline(which: str) -> None:
    with hostile(trickle) as server:
        outcome = run(which, server.url, "send", timeout=(5.0, 5.0), deadline=1.0, policy=None)
    assert isinstance(outcome, CascadeTransportError)
    assert "the request deadline passed (1 s);" in str(outcome)
    assert outcome.may_have_sent
