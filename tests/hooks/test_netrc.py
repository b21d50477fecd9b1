"""A ~/.netrc that matches the gateway's host never adds credentials to a request: the codec
places them as the protocol says, and nothing else may."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from airflow_provider_cascade.clients import CascadeClient
from airflow_provider_cascade.gateway import LoginPassword
from airflow_provider_cascade.gateway.codec import CodecSettings, make_codec

from ..reliability.hostile import head, hostile, read_request

STATE = b'{"state": [{"id_message": "1", "time_change_state": "", "state": "deliver"}]}'


def test_netrc_is_never_consulted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login stranger password netrc-secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HOME", str(tmp_path))
    seen: list[bytes] = []

    def script(sock: socket.socket, index: int) -> None:
        seen.append(read_request(sock))
        sock.sendall(head(200, "application/json", Content_Length=len(STATE)) + STATE)

    with hostile(script) as server:
        codec = make_codec("json", CodecSettings(server.url, LoginPassword("shop", "pw-1234")))
        CascadeClient(codec).get_states(["1"])
    (request,) = seen
    assert b"authorization" not in request.lower()
    assert b"netrc-secret" not in request and b"stranger" not in request
