"""``time_send``: the gateway's ``YYYY-MM-DD hh:mm`` in the connection's time zone."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ._errors import CascadeValidationError

TIME_SEND_FORMAT = "%Y-%m-%d %H:%M"
_TIME_SEND = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")


def check_time_send(field: str, value: Any) -> str | datetime | None:
    """Accept a gateway string or an aware datetime; refuse naive datetimes."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise CascadeValidationError(
                field,
                "a naive datetime is ambiguous: give a time zone "
                "(e.g. pendulum.datetime(..., tz='Europe/London')) or a 'YYYY-MM-DD hh:mm' string",
            )
        return value
    if isinstance(value, str) and "T" in value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed  # ISO 8601 with an offset: an aware time (e.g. rendered by Jinja)
    if isinstance(value, str):
        if _TIME_SEND.fullmatch(value) is None:
            raise CascadeValidationError(
                field,
                f"must be 'YYYY-MM-DD hh:mm' (e.g. '2017-11-23 13:00') or ISO 8601 with an offset "
                f"(got {value!r})",
            )
        try:
            datetime.strptime(value, TIME_SEND_FORMAT)
        except ValueError:
            raise CascadeValidationError(field, f"is not a real date and time: {value!r}") from None
        return value
    raise CascadeValidationError(
        field,
        f"must be an aware datetime or a 'YYYY-MM-DD hh:mm' string, not {type(value).__name__}",
    )


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CascadeValidationError("timezone", f"unknown IANA time zone {name!r}") from None


def format_time_send(value: str | datetime | None, tz: ZoneInfo) -> str | None:
    """The wire form: strings pass as they are, aware datetimes move into ``tz``."""
    if value is None or isinstance(value, str):
        return value
    return value.astimezone(tz).strftime(TIME_SEND_FORMAT)


def time_send_at(value: str | datetime | None, tz: ZoneInfo) -> datetime | None:
    """The moment a checked ``time_send`` means: gateway strings are in ``tz``."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.strptime(value, TIME_SEND_FORMAT).replace(tzinfo=tz)
