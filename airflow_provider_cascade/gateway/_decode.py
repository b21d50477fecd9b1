"""Reading answers: one decoder per answer shape, shared by the three variants.

A send answer's rows become ``SendResult``s matched to the recipients of the request that
was sent (``match_part``); a status answer's rows become ``MessageState``s (``state_rows``).
JSON rows, XML attributes and the GET variant's plain text all go through these functions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ._batches import Part
from ._channels import Channel
from ._checks import is_id
from ._errors import (
    CascadeAuthError,
    CascadeDuplicateRequestError,
    CascadeGatewayError,
    CascadeResponseError,
)
from ._results import MessageState, MessageStatus, SendResult
from ._secrets import cut, shown_value
from ._wire import HttpResponse

AUTH_MARKS = ("логин или пароль", "аккаунт заблокирован", "token", "токен", "авториз")
REPEAT_MARK = "одинакового запроса"
DUPLICATE_MARK = "уже было отправлено"
MAX_ERROR_TEXT = 500
NO_ID = "the gateway returned no id_message"
ANSWER_MISSING = (
    "the gateway's answer has no row for this recipient; it may have been sent: resend only "
    "after the repeat window and with the same client_id_message"
)
NOT_SENT_ZERO = "the gateway answered 0 for this phone: not sent"
STATUS_WORDS = frozenset(s.value for s in MessageStatus if s is not MessageStatus.ERROR)
"""What an XML send row's text may be without being an error text."""
_CHANNEL_ID_KEYS = tuple((channel, f"id_{channel.value}") for channel in Channel)
_STATE_KEYS = tuple((c, f"state_{c.value}", f"price_{c.value}") for c in Channel)


# -- whole answers --------------------------------------------------------------------------
def gateway_error(text: str, http_status: int | None = None) -> CascadeGatewayError:
    """The error class for a whole-request error text (matched by meaning, not exact text)."""
    text = cut(text.strip(), MAX_ERROR_TEXT)
    low = text.lower()
    if REPEAT_MARK in low:
        return CascadeDuplicateRequestError(text, http_status=http_status)
    if any(mark in low for mark in AUTH_MARKS):
        return CascadeAuthError(text, http_status=http_status)
    return CascadeGatewayError(text, http_status=http_status)


def text_body(response: HttpResponse) -> str:
    """The body as UTF-8, the only encoding the document allows."""
    try:
        return response.body.decode("utf-8")
    except UnicodeDecodeError:
        raise CascadeResponseError(
            f"response body is not valid UTF-8 (HTTP {response.status}, {len(response.body)} bytes)"
        ) from None


def load_json(response: HttpResponse) -> dict[str, Any]:
    """A JSON answer as a dict; numbers with a fraction are ``Decimal`` (prices stay exact).
    Decoded as UTF-8 first: ``json.loads`` on bytes would guess UTF-16/32 from a few bytes."""
    response.raise_for_status()
    text = text_body(response)
    try:
        document = json.loads(text, parse_float=Decimal)
    except ValueError:
        raise CascadeResponseError(
            f"response is not JSON (HTTP {response.status}, {len(response.body)} bytes)"
        ) from None
    except RecursionError:
        raise CascadeResponseError("response JSON is nested too deeply") from None
    if not isinstance(document, dict):
        raise CascadeResponseError("response JSON is not an object")
    error = document.get("error")
    if error is not None:
        raise gateway_error(str(error), response.status)
    if response.status != 200:
        raise CascadeResponseError(f"unexpected HTTP {response.status}")
    return document


# -- send answers ---------------------------------------------------------------------------
def send_row(row: Mapping[str, Any], text: str | None = None) -> SendResult:
    """One per-recipient row, not yet matched (``message_index`` -1): its known fields
    checked, any other field ignored. ``text`` is the XML element's text: a status word, or
    a text about the message. A text beside an id (``Недостаточно средств…``) is the row's
    ``note``, not a rejection: the gateway holds that message under the id and bills it, so
    it is polled like any other."""
    id_message = _id(row, "id_message")
    error = _text(row, "error")
    if error is None and text is not None:
        text = text.strip()
        if text and text not in STATUS_WORDS:
            error = text
    already = error is not None and DUPLICATE_MARK in error.lower()
    note = None
    if id_message is not None and error is not None and not already:
        note, error = cut(error, MAX_ERROR_TEXT), None
    elif error is None and id_message is None:
        error = NO_ID
    channel_ids = {}
    for channel, key in _CHANNEL_ID_KEYS:
        value = _id(row, key)
        if value is not None:
            channel_ids[channel] = value
    return SendResult(
        -1,
        _text(row, "phone"),
        id_message,
        _text(row, "client_id_message"),
        _text(row, "base"),
        None if error is None else cut(error, MAX_ERROR_TEXT),
        channel_ids,
        _count(row, "count_message"),
        already,
        note=note,
    )


