"""A scriptable hostile HTTP(S) server over raw sockets, and both clients pointed at it.

Each accepted connection runs ``script(sock, index)``; the script reads the request (or
not) and writes whatever bytes, at whatever pace, a broken or malicious gateway would."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import socket
import ssl
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from airflow_provider_cascade.clients import AsyncCascadeClient, CascadeClient, RetryPolicy
from airflow_provider_cascade.gateway import (
    SMS,
    CascadeError,
    LoginPassword,
    Message,
    Variant,
)
from airflow_provider_cascade.gateway.codec import CodecSettings, make_codec

SECRET = "Pw$ecr3t/+&=é x"
Script = Callable[[socket.socket, int], None]


def read_request(sock: socket.socket) -> bytes:
    """Headers and a Content-Length body; b"" if the peer went away."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def head(status: int = 200, ctype: str = "application/json", **headers: Any) -> bytes:
    lines = [f"HTTP/1.1 {status} X", f"Content-Type: {ctype}", "Connection: close"]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def answer(body: bytes, status: int = 200, **headers: Any) -> Script:
    def script(sock: socket.socket, index: int) -> None:
        read_request(sock)
        sock.sendall(head(status, Content_Length=len(body), **headers) + body)

    return script


def reset(sock: socket.socket) -> None:
    """Close with RST instead of FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class Hostile:
    def __init__(self, script: Script, port: int = 0) -> None:
        self.script = script
        self.connections = 0
        self.requests: list[bytes] = []
        self._listener = socket.create_server(("127.0.0.1", port), reuse_port=False)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            index, self.connections = self.connections, self.connections + 1
            thread = threading.Thread(target=self._run, args=(sock, index), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _run(self, sock: socket.socket, index: int) -> None:
        try:
            self.script(sock, index)
        except OSError:
            pass
        finally:
            with suppress(OSError):
                sock.close()

    def __enter__(self) -> Hostile:
        self._accept.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._accept.join(2)
        self._listener.close()
        for thread in self._threads:
            thread.join(0.5)


@contextmanager
def hostile(script: Script) -> Iterator[Hostile]:
    with Hostile(script) as server:
        yield server


# -- TLS --------------------------------------------------------------------------------
_CERT: tuple[str, str] | None = None


def certificate() -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1: (cert path, key path)."""
    global _CERT
    if _CERT is None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )  # fmt: skip
        folder = Path(tempfile.mkdtemp(prefix="cascade-tls-"))
        (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (folder / "key.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))  # fmt: skip
        _CERT = (str(folder / "cert.pem"), str(folder / "key.pem"))
    return _CERT


def tls(script: Script) -> Script:
    """``script`` behind a TLS handshake with the test certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate())

    def wrapped(sock: socket.socket, index: int) -> None:
        sock.settimeout(5)
        try:
            secure = context.wrap_socket(sock, server_side=True)
        except (ssl.SSLError, OSError):
            return
        script(secure, index)

    return wrapped


# -- both clients -----------------------------------------------------------------------
def message() -> Message:
    return Message([SMS("hi", "Shop")], [{"phone": "79000000001", "client_id_message": 7}])


def settings(url: str, variant: str = "json") -> CodecSettings:
    return CodecSettings(base_url=url, auth=LoginPassword("shop", SECRET))


def clients_kwargs(**overrides: Any) -> dict[str, Any]:
    kw: dict[str, Any] = {
        "timeout": (1.0, 1.0),
        "deadline": 3.0,
        "policy": RetryPolicy(retry_limit=1, retry_delay=0.05),
        "repeat_window": 0.0,
    }
    kw.update(overrides)
    return kw


def run(which: str, url: str, operation: str, variant: str = "json", **overrides: Any) -> Any:
    """Send one message or ask one state with the sync or async client; the result, or
    the CascadeError raised."""
    codec = make_codec(Variant(variant), settings(url))
    kw = clients_kwargs(**overrides)
    if which == "sync":
        client = CascadeClient(codec, **kw)
        try:
            return client.send([message()]) if operation == "send" else client.get_states(["123"])
        except CascadeError as exc:
            return exc
        finally:
            client.close()

    async def go() -> Any:
        aclient = AsyncCascadeClient(codec, **kw)
        try:
            if operation == "send":
                return await aclient.send([message()])
            return await aclient.get_states(["123"])
        except CascadeError as exc:
            return exc
        finally:
            await aclient.aclose()

    return asyncio.run(go())


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.monotonic()
    result = fn()
    return result, time.monotonic() - start
