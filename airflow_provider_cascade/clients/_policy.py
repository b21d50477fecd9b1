"""The one failure table and the one retry decision, shared by the sync and async clients.

Each client turns its library's exception into a ``Failure`` with ``classify`` (only whether
the connection was established and whether a timeout fired are the library's to say); the
table says what the failure means, and ``Retrying`` decides what happens next. Both clients
drive ``Retrying`` the same way, so the same fault ends the same way whichever client met it.
"""

from __future__ import annotations

import errno
import socket
import ssl
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

from ..gateway import (
    CascadeError,
    CascadeServerError,
    CascadeTransportError,
    defaults,
)
from ..gateway.codec import HttpResponse


class Failure(Enum):
    """Every way a request can fail below HTTP: (reason, may_have_sent, retryable).

    ``may_have_sent``: the request may have reached the gateway, so a send must not be
    repeated blindly. ``retryable``: trying again can help (a bad certificate, a malformed
    request or the deadline cannot be cured by trying again at once).
    """

    DNS = ("the gateway's host name did not resolve", False, True)
    REFUSED = ("connection refused", False, True)
    CONNECT_TIMEOUT = ("timed out connecting", False, True)
    TLS_HANDSHAKE = ("TLS handshake failed", False, True)
    BAD_CERTIFICATE = ("TLS certificate verification failed", False, False)
    CONNECT_FAILED = ("could not connect", False, True)
    INVALID_REQUEST = ("the request could not be written", False, False)
    OTHER_LOOP = ("the HTTP client belongs to another event loop", False, False)
    READ_TIMEOUT = ("timed out waiting for the answer", True, True)
    RESET = ("connection reset or closed without a complete answer", True, True)
    TRUNCATED = ("the answer was cut short", True, True)
    BAD_CHUNK = ("the answer's chunked encoding is broken", True, True)
    BAD_ENCODING = ("the answer's content encoding is broken", True, True)
    DEADLINE = ("the request deadline passed", True, False)
    PROTOCOL = ("the answer is not valid HTTP", True, True)

    def __init__(self, text: str, may_have_sent: bool, retryable: bool) -> None:
        self.text = text
        self.may_have_sent = may_have_sent
        self.retryable = retryable

    def error(self, detail: str = "") -> CascadeTransportError:
        reason = f"{self.text} ({detail})" if detail else self.text
        return CascadeTransportError(reason, may_have_sent=self.may_have_sent)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes and contexts, and exceptions wrapped in ``reason``/``args``
    (urllib3 and httpx nest the socket error a few levels down)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        item = todo.pop(0)
        if id(item) in seen or len(seen) > 20:
            continue
        seen.add(id(item))
        yield item
        nested = [item.__cause__, item.__context__, getattr(item, "reason", None)]
        nested += [a for a in getattr(item, "args", ()) if isinstance(a, BaseException)]
        todo += [n for n in nested if isinstance(n, BaseException)]


def classify(exc: BaseException, *, connected: bool, timed_out: bool) -> Failure:
    """The failure an exception stands for. ``connected`` is True once a byte of the request
    may have left (after the TCP connect and TLS handshake); ``timed_out`` when the library
    says a timeout fired."""
    chain = list(_chain(exc))
    names = " ".join(type(e).__name__ for e in chain).lower()
    text = " ".join(str(e) for e in chain).lower()
    if any(isinstance(e, ssl.SSLCertVerificationError) for e in chain) or (
        "certificate_verify_failed" in text
    ):
        return Failure.BAD_CERTIFICATE
    if not connected:
        if timed_out:
            return Failure.CONNECT_TIMEOUT
        if (
            any(isinstance(e, socket.gaierror) for e in chain)
            or "nameresolution" in names
            or ("name or service not known" in text or "nodename nor servname" in text)
        ):
            return Failure.DNS
        if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in text:
            return Failure.REFUSED
        if any(isinstance(e, ssl.SSLError) for e in chain) or "ssl" in names:
            return Failure.TLS_HANDSHAKE
        if any(isinstance(e, (UnicodeError, ValueError)) for e in chain):
            return Failure.INVALID_REQUEST
        return Failure.CONNECT_FAILED
    if timed_out:
        return Failure.READ_TIMEOUT
    if any(isinstance(e, zlib.error) for e in chain) or "decod" in names:
        return Failure.BAD_ENCODING
    if "chunk" in names or "chunk" in text or "with base 16" in text:  # http.client's size
        return Failure.BAD_CHUNK
    if "incompleteread" in names or "incomplete" in text or "complete message body" in text:
        return Failure.TRUNCATED
    if any(isinstance(e, OSError) and e.errno in (errno.ECONNRESET, errno.EPIPE) for e in chain):
        return Failure.RESET
    if any(isinstance(e, (ConnectionError, ssl.SSLError)) for e in chain) or (
        "disconnected" in names or "closed" in text or "reset" in text or "abort" in text
    ):
        return Failure.RESET
    return Failure.PROTOCOL


