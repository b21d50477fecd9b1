"""HTTP on loopback: routes the gateway's paths to the parsers, the gateway and the renderers."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from . import _render as render
from ._faults import Faults
from ._gateway import REPEAT_ERROR, Gateway, Refusal, is_digits
from ._parse import Parsed, parse_get, parse_json, parse_xml

ROUTES = {
    "sendmessage.php": "get",
    "sendmessagejson.php": "json",
    "xml/message.php": "xml",
    "xml/state_message.php": "xml-state",
}
MAX_BODY = 32 * 1024 * 1024
MAX_URL_LENGTH = 2000
"""The document: «Не стоит использовать URL длиной более 2,000 символов»."""
URL_TOO_LONG = "Слишком длинный запрос: URL длиннее 2000 символов"


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    variant: str
    kind: str  # "send", "state", "refused", "fault" or "error" (a bug in the emulator)
    query: str
    headers: dict[str, str]
    body: bytes
    recipients: int
    received_at: float


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # the stdlib's 5 drops connections when many clients start at once

    def __init__(self, address: tuple[str, int], gateway: Gateway, prefix: str = "") -> None:
        super().__init__(address, Handler)
        self.gateway = gateway
        self.faults = Faults()
        self.prefix = prefix.strip("/")
        self.requests: list[RecordedRequest] = []
        self.requests_lock = threading.Lock()
        #: tracebacks of the emulator's own failures (each answered with HTTP 500)
        self.internal_errors: list[str] = []

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout, reset) is normal here; anything else is not."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        self.internal_error(traceback.format_exc())

    def internal_error(self, text: str) -> None:
        with self.requests_lock:
            self.internal_errors.append(text)

    def record(self, item: RecordedRequest) -> None:
        with self.requests_lock:
            self.requests.append(item)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # or each keep-alive answer waits ~40 ms for an ACK
    server: EmulatorServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the GET variant's URLs carry passwords."""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        """Every request gets an answer: a bug in the emulator is a 500 (and recorded in
        ``internal_errors``), never a connection dropped in silence."""
        try:
            self._route(method)
        except OSError:  # the client went away (timed out, reset): nobody to answer
            self.close_connection = True
        except Exception:
            self.server.internal_error(traceback.format_exc())
            self.close_connection = True
            self._send(500, b"emulator error", "text/plain")

    def _route(self, method: str) -> None:
        split = urlsplit(self.path)
        path = split.path.strip("/")
        prefix = self.server.prefix
        body = self._read_body()
        if body is None:  # already answered
            return None
        if prefix:
            if not (path == prefix or path.startswith(prefix + "/")):
                return self._send(404, b"not found", "text/plain")
            path = path[len(prefix) :].strip("/")
        if path.startswith("_emulator/"):
            return self._inspect(method, path[len("_emulator/") :], body)
        route = ROUTES.get(path)
        if route is None or (route == "get") != (method == "GET"):
            return self._send(404, b"not found", "text/plain")
        self._gateway_call(method, path, route, split.query, body)

    def _read_body(self) -> bytes | None:
        """The body by Content-Length or chunked; None once a 400/413 has been answered."""
        if self.headers.get("Transfer-Encoding", "").strip().lower() == "chunked":
            chunks: list[bytes] = []
            size = 0
            while True:
                line = self.rfile.readline(1024).split(b";")[0].strip()
                try:
                    length = int(line, 16)
                except ValueError:
                    self._refuse_body(400, b"bad chunked body")
                    return None
                size += length
                if size > MAX_BODY:
                    self._refuse_body(413, b"too large")
                    return None
                if length == 0:
                    while self.rfile.readline(1024).strip():  # trailers
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(length))
                self.rfile.readline(8)
        raw = (self.headers.get("Content-Length") or "0").strip()
        if not is_digits(raw):
            self._refuse_body(400, b"bad Content-Length")
            return None
        length = int(raw)
        if length > MAX_BODY:
            self._refuse_body(413, b"too large")
            return None
        return self.rfile.read(length) if length else b""

    def _refuse_body(self, status: int, text: bytes) -> None:
        self.close_connection = True  # the unread body would be taken for the next request
        self._send(status, text, "text/plain")

    def _url_length(self) -> int:
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        return len(f"http://{host}{self.path}")

    def _gateway_call(self, method: str, path: str, route: str, query: str, body: bytes) -> None:
        server, gateway = self.server, self.server.gateway
        if gateway.behaviour.latency > 0:  # outside any lock: calls overlap as on a real network
            time.sleep(gateway.behaviour.latency)
        variant = "xml" if route.startswith("xml") else route
        token = _bearer(self.headers.get("Authorization"))
        headers = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}
        parsed: Parsed | None = None
        refusal: Refusal | None = None
        try:
            if route == "get" and self._url_length() > MAX_URL_LENGTH:
                raise Refusal(URL_TOO_LONG)
            parsed = self._parse(route, query, body)
        except Refusal as exc:
            refusal = exc
        kind = "refused" if parsed is None else "state" if parsed.is_state else "send"
        recipients = (
            0 if parsed is None else sum(len(m.phones) + len(m.bases) for m in parsed.messages)
        )
        fault = server.faults.take_queued(None if parsed is None else kind)
        if fault is None and parsed is not None and parsed.is_state:
            fault = server.faults.take_random_state_failure()
        if fault is not None:
            self._record(method, path, variant, "fault", query, headers, body, recipients)
            return self._fault(fault)
        try:
            if parsed is None:
                assert refusal is not None
                raise refusal
            account = gateway.authenticate(
                parsed.login if token is None else None,
                parsed.password if token is None else None,
                token,
            )
            gateway.check_repeat(account, f"{method} {path}?{query}".encode() + body)
            answer = self._answer(variant, account, parsed)
        except Refusal as exc:
            self._record(method, path, variant, "refused", query, headers, body, recipients)
            return self._send(200, _error(variant, str(exc)), _ctype(variant))
        self._record(method, path, variant, kind, query, headers, body, recipients)
        if server.faults.take_drop(kind):
            # drop after accept: the gateway did the work, the client hears nothing
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return None
        self._send(200, answer, _ctype(variant))

    def _parse(self, route: str, query: str, body: bytes) -> Parsed:
        ctype = self.headers.get("Content-Type", "")
        if route == "get":
            return parse_get(query)
        if route == "json":
            return parse_json(ctype, body)
        return parse_xml(ctype, body, state=route == "xml-state")

    def _answer(self, variant: str, account: str, parsed: Parsed) -> bytes:
        gateway = self.server.gateway
        if parsed.is_state:
            rows = [gateway.state(account, i) for i in parsed.state_ids]
            if variant == "get":
                return rows[0]["state"].encode("utf-8")
            return render.json_states(rows) if variant == "json" else render.xml_states(rows)
        if variant == "get":
            bad = [p for p, _ in parsed.messages[0].phones if not is_digits(p) or len(p) > 15]
            if bad:
                raise Refusal(f"Неверный формат номера телефона: {bad[0]}")
        replies = gateway.send(account, parsed.messages)
        if variant == "get":
            (reply,) = replies
            if isinstance(reply, str):
                raise Refusal(reply)
            return render.get_send(reply)
        return render.json_send(replies) if variant == "json" else render.xml_send(replies)

    def _fault(self, fault: Any) -> None:
        if fault.kind == "status":
            extra = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
            return self._send(fault.status, b"<html>server error</html>", "text/html", extra)
        if fault.kind == "garbage":
            return self._send(200, fault.body, "text/html")
        if fault.kind == "reply":
            return self._send(fault.status, fault.body, fault.content_type)
        if fault.kind == "reset":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return None
        if fault.kind == "slow":
            time.sleep(fault.seconds)
            return self._send(200, b"", "text/plain")
        return None

    def _record(self, method: str, path: str, variant: str, kind: str, query: str,
                headers: dict[str, str], body: bytes, recipients: int) -> None:  # fmt: skip
        self.server.record(
            RecordedRequest(
                method, path, variant, kind, query, headers, body, recipients, time.time()
            )
        )

    def _inspect(self, method: str, what: str, body: bytes) -> None:
        emulator = self.server
        gateway = emulator.gateway
        with gateway.lock:
            if what == "stats" and method == "GET":
                data: Any = {
                    "counters": dict(gateway.counters),
                    "requests": len(emulator.requests),
                    "messages": len(gateway.deliveries),
                    "internal_errors": len(emulator.internal_errors),
                }
            elif what == "messages" and method == "GET":
                data = [
                    {"id_message": d.id_message, "phone": d.phone, "base": d.base,
                     "client_id_message": d.client_id_message, "state": gateway._state_row(d)}
                    for d in gateway.deliveries.values()
                ]  # fmt: skip
            elif what == "reset" and method == "POST":
                gateway.reset()
                emulator.faults.clear()
                with emulator.requests_lock:
                    emulator.requests.clear()
                data = {"reset": True}
            elif what == "bases" and method == "POST":
                for base, numbers in json.loads(body or b"{}").items():
                    gateway.add_base(base, [(n["phone"], n.get("name", "")) for n in numbers])
                data = {"bases": sorted(gateway.bases)}
            else:
                return self._send(404, b"not found", "text/plain")
        self._send(200, json.dumps(data, ensure_ascii=False).encode(), "application/json")

    def _send(
        self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", f"{ctype}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


def _bearer(header: str | None) -> str | None:
    if header and header.startswith("Bearer "):
        return header[len("Bearer ") :].strip()
    return None


def _error(variant: str, text: str) -> bytes:
    if variant == "json":
        return render.json_error(text)
    if variant == "xml":
        return render.xml_error(text)
    return render.get_error(f"error: {text}" if text == REPEAT_ERROR else text)


def _ctype(variant: str) -> str:
    return {"json": "application/json", "xml": "text/xml"}.get(variant, "text/plain")
