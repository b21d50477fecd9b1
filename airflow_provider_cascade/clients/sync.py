"""A blocking client over ``requests``: one session, explicit timeouts, TLS verification on."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import requests

from ..gateway import (
    CascadeDuplicateRequestError,
    CascadeError,
    CascadeResponseError,
    CascadeTransportError,
    Codec,
    HttpRequest,
    HttpResponse,
    Message,
    MessageState,
    SendResult,
    Variant,
)
from ._log_redaction import install as _redact_http_logs
from ._policy import MAX_BODY, RetryPolicy, transport_reason
from ._throttle import GetStateThrottle

log = logging.getLogger(__name__)
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

    def _with_retries(self, request: HttpRequest, retry_safe: bool, parse: Any) -> Any:
        attempt = 0
        while True:
            attempt += 1
            try:
                return parse(self.exchange(request))
            except CascadeError as exc:
                delay = self.policy.delay(exc, attempt, retry_safe=retry_safe)
                if delay is None:
                    raise
                log.warning("Cascade request failed (%s); retry %d in %.1fs", exc, attempt, delay)
                time.sleep(delay)

    def send(self, messages: Sequence[Message | Mapping[str, Any]]) -> list[SendResult]:
        """Validate all, then send batch by batch; results in request order."""
        results: list[SendResult] = []
        for batch in self.codec.send_batches(messages):
            results.extend(
                self._with_retries(
                    batch.request, batch.retry_safe, lambda r, b=batch: self.codec.parse_send(b, r)
                )
            )
        return results

    def get_states(self, id_messages: Iterable[str | int]) -> dict[str, MessageState]:
        """States of the ids the gateway lets us ask about now; throttled ids are left out."""
        out: dict[str, MessageState] = {}
        get = self.codec.variant is Variant.GET
        for batch in self.codec.state_batches(id_messages):
            if get and not self.throttle.may_ask(batch.ids[0]):
                continue
            try:
                out.update(
                    self._with_retries(
                        batch.request, True, lambda r, b=batch: self.codec.parse_state(b, r)
                    )
                )
            except CascadeDuplicateRequestError:
                log.info("Cascade asked to wait a minute before repeating a status query")
        return out
