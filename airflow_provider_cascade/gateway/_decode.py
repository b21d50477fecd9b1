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
_ZERO = Decimal(0)
_MISSING: Any = object()


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


_CHANNEL_ID_KEYS = tuple((channel, f"id_{channel.value}") for channel in Channel)


def _text(row: Mapping[str, Any], key: str) -> str | None:
    """``optional_str`` for the hot path: most values are already strings."""
    value = row.get(key)
    if value.__class__ is str:
        return value or None
    if value is None:
        return None
    return optional_str(row, key)


def send_row(row: Mapping[str, Any], message_index: int, text: str | None = None) -> SendResult:
    """One per-recipient row; ``text`` is the XML element text (status or error).

    This runs once per recipient of a campaign, so it is written for speed.
    """
    id_message = _text(row, "id_message")
    if id_message == "0":
        id_message = None
    error = _text(row, "error")
    if error is None and id_message is None:
        error = (text or "").strip() or "the gateway returned no id_message"
    already = error is not None and DUPLICATE_MARK in error.lower()
    if text and text != "send" and DUPLICATE_MARK in text.lower():
        already, error = True, text.strip()
    channel_ids = {}
    for channel, key in _CHANNEL_ID_KEYS:
        value = _text(row, key)
        if value is not None and value != "0":
            channel_ids[channel] = value
    count = row.get("count_message")
    return SendResult(
        message_index,
        _text(row, "phone"),
        id_message,
        _text(row, "client_id_message"),
        _text(row, "base"),
        error,
        channel_ids,
        None if count is None or count == "" else optional_int(row, "count_message"),
        already,
    )


_VIBER, _WHATSAPP, _VK, _SMS = Channel.VIBER, Channel.WHATSAPP, Channel.VK, Channel.SMS


def send_rows(rows: list[Any], message_index: int) -> list[SendResult]:
    """Many JSON rows at once: a fast path for the usual success row (all values strings),
    falling back to ``send_row`` for anything else (errors, numbers, odd shapes)."""
    out: list[SendResult] = []
    append = out.append
    for row in rows:
        if row.__class__ is not dict:
            raise CascadeResponseError("a recipient row is not an object")
        get = row.get
        id_message = get("id_message")
        phone = get("phone")
        count = get("count_message")
        if (
            id_message.__class__ is not str
            or not id_message
            or id_message == "0"
            or "error" in row
            or phone.__class__ is not str
            or count.__class__ is not str
            or not count.isdigit()
        ):
            append(send_row(row, message_index))
            continue
        ids: dict[Channel, str] = {}
        # unrolled: this loop body runs once per recipient of a campaign
        value = get("id_viber")
        if value and value != "0":
            ids[_VIBER] = value if value.__class__ is str else str(optional_str(row, "id_viber"))
        value = get("id_whatsapp")
        if value and value != "0":
            ids[_WHATSAPP] = (
                value if value.__class__ is str else str(optional_str(row, "id_whatsapp"))
            )
        value = get("id_vk")
        if value and value != "0":
            ids[_VK] = value if value.__class__ is str else str(optional_str(row, "id_vk"))
        value = get("id_sms")
        if value and value != "0":
            ids[_SMS] = value if value.__class__ is str else str(optional_str(row, "id_sms"))
        client_id = get("client_id_message")
        base = get("base")
        if client_id is not None and client_id.__class__ is not str:
            client_id = optional_str(row, "client_id_message")
        if base is not None and base.__class__ is not str:
            base = optional_str(row, "base")
        append(
            SendResult(
                message_index,
                phone,
                id_message,
                client_id or None,
                base or None,
                None,
                ids,
                int(count),
                False,
            )
        )
    return out


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
        if price == "0":
            prices[channel] = _ZERO
        elif price is not None and price != "":
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


_STATUS_BY_TEXT = {s.value: s for s in MessageStatus if s is not MessageStatus.ERROR}
_STATE_KEYS = tuple((c, f"state_{c.value}", f"price_{c.value}") for c in Channel)


def state_rows(rows: list[Any]) -> dict[str, MessageState]:
    """Many JSON state rows at once: a fast path for rows whose values are all strings,
    falling back to ``state_row`` for anything else. Runs once per polled id."""
    out: dict[str, MessageState] = {}
    amounts: dict[str, Decimal] = {"0": _ZERO}  # prices and times repeat across rows:
    stamps: dict[str, datetime | None] = {"": None}  # parse each distinct text once
    for row in rows:
        if row.__class__ is not dict:
            raise CascadeResponseError("a state row is not an object")
        get = row.get
        id_message = get("id_message")
        state = get("state")
        changed = get("time_change_state")
        parts = get("num_parts_sms")
        if (
            id_message.__class__ is not str
            or not id_message
            or state.__class__ is not str
            or changed.__class__ is not str
            or (parts is not None and (parts.__class__ is not str or not parts.isdigit()))
        ):
            if not isinstance(state, str):
                raise CascadeResponseError("a state row has no 'state' text")
            slow = state_row(row, state)
            out[slow.id_message] = slow
            continue
        status = _STATUS_BY_TEXT.get(state, MessageStatus.ERROR)
        channel_states: dict[Channel, str] = {}
        prices: dict[Channel, Decimal] = {}
        for channel, state_key, price_key in _STATE_KEYS:
            value = get(state_key)
            if value is not None:
                channel_states[channel] = (
                    value if value.__class__ is str else str(optional_str(row, state_key))
                )
            price = get(price_key)
            if price is not None and price != "":
                amount = amounts.get(price) if price.__class__ is str else None
                if amount is None:
                    amount = _decimal(price_key, price)
                    if price.__class__ is str:
                        amounts[price] = amount
                prices[channel] = amount
        stamp = stamps.get(changed, _MISSING)
        if stamp is _MISSING:
            stamp = stamps[changed] = _timestamp(changed)
        out[id_message] = MessageState(
            id_message,
            state,
            status,
            channel_states,
            prices,
            int(parts) if parts else None,
            stamp,
            state if status is MessageStatus.ERROR else None,
        )
    return out


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
        if len(value) != 19 or value[10] != " ":
            raise ValueError(value)
        return datetime.fromisoformat(value)  # C-fast; the length check keeps the format strict
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
