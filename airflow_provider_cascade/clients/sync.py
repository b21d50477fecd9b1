"""A blocking client over ``requests``: one session, explicit timeouts, TLS verification on."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

import requests

from ..gateway import (
    CascadeDuplicateRequestError,
    CascadeError,
    CascadeResponseError,
    CascadeTransportError,
    Message,
    MessageState,
    SendResult,
    Variant,
)
from ..gateway.codec import Codec, HttpRequest, HttpResponse, StateBatch, check_status
from ._log_redaction import install as _redact_http_logs
from ._policy import MAX_BODY, RetryPolicy, transport_reason
from ._throttle import GetStateThrottle

log = logging.getLogger(__name__)
T = TypeVar("T")
_redact_http_logs()


class CascadeClient:
    def __init__(
        self,
        codec: Codec,
        *,
        timeout: tuple[float, float] = (10.0, 60.0),
        verify: bool | str = True,
        policy: RetryPolicy | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.codec = codec
        self.timeout = timeout
        self.verify = verify
        self.policy = policy or RetryPolicy()
        self.session = session or requests.Session()
        self.throttle = GetStateThrottle()
        self.requests_made = 0

    def close(self) -> None:
        self.session.close()

    def exchange(self, request: HttpRequest) -> HttpResponse:
        self.requests_made += 1
        try:
            with self.session.request(
                request.method,
                request.url,
                headers=dict(request.headers),
                data=request.body,
                timeout=self.timeout,
                verify=self.verify,
                allow_redirects=False,
                stream=True,
            ) as response:
                body = response.raw.read(MAX_BODY + 1, decode_content=True)
                if len(body) > MAX_BODY:
                    raise CascadeResponseError(f"response larger than {MAX_BODY} bytes")
                return HttpResponse(response.status_code, body, dict(response.headers))
        except requests.exceptions.RequestException as exc:
            sent = (
                not isinstance(
                    exc, (requests.exceptions.ConnectTimeout, requests.exceptions.InvalidURL)
                )
                and "refused" not in str(exc).lower()
            )
            failure = CascadeTransportError(transport_reason(exc), may_have_sent=sent)
        except OSError as exc:  # e.g. a reset while streaming the body
            failure = CascadeTransportError(transport_reason(exc), may_have_sent=True)
        # Raised outside the handler: requests' exceptions embed the URL (and the GET
        # variant's password), so they must not even be kept as __context__.
        raise failure

    def _fetch(self, request: HttpRequest, retry_safe: bool) -> HttpResponse:
        """One exchange with retries; the status is checked here, the body is read later."""
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.exchange(request)
                check_status(response)
                return response
            except CascadeError as exc:
                delay = self.policy.delay(exc, attempt, retry_safe=retry_safe)
                if delay is None:
                    raise
                log.warning("Cascade request failed (%s); retry %d in %.1fs", exc, attempt, delay)
                time.sleep(delay)

    def _pipelined(
        self, jobs: Iterable[tuple[HttpRequest, bool, Callable[[HttpResponse], T]]]
    ) -> Iterator[T]:
        """Decode answer i in a worker thread while request i+1 is on the wire (the socket
        wait releases the GIL), with at most one request ahead of the last decoded answer."""
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cascade-decode") as pool:
            ahead: Future[T] | None = None
            for request, retry_safe, parse in jobs:
                response = self._fetch(request, retry_safe)
                if ahead is not None:
                    yield ahead.result()
                ahead = pool.submit(parse, response)
            if ahead is not None:
                yield ahead.result()

    def send(self, messages: Sequence[Message | Mapping[str, Any]]) -> list[SendResult]:
        """Validate all, then send batch by batch; results in request order.

        A decoding failure surfaces after at most one further batch was sent; resending is
        safe when recipients carry client ids (the send operators always set them).
        """
        jobs = (
            (b.request, b.retry_safe, partial(self.codec.parse_send, b))
            for b in self.codec.send_batches(messages)
        )
        return [result for results in self._pipelined(jobs) for result in results]

    def get_states(self, id_messages: Iterable[str | int]) -> dict[str, MessageState]:
        """States of the ids the gateway lets us ask about now; throttled ids are left out."""
        out: dict[str, MessageState] = {}
        get = self.codec.variant is Variant.GET
        batches = [
            b for b in self.codec.state_batches(id_messages)
            if not get or self.throttle.may_ask(b.ids[0])
        ]  # fmt: skip
        jobs = ((b.request, True, partial(self._parse_state, b)) for b in batches)
        for states in self._pipelined(jobs):
            out.update(states)
        return out

    def _parse_state(self, batch: StateBatch, response: HttpResponse) -> dict[str, MessageState]:
        try:
            return self.codec.parse_state(batch, response)
        except CascadeDuplicateRequestError:
            log.info("Cascade asked to wait a minute before repeating a status query")
            return {}
