"""A total deadline per blocking request. Socket timeouts bound each read, not the request:
a gateway sending one byte a second never trips them. One watchdog thread shuts the socket
of a request whose deadline passed, which ends any blocked read at once.

``requests`` does not expose the socket while headers are awaited, so the adapter mounted
by the client uses connection classes that report their socket to the current ``Guard``
(a thread-local: one request at a time per thread, as ``requests`` works)."""

from __future__ import annotations

import contextlib
import heapq
import socket
import threading
import time
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_LOCAL = threading.local()


class Guard:
    """One request's deadline; ``connected`` tells the failure table whether a byte of the
    request may have left (the TCP connect and TLS handshake have succeeded)."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.connected = False
        self.expired = False
        self.done = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return max(0.001, self.deadline - time.monotonic())

    def attach(self, sock: Any) -> None:
        with self._lock:
            self.connected = True
            self._sock = sock if isinstance(sock, socket.socket) else None
            expired = self.expired
        if expired:
            _shutdown(sock)

    def expire(self) -> None:
        with self._lock:
            if self.done:
                return
            self.expired = True
            sock = self._sock
        if sock is not None:
            _shutdown(sock)

    def __enter__(self) -> Guard:
        _LOCAL.guard = self
        _WATCHDOG.watch(self)
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.done = True
            self._sock = None
        _LOCAL.guard = None


def _shutdown(sock: Any) -> None:
    # the plain socket's shutdown, also for an SSLSocket: ends a read blocked in
    # another thread without touching the TLS object that thread is using
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Guard]] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._count = 0

    def watch(self, guard: Guard) -> None:
        with self._cond:
            self._count += 1
            heapq.heappush(self._heap, (guard.deadline, self._count, guard))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="cascade-deadline", daemon=True
                )
                self._thread.start()
            elif self._heap[0][2] is guard:
                self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait(30.0)
                    if not self._heap:
                        self._thread = None
                        return
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                _, _, guard = heapq.heappop(self._heap)
            guard.expire()


_WATCHDOG = _Watchdog()


def _report(conn: HTTPConnection) -> None:
    guard: Guard | None = getattr(_LOCAL, "guard", None)
    if guard is not None and conn.sock is not None:
        guard.attach(conn.sock)


class _Watched:
    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        _report(self)  # type: ignore[arg-type]

    def request(self, *args: Any, **kwargs: Any) -> None:
        _report(self)  # type: ignore[arg-type]  # a kept-alive connection: no connect()
        super().request(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_Watched, HTTPConnection):
    pass


class _HTTPSConnection(_Watched, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter with connections that report their socket to the request's Guard."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
