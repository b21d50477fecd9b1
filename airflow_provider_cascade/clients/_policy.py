"""When to retry, shared by the sync and async clients so both behave the same."""

from __future__ import annotations

from dataclasses import dataclass

from ..gateway import CascadeServerError, CascadeTransportError

MAX_BODY = 16 * 1024 * 1024


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    backoff: float = 0.5  # seconds, doubled each attempt
    max_delay: float = 30.0

    def delay(self, error: Exception, attempt: int, *, retry_safe: bool) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None to give up now.

        A send that may have reached the gateway is retried only when ``retry_safe``
        (every recipient carries a client_id_message, so the gateway refuses a second copy).
        """
        if attempt >= self.attempts:
            return None
        if isinstance(error, CascadeTransportError):
            if error.may_have_sent and not retry_safe:
                return None
        elif isinstance(error, CascadeServerError):
            if error.http_status != 429 and not retry_safe:
                return None  # a 5xx after a send: the gateway may have accepted it
            if error.retry_after is not None:
                return min(error.retry_after, self.max_delay)
        else:
            return None
        return float(min(self.backoff * 2 ** (attempt - 1), self.max_delay))


def transport_reason(error: BaseException) -> str:
    """A description of a network failure that never includes the URL."""
    name = type(error).__name__
    text = str(error).lower()
    if "refused" in text:
        return "connection refused"
    if "reset" in text or "aborted" in text or "remotedisconnected" in text.replace(" ", ""):
        return "connection reset or closed without a response"
    if "timed out" in text or "timeout" in name.lower():
        return f"timed out ({name})"
    if "ssl" in text or "certificate" in text:
        return f"TLS error ({name})"
    return name
