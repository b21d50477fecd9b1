"""Typed errors. Every message is built from field names, rules and gateway texts only,
never from URLs, headers or bodies that could carry credentials."""

from __future__ import annotations

from typing import Any

from .defaults import REPEAT_WINDOW

__all__ = [
    "CascadeAuthError",
    "CascadeBudgetExceeded",
    "CascadeDuplicateRequestError",
    "CascadeError",
    "CascadeGatewayError",
    "CascadeResponseError",
    "CascadeSendRejected",
    "CascadeServerError",
    "CascadeTransportError",
    "CascadeUndelivered",
    "CascadeValidationError",
    "CascadeWaitTimeout",
]


class CascadeError(Exception):
    """Base of every error raised by this provider."""

    partial_results: list[Any] = []  # noqa: RUF012 (never mutated: set per instance)
    """For a bulk send that failed part way: the results of the batches before the failure."""


class CascadeValidationError(CascadeError, ValueError):
    """Bad input, found before anything was sent."""

    def __init__(self, field: str, rule: str, message_index: int | None = None) -> None:
        self.field = field
        self.rule = rule
        self.message_index = message_index
        where = f"message[{message_index}]." if message_index is not None else ""
        super().__init__(f"{where}{field}: {rule}")

    def at(self, message_index: int) -> CascadeValidationError:
        """The same error, located in a batch."""
        return CascadeValidationError(self.field, self.rule, message_index)


class CascadeGatewayError(CascadeError):
    """The gateway refused the whole request with an error text."""

    def __init__(self, text: str, *, http_status: int | None = None) -> None:
        self.text = text
        self.http_status = http_status
        super().__init__(f"gateway error: {text}")


class CascadeAuthError(CascadeGatewayError):
    """Wrong login/password or token, or a blocked account."""


class CascadeDuplicateRequestError(CascadeGatewayError):
    """The once-a-minute identical-request rule: ask again later, this is not a failure."""

    def __init__(
        self, text: str, *, http_status: int | None = None, retry_after: float = REPEAT_WINDOW
    ) -> None:
        super().__init__(text, http_status=http_status)
        self.retry_after = retry_after


class CascadeServerError(CascadeError):
    """HTTP 5xx or 429: transient on the gateway's side."""

    def __init__(self, http_status: int, retry_after: float | None = None) -> None:
        self.http_status = http_status
        self.retry_after = retry_after
        extra = f", retry after {retry_after:g}s" if retry_after is not None else ""
        super().__init__(f"gateway answered HTTP {http_status}{extra}")


class CascadeResponseError(CascadeError):
    """A response that cannot be read as the protocol promises."""


class CascadeTransportError(CascadeError):
    """The request did not complete (refused, reset, timed out).

    ``may_have_sent`` is True when the gateway may have received a send: the caller
    must not resend unless every recipient carries a ``client_id_message``.
    """

    def __init__(self, reason: str, *, may_have_sent: bool) -> None:
        self.reason = reason
        self.may_have_sent = may_have_sent
        tail = (
            "; the send may or may not have happened: resend only with client_id_message set"
            if may_have_sent
            else ""
        )
        super().__init__(f"request failed: {reason}{tail}")


class CascadeSendRejected(CascadeError):
    """The gateway refused more recipients than ``max_failure_ratio`` allows (or all of
    them): the requests went through, the outcome is what the task refuses."""

    def __init__(self, rejected: int, total: int, first_errors: list[str]) -> None:
        self.rejected, self.total, self.first_errors = rejected, total, list(first_errors)
        detail = f": {'; '.join(first_errors)}" if first_errors else ""
        super().__init__(f"Cascade send failed for {rejected}/{total}{detail}")


class CascadeWaitTimeout(CascadeError):
    """Messages were not all final when the wait's time was up."""

    def __init__(self, text: str, *, final: int | None = None, total: int | None = None) -> None:
        self.final, self.total = final, total
        super().__init__(text)


class CascadeUndelivered(CascadeError):
    """Messages ended not delivered (or expired) and the task asked to fail on that."""

    def __init__(self, ids: list[str], count: int | None = None) -> None:
        self.ids = list(ids)
        self.count = len(ids) if count is None else count
        super().__init__(f"{self.count} message(s) not delivered, e.g. {self.ids[:5]}")


class CascadeBudgetExceeded(CascadeError):
    """The campaign's estimated cost is over its ``max_cost``: nothing was sent."""

    def __init__(self, estimate: Any, max_cost: Any, basis: str, counts: str) -> None:
        self.estimate = estimate
        self.max_cost = max_cost
        self.basis = basis
        self.counts = counts
        super().__init__(
            f"estimated cost {estimate} ({basis.replace('_', ' ')}) exceeds max_cost {max_cost}: "
            f"{counts}; nothing was sent"
        )
