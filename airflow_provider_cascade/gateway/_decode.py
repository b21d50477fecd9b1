"""Reading values the JSON and XML variants share (same names, strings or numbers)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ._channels import Channel
from ._errors import (
    CascadeAuthError,
    CascadeDuplicateRequestError,
    CascadeGatewayError,
    CascadeResponseError,
    CascadeServerError,
)
from ._results import DUPLICATE_MARK, MessageState, MessageStatus, SendResult
from ._wire import HttpResponse

AUTH_MARKS = ("логин или пароль", "аккаунт заблокирован", "token", "токен", "авториз")
REPEAT_MARK = "одинакового запроса"
MAX_ERROR_TEXT = 500


def gateway_error(text: str, http_status: int | None = None) -> CascadeGatewayError:
    """The error class for a whole-request error text (matched by meaning, not exact text)."""
    text = text.strip()[:MAX_ERROR_TEXT]
    low = text.lower()
    if REPEAT_MARK in low:
        return CascadeDuplicateRequestError(text, http_status=http_status)
    if any(mark in low for mark in AUTH_MARKS):
        return CascadeAuthError(text, http_status=http_status)
    return CascadeGatewayError(text, http_status=http_status)


def check_status(response: HttpResponse) -> None:
    """Raise for statuses whose body is not the protocol's."""
    status = response.status
    if status == 429 or status >= 500:
        raise CascadeServerError(status, _retry_after(response.header("Retry-After")))
    if status in (401, 403):
        raise CascadeAuthError(f"HTTP {status}", http_status=status)


def text_body(response: HttpResponse) -> str:
    try:
        return response.body.decode("utf-8")
    except UnicodeDecodeError:
        raise CascadeResponseError(
            f"response body is not valid UTF-8 (HTTP {response.status}, {len(response.body)} bytes)"
        ) from None


def optional_str(row: Mapping[str, Any], key: str) -> str | None:
    value = row.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise CascadeResponseError(f"{key} must be a string or a whole number, got {value!r:.40}")
    return str(value)


def optional_int(row: Mapping[str, Any], key: str) -> int | None:
    value = optional_str(row, key)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise CascadeResponseError(f"{key} must be a whole number, got {value!r:.40}") from None


def send_row(row: Mapping[str, Any], message_index: int, text: str | None = None) -> SendResult:
    """One per-recipient row; ``text`` is the XML element text (status or error)."""
    id_message = optional_str(row, "id_message")
    if id_message == "0":
        id_message = None
    error = optional_str(row, "error")
    if error is None and id_message is None:
        error = (text or "").strip() or "the gateway returned no id_message"
    already = error is not None and DUPLICATE_MARK in error.lower()
    if text and DUPLICATE_MARK in text.lower():
        already, error = True, text.strip()
    channel_ids = {}
    for channel in Channel:
        value = optional_str(row, f"id_{channel.value}")
        if value not in (None, "0"):
            channel_ids[channel] = str(value)
    return SendResult(
        message_index=message_index,
        phone=optional_str(row, "phone"),
        id_message=id_message,
        client_id_message=optional_str(row, "client_id_message"),
        base=optional_str(row, "base"),
        error=error,
        channel_ids=channel_ids,
        parts=optional_int(row, "count_message"),
        already_sent=already,
    )


def state_row(row: Mapping[str, Any], state: str) -> MessageState:
    id_message = optional_str(row, "id_message")
    if id_message is None:
        raise CascadeResponseError("a state row has no id_message")
    state = state.strip()
    status = MessageStatus.from_text(state)
    channel_states: dict[Channel, str] = {}
    prices: dict[Channel, Decimal] = {}
    for channel in Channel:
        value = optional_str(row, f"state_{channel.value}")
        if value is not None:
            channel_states[channel] = value
        price = row.get(f"price_{channel.value}")
        if price not in (None, ""):
            prices[channel] = _decimal(f"price_{channel.value}", price)
    return MessageState(
        id_message=id_message,
        state=state,
        status=status,
        channel_states=channel_states,
        prices=prices,
        num_parts_sms=optional_int(row, "num_parts_sms"),
        time_change_state=_timestamp(optional_str(row, "time_change_state")),
        error=state if status is MessageStatus.ERROR else None,
    )


def plain_state(id_message: str, text: str) -> MessageState:
    """The GET variant's status answer: only the overall state."""
    state = text.strip()
    status = MessageStatus.from_text(state)
    return MessageState(
        id_message=id_message,
        state=state,
        status=status,
        error=state[:MAX_ERROR_TEXT] if status is MessageStatus.ERROR else None,
    )


def check_state_ids(
    wanted: tuple[str, ...], got: dict[str, MessageState]
) -> dict[str, MessageState]:
    missing = [i for i in wanted if i not in got]
    if missing:
        raise CascadeResponseError(
            f"the state response lacks {len(missing)} of {len(wanted)} ids (first: {missing[0]})"
        )
    return {i: got[i] for i in wanted}


def _decimal(key: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise CascadeResponseError(f"{key} must be a decimal amount, got {value!r:.40}")
    try:
        amount = Decimal(str(value).replace(",", "."))
    except InvalidOperation:
        raise CascadeResponseError(f"{key} must be a decimal amount, got {value!r:.40}") from None
    if not amount.is_finite():
        raise CascadeResponseError(f"{key} must be a finite amount, got {value!r:.40}")
    return amount


def _timestamp(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise CascadeResponseError(
            f"time_change_state must be 'YYYY-MM-DD hh:mm:ss', got {value!r:.40}"
        ) from None


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
