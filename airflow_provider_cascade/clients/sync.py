"""A blocking client over ``requests``: one session, explicit timeouts, a total deadline per
request, TLS verification on, and every failure a typed ``CascadeError``."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
import urllib3.exceptions

from ..gateway import (
    CascadeDuplicateRequestError,
    CascadeError,
    Message,
    MessageState,
    SendResult,
    Variant,
    defaults,
)
from ..gateway.codec import Codec, HttpRequest, HttpResponse, SendBatch, StateBatch
from ._body import ACCEPT_ENCODING, CHUNK, BadEncoding, BodyReader
from ._deadline import DeadlineAdapter, Guard
from ._log_redaction import install as _redact_http_logs
from ._policy import Failure, Retrying, RetryPolicy, TransportFailure, classify
from ._safety import attach_partial_results, warn_if_insecure
from ._throttle import GetStateThrottle

log = logging.getLogger(__name__)
T = TypeVar("T")
_redact_http_logs()
_TIMEOUTS = (
    requests.exceptions.Timeout,
    urllib3.exceptions.TimeoutError,
    TimeoutError,
)


class CascadeClient:
    def __init__(
        self,
        codec: Codec,
        *,
        timeout: tuple[float, float] = (defaults.CONNECT_TIMEOUT, defaults.READ_TIMEOUT),
        deadline: float = defaults.REQUEST_DEADLINE,
        verify: bool | str = True,
        policy: RetryPolicy | None = None,
        session: requests.Session | None = None,
        repeat_window: float = defaults.REPEAT_WINDOW,
    ) -> None:
        self.codec = codec
        self.timeout = timeout
        self.deadline = deadline
        self.verify = verify
        self.policy = policy or RetryPolicy()
        self.session = session or requests.Session()
        adapter = DeadlineAdapter()
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.repeat_window = repeat_window
        self.throttle = GetStateThrottle(repeat_window)
        self.requests_made = 0
        self._env_by_host: dict[tuple[str, str], Mapping[str, Any]] = {}
        warn_if_insecure(codec.settings, verify)

    def close(self) -> None:
        self.session.close()

    # -- one HTTP exchange ------------------------------------------------------------
    def exchange(self, request: HttpRequest) -> HttpResponse | TransportFailure:
        """One attempt, bounded in time (the deadline) and memory (the body cap)."""
        self.requests_made += 1
        error: CascadeError | None = None
        with Guard(self.deadline) as guard:
            try:
                response = self._exchange(request, guard)
                if not guard.expired:
                    return response
                # the watchdog's shutdown can pass for the end of the headers or body
                failure = TransportFailure(Failure.DEADLINE, f"{self.deadline:g} s")
            except BadEncoding as exc:
                failure = TransportFailure(Failure.BAD_ENCODING, str(exc))
            except CascadeError as exc:  # the body cap
                error = exc
            except Exception as exc:
                timed_out = any(isinstance(e, _TIMEOUTS) for e in (exc, exc.__cause__))
                kind = classify(exc, connected=guard.connected, timed_out=timed_out)
                failure = (
                    TransportFailure(Failure.DEADLINE, f"{self.deadline:g} s")
                    if guard.expired
                    else TransportFailure(kind)
                )
        if error is not None:
            raise error  # outside the handler: no library exception in the chain
        return failure

    def _exchange(self, request: HttpRequest, guard: Guard) -> HttpResponse:
        url = request.url
        headers = {"Accept-Encoding": ACCEPT_ENCODING, **request.headers}
        prepared = self.session.prepare_request(
            requests.Request(
                request.method, url, headers=headers, data=request.body, auth=_as_given
            )
        )
        env = self._environment(url)
        connect, read = self.timeout
        timeout = (min(connect, guard.remaining()), min(read, guard.remaining()))
        adapter = self.session.get_adapter(url)
        # The adapter, not Session.send: Session.send reads a 3xx body whole even without
        # following redirects; here every status gets the same bounded read.
        response = adapter.send(
            prepared, stream=True, timeout=timeout, verify=env.get("verify", self.verify),
            cert=env.get("cert"), proxies=env.get("proxies"),
        )  # fmt: skip
        with response:
            reader = BodyReader(response.headers)
            while chunk := response.raw.read(CHUNK, decode_content=False):
                reader.feed(chunk)
            return HttpResponse(response.status_code, reader.body(), dict(response.headers))

    def _environment(self, url: str) -> Mapping[str, Any]:
        """Proxies and certificate settings from the environment, read once per host: reading
        them walks every environment variable, a quarter of a millisecond per request."""
        key = urlsplit(url)[:2]
        env = self._env_by_host.get(key)
        if env is None:
            env = self._env_by_host[key] = self.session.merge_environment_settings(
                url, {}, True, self.verify, None
            )
        return env

    def _fetch(self, request: HttpRequest, *, resend: bool) -> HttpResponse:
        retrying = Retrying(self.policy, resend=resend, repeat_window=self.repeat_window)
        while True:
            step = retrying.after(self.exchange(request))
            if isinstance(step, HttpResponse):
                return step
            if isinstance(step, CascadeError):
                raise step
            log.warning("%s", retrying.note(step))
            time.sleep(step)

    # -- sends ------------------------------------------------------------------------
    def send_batch(self, batch: SendBatch) -> list[SendResult]:
        """One logical send of one batch. Retried only when the request certainly never
        reached the gateway; otherwise the typed error (``may_have_sent``) goes to the
        caller, who resends after the repeat window with the same client ids."""
        return self.codec.parse_send(batch, self.send_request(batch))

    def send_request(self, batch: SendBatch) -> HttpResponse:
        """``send_batch`` without reading the answer: the HTTP exchange (with its retries)
        and the raw answer, for a caller that reads it with ``codec.parse_send`` itself."""
        return self._fetch(batch.request, resend=False)

    def send(self, messages: Sequence[Message | Mapping[str, Any]]) -> list[SendResult]:
        """Check every message, then ``send_batch`` strictly in sequence. On a failure the
        error carries ``partial_results``: the results of the batches completed before it."""
        results: list[SendResult] = []
        for batch in self.codec.send_batches(messages):
            try:
                results.extend(self.send_batch(batch))
            except CascadeError as exc:
                attach_partial_results(exc, results)
                raise
        return results

    # -- status queries ---------------------------------------------------------------
    def _pipelined(
        self, jobs: Iterable[tuple[HttpRequest, Callable[[HttpResponse], T]]]
    ) -> Iterator[T]:
        """Read-only status queries: decode answer i in a worker thread while request i+1
        is on the wire, with at most one request ahead of the last decoded answer."""
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cascade-decode") as pool:
            ahead: Future[T] | None = None
            for request, parse in jobs:
                response = self._fetch(request, resend=True)
                if ahead is not None:
                    yield ahead.result()
                ahead = pool.submit(parse, response)
            if ahead is not None:
                yield ahead.result()

    def get_states(self, id_messages: Iterable[str | int]) -> dict[str, MessageState]:
        """States of the ids the gateway lets us ask about now; ids whose query was refused
        as a repeat (or, over GET, asked within the repeat window) are left out."""
        out: dict[str, MessageState] = {}
        get = self.codec.variant is Variant.GET
        batches = [
            b for b in self.codec.state_batches(id_messages)
            if not get or self.throttle.may_ask(b.ids[0])
        ]  # fmt: skip
        jobs = ((b.request, partial(self._parse_state, b)) for b in batches)
        for states in self._pipelined(jobs):
            out.update(states)
        return out

    def _parse_state(self, batch: StateBatch, response: HttpResponse) -> dict[str, MessageState]:
        try:
            return self.codec.parse_state(batch, response)
        except CascadeDuplicateRequestError:
            log.debug("Cascade refused a repeated status query for %d ids", len(batch.ids))
            return {}


def _as_given(prepared: requests.PreparedRequest) -> requests.PreparedRequest:
    """An explicit auth hook that changes nothing: the codec already placed the credentials,
    and requests would otherwise consult ~/.netrc on every request (a stat of the home folder
    each time, and a stranger's credentials in the gateway's request if a netrc matches)."""
    return prepared