def match_part(part: Part, rows: Iterable[SendResult]) -> list[SendResult]:
    """Exactly one result per recipient of ``part``, in its order, each carrying the
    recipient's own phone and client id; per base, every row the gateway gave for it (a base
    expands to its phones at the gateway), or one result when it gave none.

    Rows are matched by ``client_id_message``, else by phone (the n-th row for a phone to the
    n-th recipient with that phone), base rows by ``base``. A recipient without a row gets an
    ``answer_missing`` result. A row that matches no recipient of the request makes the whole
    answer a ``CascadeResponseError``: the gateway answered about messages never sent, so none
    of its rows can be trusted to count.
    """
    index = part.message_index
    message = part.message
    rows = rows if isinstance(rows, list) else list(rows)
    recipients = message.recipients
    out: list[SendResult] = []
    append = out.append
    # The usual answer lists the rows in the order sent: take that prefix without an index.
    done, limit = 0, min(len(rows), len(recipients))
    while done < limit:
        row, recipient = rows[done], recipients[done]
        if (
            row.base is not None
            or row.client_id_message != recipient.client_id_message
            or (row.phone is not None and row.phone != recipient.phone)
        ):
            break
        row.message_index = index
        row.phone = recipient.phone
        append(row)
        done += 1
    by_client_id: dict[str, SendResult] = {}
    by_phone: dict[str | None, list[SendResult]] = {}
    by_base: dict[str, list[SendResult]] = {}
    for row in rows[done:]:
        if row.base is not None:
            by_base.setdefault(row.base, []).append(row)
        elif row.client_id_message is not None:
            if row.client_id_message in by_client_id:
                raise CascadeResponseError(
                    f"the answer to message {index} has two rows for client_id_message "
                    f"{row.client_id_message}"
                )
            by_client_id[row.client_id_message] = row
        else:
            by_phone.setdefault(row.phone, []).append(row)
    for recipient in recipients[done:]:
        phone = recipient.phone
        client_id = recipient.client_id_message
        found = None if client_id is None else by_client_id.pop(str(client_id), None)
        if found is None:
            same_phone = by_phone.get(phone)
            if same_phone:
                found = same_phone.pop(0)
        if found is None:
            append(_missing(index, phone, client_id))
            continue
        if found.phone is not None and found.phone != phone:
            raise CascadeResponseError(
                f"the answer to message {index} gives client_id_message {client_id} to phone "
                f"{found.phone}, but it was sent to {phone}"
            )
        found.message_index = index
        found.phone = phone
        found.client_id_message = None if client_id is None else str(client_id)
        append(found)
    for target in message.bases:
        base = str(target.base)
        base_rows = by_base.pop(base, None)
        if not base_rows:
            append(_missing(index, None, None, base))
            continue
        for found in base_rows:
            found.message_index = index
            append(found)
    unknown = [
        *by_client_id.values(),
        *(r for rs in by_phone.values() for r in rs),
        *(r for rs in by_base.values() for r in rs),
    ]
    if unknown:
        first = unknown[0]
        who = (
            f"base {first.base}"
            if first.base is not None
            else f"client_id_message {first.client_id_message}"
            if first.client_id_message is not None
            else f"phone {first.phone}"
        )
        raise CascadeResponseError(
            f"the answer to message {index} has {len(unknown)} row(s) for recipients that "
            f"were not sent (first: {who})"
        )
    return out


def part_error(part: Part, text: str) -> list[SendResult]:
    """A whole message refused: the error for each of its recipients and bases."""
    error = cut(text.strip(), MAX_ERROR_TEXT) or "the gateway refused the message without a text"
    index = part.message_index
    out = [
        SendResult(
            index,
            r.phone,
            None,
            None if r.client_id_message is None else str(r.client_id_message),
            error=error,
        )
        for r in part.message.recipients
    ]
    out.extend(
        SendResult(index, None, None, base=str(b.base), error=error) for b in part.message.bases
    )
    return out


def positional(part: Part, ids: list[str]) -> list[SendResult]:
    """The GET answer: one id per phone, in the order sent; ``0`` means not sent."""
    recipients = part.message.recipients
    if len(ids) != len(recipients):
        raise CascadeResponseError(
            f"the gateway returned {len(ids)} ids for {len(recipients)} phones"
        )
    return [
        SendResult(part.message_index, r.phone, i)
        if i != "0"
        else SendResult(part.message_index, r.phone, None, error=NOT_SENT_ZERO)
        for r, i in zip(recipients, ids, strict=True)
    ]


def _missing(
    index: int, phone: str | None, client_id: str | int | None, base: str | None = None
) -> SendResult:
    return SendResult(
        index,
        phone,
        None,
        None if client_id is None else str(client_id),
        base,
        ANSWER_MISSING,
        answer_missing=True,
    )


