"""Hand-made HTTP for the emulator tests: urllib and raw sockets, never the provider's code."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from airflow_provider_cascade.testing.emulator import CascadeEmulator

JSON = "application/json; charset=utf-8"
XML = "text/xml; charset=utf-8"


def post(url: str, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> bytes:
    req = urllib.request.Request(url, body, {"Content-Type": ctype, **(headers or {})})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.read()  # type: ignore[no-any-return]


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.read().decode()  # type: ignore[no-any-return]


def post_json(gw: CascadeEmulator, document: Any, ctype: str = JSON) -> Any:
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    return json.loads(post(gw.url + "/sendmessagejson.php", raw, ctype))


def post_xml(gw: CascadeEmulator, body: str | bytes, path: str = "xml/message.php",
             ctype: str = XML) -> etree._Element:  # fmt: skip
    raw = body.encode() if isinstance(body, str) else body
    return etree.fromstring(post(f"{gw.url}/{path}", raw, ctype))


def creds(gw: CascadeEmulator) -> dict[str, str]:
    return {"login": gw.login, "password": gw.password}


def security(gw: CascadeEmulator) -> str:
    return (f'<security><login value="{gw.login}"/><password value="{gw.password}"/>'
            "</security>")  # fmt: skip


def xml_doc(gw: CascadeEmulator, inner: str) -> str:
    return f'<?xml version="1.0" encoding="utf-8"?><request>{security(gw)}{inner}</request>'


def raw_request(gw: CascadeEmulator, head: bytes, body: bytes = b"") -> bytes:
    """Send bytes as they are; return everything the emulator answers before it closes
    (b"" if it closed without a word)."""
    split = urlsplit(gw.url)
    with socket.create_connection((split.hostname, split.port), timeout=10) as sock:
        sock.sendall(head + body)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def sms(phone: str = "79000000001", **extra: Any) -> dict[str, Any]:
    """A minimal valid JSON message."""
    return {"send_sms": "1", "sender_sms": "Shop", "text_sms": "Hi",
            "phones": [{"phone": phone}], **extra}  # fmt: skip


def http_error(url: str, body: bytes, ctype: str) -> urllib.error.HTTPError:
    req = urllib.request.Request(url, body, {"Content-Type": ctype})
    try:
        urllib.request.urlopen(req, timeout=10)
    except urllib.error.HTTPError as exc:
        return exc
    raise AssertionError("expected an HTTP error")
