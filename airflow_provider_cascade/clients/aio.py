"""The asyncio client over ``httpx`` (shipped with Airflow 3): never blocks the event loop."""

from __future__ import annotations

import asyncio
import logging
import ssl
import weakref
from collections.abc import Iterable
from typing import Any

import certifi
import httpx

from ..gateway import (
    CascadeDuplicateRequestError,
    CascadeError,
    CascadeResponseError,
    CascadeTransportError,
    MessageState,
    Variant,
)
from ..gateway.codec import Codec, HttpRequest, HttpResponse
from ._log_redaction import install as _redact_http_logs
from ._policy import MAX_BODY, RetryPolicy, transport_reason
from ._throttle import GetStateThrottle

log = logging.getLogger(__name__)
_redact_http_logs()
_SSL_CONTEXTS: dict[str, ssl.SSLContext] = {}


async def tls_verify(verify: bool | str) -> bool | ssl.SSLContext:
    """One shared SSL context per CA setting, built off the event loop: loading a CA
    bundle takes tens of milliseconds, which a triggerer with many triggers cannot afford."""
    if verify is False:
        return False
    key = "certifi" if verify is True else str(verify)
    context = _SSL_CONTEXTS.get(key)
    if context is None:
        cafile = certifi.where() if verify is True else str(verify)
        context = await asyncio.to_thread(ssl.create_default_context, cafile=cafile)
        _SSL_CONTEXTS[key] = context
    return context


_SHARED: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[Any, ...], httpx.AsyncClient]
]
_SHARED = weakref.WeakKeyDictionary()


def shared_http_client(
    timeout: tuple[float, float], verify: bool | ssl.SSLContext
) -> httpx.AsyncClient:
    """One connection pool per event loop and settings, shared by every trigger in a
    triggerer: fewer sockets and objects, and at most 100 concurrent requests to the gateway."""
    loop = asyncio.get_running_loop()
    pools = _SHARED.setdefault(loop, {})
    key = (timeout, id(verify) if isinstance(verify, ssl.SSLContext) else verify)
    client = pools.get(key)
    if client is None or client.is_closed:
        connect, read = timeout
        client = httpx.AsyncClient(
            timeout=httpx.Timeout(read, connect=connect), verify=verify, follow_redirects=False
        )
        pools[key] = client
    return client


class AsyncCascadeClient:
    def __init__(
        self,
        codec: Codec,
        *,
        timeout: tuple[float, float] = (10.0, 60.0),
        verify: bool | ssl.SSLContext = True,
        policy: RetryPolicy | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.codec = codec
        self.policy = policy or RetryPolicy()
        connect, read = timeout
        self._owns_client = client is None
        self.client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(read, connect=connect), verify=verify, follow_redirects=False
        )
        self.throttle = GetStateThrottle()
        self.requests_made = 0

    async def aclose(self) -> None:
        if self._owns_client:
            await self.client.aclose()

    async def exchange(self, request: HttpRequest) -> HttpResponse:
        self.requests_made += 1
        try:
            async with self.client.stream(
                request.method, request.url, headers=dict(request.headers), content=request.body
            ) as response:
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_BODY:
                        raise CascadeResponseError(f"response larger than {MAX_BODY} bytes")
                    chunks.append(chunk)
                return HttpResponse(response.status_code, b"".join(chunks), dict(response.headers))
        except httpx.HTTPError as exc:
            sent = not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
            failure = CascadeTransportError(transport_reason(exc), may_have_sent=sent)
        raise failure  # outside the handler: httpx errors embed the URL

    async def _with_retries(self, request: HttpRequest, parse: Any) -> Any:
        attempt = 0
        while True:
            attempt += 1
            try:
                return parse(await self.exchange(request))
            except CascadeError as exc:
                delay = self.policy.delay(exc, attempt, retry_safe=True)
                if delay is None:
                    raise
                log.warning("Cascade status query failed (%s); retry in %.1fs", exc, delay)
                await asyncio.sleep(delay)

    async def get_states(self, id_messages: Iterable[str | int]) -> dict[str, MessageState]:
        out: dict[str, MessageState] = {}
        get = self.codec.variant is Variant.GET
        for batch in self.codec.state_batches(id_messages):
            if get and not self.throttle.may_ask(batch.ids[0]):
                continue
            try:
                out.update(
                    await self._with_retries(
                        batch.request, lambda r, b=batch: self.codec.parse_state(b, r)
                    )
                )
            except CascadeDuplicateRequestError:
                log.info("Cascade asked to wait a minute before repeating a status query")
        return out
