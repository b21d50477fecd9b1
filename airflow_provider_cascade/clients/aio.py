"""The asyncio client over ``httpx`` (shipped with Airflow 3): never blocks the event loop,
and fails the way the blocking client does (same failure table, same retry decisions)."""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any

import certifi
import httpx

from ..gateway import (
    CascadeDuplicateRequestError,
    CascadeError,
    Message,
    MessageState,
    SendResult,
    Variant,
    defaults,
)
from ..gateway.codec import Codec, HttpRequest, HttpResponse, SendBatch
from ._body import ACCEPT_ENCODING, BadEncoding, BodyReader
from ._log_redaction import install as _redact_http_logs
from ._policy import Failure, Retrying, RetryPolicy, TransportFailure, classify
from ._safety import attach_partial_results, warn_if_insecure
from ._throttle import GetStateThrottle

log = logging.getLogger(__name__)
_redact_http_logs()
_SSL_CONTEXTS: dict[str, ssl.SSLContext] = {}
_SSL_LOCK = threading.Lock()


async def tls_verify(verify: bool | str) -> bool | ssl.SSLContext:
    """One shared SSL context per CA setting, built off the event loop: loading a CA
    bundle takes tens of milliseconds, which a triggerer with many triggers cannot afford."""
    if verify is False:
        return False
    key = "certifi" if verify is True else str(verify)
    context = _SSL_CONTEXTS.get(key)
    if context is None:  # a thousand triggers starting at once build it once, not each
        cafile = certifi.where() if verify is True else str(verify)
        context = await asyncio.to_thread(_ssl_context, key, cafile)
    return context


def _ssl_context(key: str, cafile: str) -> ssl.SSLContext:
    with _SSL_LOCK:
        context = _SSL_CONTEXTS.get(key)
        if context is None:
            context = _SSL_CONTEXTS[key] = ssl.create_default_context(cafile=cafile)
        return context


def _new_http_client(verify: bool | ssl.SSLContext) -> httpx.AsyncClient:
    return httpx.AsyncClient(verify=verify, follow_redirects=False, trust_env=True)


async def _closed_with_loop(
    client: httpx.AsyncClient, on_close: Callable[[], None]
) -> AsyncIterator[None]:
    try:
        yield
    finally:
        on_close()
        await client.aclose()


async def _tie_to_loop(
    client: httpx.AsyncClient, on_close: Callable[[], None] = lambda: None
) -> AsyncIterator[None]:
    """Close ``client`` when its event loop shuts down: ``asyncio.run`` finalizes every
    async generator started in its loop, so this one's ``finally`` runs in time. Keep the
    returned generator referenced as long as the client is."""
    keeper = _closed_with_loop(client, on_close)
    await keeper.__anext__()
    return keeper


_SHARED: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[Any, tuple[httpx.AsyncClient, AsyncIterator[None]]]
]
_SHARED = weakref.WeakKeyDictionary()


MAX_IN_FLIGHT = 64
"""Requests on the wire at once per event loop. httpx's pool (100 connections) handles more
by queueing them, but its queue costs work per waiter on every completion: a thousand
triggers polling together cost 25 ms of CPU each and froze the triggerer's loop for seconds."""

_SLOTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
_SLOTS = weakref.WeakKeyDictionary()


def _in_flight() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slots = _SLOTS.get(loop)
    if slots is None:
        slots = _SLOTS[loop] = asyncio.Semaphore(MAX_IN_FLIGHT)
    return slots


def _forget(pools: dict[Any, Any], key: Any, client: httpx.AsyncClient) -> None:
    if key in pools and pools[key][0] is client:
        del pools[key]


async def shared_http_client(verify: bool | ssl.SSLContext) -> httpx.AsyncClient:
    """One connection pool per event loop and TLS setting, shared by every trigger in a
    triggerer (fewer sockets, at most 100 concurrent requests to the gateway), closed when
    its loop shuts down."""
    loop = asyncio.get_running_loop()
    for other in [lp for lp in list(_SHARED) if lp.is_closed()]:
        _SHARED.pop(other, None)  # a loop closed without asyncio.run's finalization
    pools = _SHARED.setdefault(loop, {})
    key = id(verify) if isinstance(verify, ssl.SSLContext) else verify
    entry = pools.get(key)
    if entry is None or entry[0].is_closed:
        # registered before the first await: triggers starting together share this one
        client = _new_http_client(verify)
        keeper = _closed_with_loop(client, partial(_forget, pools, key, client))
        pools[key] = entry = (client, keeper)
        await keeper.__anext__()
    return entry[0]