@dataclass(frozen=True)
class TransportFailure:
    """What a client's single exchange gives back instead of an answer."""

    failure: Failure
    detail: str = ""

    def error(self) -> CascadeTransportError:
        return self.failure.error(self.detail)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to try again (connection extras ``retry_limit``,
    ``retry_delay``; hook arguments of the same names)."""

    retry_limit: int = defaults.RETRY_LIMIT
    """Tries after the first one."""
    retry_delay: float = defaults.RETRY_DELAY
    """Seconds before the first retry, doubled for each further one."""
    max_delay: float = defaults.RETRY_MAX_DELAY

    def backoff(self, retry: int) -> float:
        return float(min(self.retry_delay * 2 ** (retry - 1), self.max_delay))


def repeat_wait(window: float) -> float:
    """Seconds after which the gateway surely takes the same request again: its repeat
    window plus a margin for clock steps (10 %, at most 1 s); 0 where there is no rule."""
    return window + min(1.0, window / 10) if window > 0 else 0.0


class Retrying:
    """One logical request's attempts, as a small state machine both clients drive::

        retrying = Retrying(policy, resend=...)
        while True:
            step = retrying.after(exchange(request))
            if isinstance(step, HttpResponse): return step
            if isinstance(step, CascadeError): raise step
            sleep(step)

    ``resend`` says whether a request that may have reached the gateway may be repeated:
    True for status queries (read-only), False for sends (the caller decides, after the
    gateway's repeat window, with the same client ids). A repeat of a request that may have
    reached the gateway waits out ``repeat_window`` first: inside it the gateway would refuse
    the copy, and a refused status query says nothing about its ids.
    """

    def __init__(self, policy: RetryPolicy, *, resend: bool, repeat_window: float = 0.0) -> None:
        self.policy = policy
        self.resend = resend
        self.repeat_wait = repeat_wait(repeat_window)
        self.retries = 0
        self.last: CascadeError | None = None
        """The failure behind the latest wait (for the log line)."""

    def after(
        self, outcome: HttpResponse | TransportFailure
    ) -> HttpResponse | float | CascadeError:
        """The answer to decode, seconds to wait before the next attempt, or the error."""
        delay: float | None
        if isinstance(outcome, TransportFailure):
            failure = outcome.failure
            error: CascadeError = outcome.error()
            ok = failure.retryable and (self.resend or not failure.may_have_sent)
            delay = self._next() if ok else None
            if delay is not None and failure.may_have_sent:
                delay = max(delay, self.repeat_wait)
        else:
            try:
                outcome.raise_for_status()
                return outcome
            except CascadeError as exc:
                error = exc
            error.__context__ = None  # keep the raise site's chain empty
            delay = None
            # 429: the gateway did not take the request; 5xx: it may have.
            if isinstance(error, CascadeServerError) and (error.http_status == 429 or self.resend):
                delay = self._next()
                if delay is not None and error.retry_after is not None:
                    delay = min(error.retry_after, self.policy.max_delay)
                if delay is not None and error.http_status != 429:
                    delay = max(delay, self.repeat_wait)
        self.last = error
        return error if delay is None else delay

    def note(self, delay: float) -> str:
        """The log line before a wait (the same words from both clients)."""
        return f"Cascade request failed ({self.last}); retry {self.retries} in {delay:.1f}s"

    def _next(self) -> float | None:
        if self.retries >= self.policy.retry_limit:
            return None
        self.retries += 1
        return self.policy.backoff(self.retries)