# -- status answers -------------------------------------------------------------------------
def state_rows(rows: Iterable[Any]) -> dict[str, MessageState]:
    """Status rows (JSON objects, XML attributes with the element text as ``state``, or the
    GET variant's one text) as states by id. Values may be strings or JSON numbers; blanks
    around a state are ignored; prices are exact decimals. Runs once per polled id, so
    repeated prices and timestamps are parsed once per answer."""
    out: dict[str, MessageState] = {}
    amounts: dict[str, Decimal] = {}
    stamps: dict[str, datetime] = {}
    for row in rows:
        if not isinstance(row, dict):
            raise CascadeResponseError("a state row is not an object")
        id_message = _id(row, "id_message")
        if id_message is None:
            raise CascadeResponseError("a state row has no id_message")
        state = row.get("state")
        if state.__class__ is not str:
            raise CascadeResponseError("a state row has no 'state' text")
        state = state.strip()
        status = MessageStatus.from_text(state)
        error = None
        if status is MessageStatus.ERROR:
            state = error = cut(state, MAX_ERROR_TEXT)
        channel_states: dict[Channel, str] = {}
        prices: dict[Channel, Decimal] = {}
        for channel, state_key, price_key in _STATE_KEYS:
            value = row.get(state_key)
            if value is not None and value != "":
                if value.__class__ is not str:
                    raise CascadeResponseError(
                        f"{state_key} must be a string, got {shown_value(value)}"
                    )
                value = value.strip()
                if value:
                    channel_states[channel] = value
            price = row.get(price_key)
            if price is not None and price != "":
                if price.__class__ is str:
                    amount = amounts.get(price)
                    if amount is None:
                        amount = amounts[price] = _decimal(price_key, price)
                else:
                    amount = _decimal(price_key, price)
                prices[channel] = amount
        changed = row.get("time_change_state")
        stamp = None
        if changed is not None and changed != "":
            if changed.__class__ is not str:
                raise CascadeResponseError(
                    f"time_change_state must be text, got {shown_value(changed)}"
                )
            stamp = stamps.get(changed)
            if stamp is None:
                stamp = stamps[changed] = _timestamp(changed)
        out[id_message] = MessageState(
            id_message,
            state,
            status,
            channel_states,
            prices,
            _count(row, "num_parts_sms"),
            stamp,
            error,
        )
    return out


def check_state_ids(
    wanted: tuple[str, ...], got: dict[str, MessageState]
) -> dict[str, MessageState]:
    """Exactly the ids asked about, in their order; an answer lacking one is unreadable."""
    missing = [i for i in wanted if i not in got]
    if missing:
        raise CascadeResponseError(
            f"the state response lacks {len(missing)} of {len(wanted)} ids (first: {missing[0]})"
        )
    return {i: got[i] for i in wanted}


# -- values ---------------------------------------------------------------------------------
def _text(row: Mapping[str, Any], key: str) -> str | None:
    value = row.get(key)
    if value.__class__ is str:
        return value or None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise CascadeResponseError(
            f"{key} must be a string or a whole number, got {shown_value(value)}"
        )
    return str(value)


def _id(row: Mapping[str, Any], key: str) -> str | None:
    """An id: ASCII digits (string or JSON whole number); empty or ``0`` means none."""
    value = row.get(key)
    if value.__class__ is not str:
        value = _text(row, key)
    if not value or value == "0":
        return None
    if not (value.isdigit() and value.isascii()):
        raise CascadeResponseError(f"{key} must be ASCII digits, got {shown_value(value)}")
    return value


def _count(row: Mapping[str, Any], key: str) -> int | None:
    value = _text(row, key)
    if value is None:
        return None
    if is_id(value):
        try:
            return int(value)
        except ValueError:
            pass  # more digits than int() reads (4,300): no count
    raise CascadeResponseError(f"{key} must be a whole number, got {shown_value(value)}")


def _decimal(key: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise CascadeResponseError(f"{key} must be a decimal amount, got {shown_value(value)}")
    try:
        amount = Decimal(value.replace(",", ".")) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        raise CascadeResponseError(
            f"{key} must be a decimal amount, got {shown_value(value)}"
        ) from None
    if not amount.is_finite():
        raise CascadeResponseError(f"{key} must be a finite amount, got {shown_value(value)}")
    return amount


def _timestamp(value: str) -> datetime:
    try:
        if len(value) != 19 or value[10] != " ":
            raise ValueError(value)
        return datetime.fromisoformat(value)  # C-fast; the length check keeps the format strict
    except ValueError:
        raise CascadeResponseError(
            f"time_change_state must be 'YYYY-MM-DD hh:mm:ss', got {shown_value(value)}"
        ) from None