class AsyncCascadeClient:
    def __init__(
        self,
        codec: Codec,
        *,
        timeout: tuple[float, float] = (defaults.CONNECT_TIMEOUT, defaults.READ_TIMEOUT),
        deadline: float = defaults.REQUEST_DEADLINE,
        verify: bool | ssl.SSLContext = True,
        policy: RetryPolicy | None = None,
        client: httpx.AsyncClient | None = None,
        shared_pool: bool = False,
        repeat_window: float = defaults.REPEAT_WINDOW,
    ) -> None:
        """``client``: an httpx client to use (it belongs to the loop it is first used in);
        ``shared_pool``: the per-loop pool the triggers share; else a client of our own,
        made anew in each event loop the client is used from."""
        self.codec = codec
        self.policy = policy or RetryPolicy()
        connect, read = timeout
        # no pool timeout: a request waiting for one of the shared pool's connections (a
        # triggerer with a thousand waits) is not a failed connect; the deadline bounds it
        self.timeout = httpx.Timeout(read, connect=connect, pool=None)
        self.deadline = deadline
        self.verify = verify
        self._given = client
        self._given_loop: asyncio.AbstractEventLoop | None = None
        self._shared = shared_pool
        self._own: httpx.AsyncClient | None = None
        self._own_loop: asyncio.AbstractEventLoop | None = None
        self._keeper: AsyncIterator[None] | None = None
        self.repeat_window = repeat_window
        self.throttle = GetStateThrottle(repeat_window)
        self.requests_made = 0
        warn_if_insecure(codec.settings, verify)

    async def aclose(self) -> None:
        """Close the client of our own, if any (a given or shared one stays open)."""
        own, self._own, self._keeper = self._own, None, None
        if own is not None and self._own_loop is asyncio.get_running_loop():
            await own.aclose()

    async def _http(self) -> httpx.AsyncClient | None:
        """The httpx client for the running loop; None if the given one belongs to another."""
        loop = asyncio.get_running_loop()
        if self._given is not None:
            if self._given_loop is None:
                self._given_loop = loop
            return self._given if self._given_loop is loop else None
        if self._shared:
            return await shared_http_client(self.verify)
        if self._own is None or self._own_loop is not loop or self._own.is_closed:
            self._own = _new_http_client(self.verify)
            self._own_loop = loop
            self._keeper = await _tie_to_loop(self._own)
        return self._own

    # -- one HTTP exchange ------------------------------------------------------------
    async def exchange(self, request: HttpRequest) -> HttpResponse | TransportFailure:
        """One attempt, bounded in time (the deadline) and memory (the body cap)."""
        self.requests_made += 1
        http = await self._http()
        if http is None:
            return TransportFailure(Failure.OTHER_LOOP)
        sent = [False]

        async def trace(name: str, info: Mapping[str, Any]) -> None:
            if name.endswith("send_request_headers.started"):
                sent[0] = True

        error: CascadeError | None = None
        try:
            async with _in_flight():
                return await asyncio.wait_for(self._exchange(http, request, trace), self.deadline)
        except BadEncoding as exc:
            failure = TransportFailure(Failure.BAD_ENCODING, str(exc))
        except CascadeError as exc:  # the body cap
            error = exc
        except asyncio.TimeoutError:
            failure = (
                TransportFailure(Failure.DEADLINE, f"{self.deadline:g} s")
                if sent[0]
                else TransportFailure(Failure.CONNECT_TIMEOUT)
            )
        except Exception as exc:
            timed_out = isinstance(exc, httpx.TimeoutException)
            kind = classify(exc, connected=sent[0], timed_out=timed_out)
            failure = TransportFailure(kind)
        if error is not None:
            raise error  # outside the handler: no library exception in the chain
        return failure

    async def _exchange(
        self, http: httpx.AsyncClient, request: HttpRequest, trace: Callable[..., Any]
    ) -> HttpResponse:
        headers = {"Accept-Encoding": ACCEPT_ENCODING, **request.headers}
        async with http.stream(
            request.method, request.url, headers=headers, content=request.body,
            timeout=self.timeout, extensions={"trace": trace},
        ) as response:  # fmt: skip
            reader = BodyReader(response.headers)
            async for chunk in response.aiter_raw():
                reader.feed(chunk)
            return HttpResponse(response.status_code, reader.body(), dict(response.headers))

    async def _fetch(self, request: HttpRequest, *, resend: bool) -> HttpResponse:
        retrying = Retrying(self.policy, resend=resend, repeat_window=self.repeat_window)
        while True:
            step = retrying.after(await self.exchange(request))
            if isinstance(step, HttpResponse):
                return step
            if isinstance(step, CascadeError):
                raise step
            log.warning("%s", retrying.note(step))
            await asyncio.sleep(step)

    # -- sends ------------------------------------------------------------------------
    async def send_batch(self, batch: SendBatch) -> list[SendResult]:
        """One logical send of one batch; see ``CascadeClient.send_batch``."""
        return self.codec.parse_send(batch, await self._fetch(batch.request, resend=False))

    async def send(self, messages: Sequence[Message | Mapping[str, Any]]) -> list[SendResult]:
        """``send_batch`` strictly in sequence; a failure carries ``partial_results``."""
        results: list[SendResult] = []
        for batch in self.codec.send_batches(messages):
            try:
                results.extend(await self.send_batch(batch))
            except CascadeError as exc:
                attach_partial_results(exc, results)
                raise
        return results

    # -- status queries ---------------------------------------------------------------
    async def get_states(self, id_messages: Iterable[str | int]) -> dict[str, MessageState]:
        """As ``CascadeClient.get_states``: refused repeats are left out."""
        out: dict[str, MessageState] = {}
        get = self.codec.variant is Variant.GET
        for batch in self.codec.state_batches(id_messages):
            if get and not self.throttle.may_ask(batch.ids[0]):
                continue
            response = await self._fetch(batch.request, resend=True)
            try:
                out.update(self.codec.parse_state(batch, response))
            except CascadeDuplicateRequestError:
                log.debug("Cascade refused a repeated status query for %d ids", len(batch.ids))
        return out
