"""Small value checks shared by the model: each raises CascadeValidationError naming
the field and the rule."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Any

from ._errors import CascadeValidationError
from .defaults import MAX_CLIENT_ID

PHONE_PATTERN = "[1-9][0-9]{6,14}"
"""The phone rule: 7 to 15 ASCII digits, international format, no leading zero."""
_PHONE = re.compile(PHONE_PATTERN)
_DIGITS = re.compile(r"[0-9]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def text(field: str, value: Any, *, required: bool, max_len: int | None = None) -> str | None:
    if value is None or value == "":
        if required:
            raise CascadeValidationError(field, "is required")
        return None
    if not isinstance(value, str):
        raise CascadeValidationError(field, f"must be a string, not {type(value).__name__}")
    if not value.strip():
        raise CascadeValidationError(field, "must not be blank")
    if _CONTROL.search(value) is not None:
        raise CascadeValidationError(field, "must not contain control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise CascadeValidationError(field, "must be valid Unicode text") from None
    if max_len is not None and len(value) > max_len:
        raise CascadeValidationError(
            field, f"must be at most {max_len} characters (got {len(value)})"
        )
    return value


def template_value(field: str, value: Any) -> str:
    """A VK template parameter: a string (empty allowed) or a number, as text the gateway
    can carry (no control characters, no lone surrogates)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise CascadeValidationError(field, "must be a string or a number, not a nested value")
    if isinstance(value, float) and not math.isfinite(value):
        raise CascadeValidationError(field, f"must be a finite number (got {value!r})")
    out = str(value)
    if out:
        text(field, out, required=False)
    return out


def is_id(value: str) -> bool:
    """A gateway id: ASCII digits only (``str.isdigit`` alone accepts ``²`` and ``١``)."""
    return value.isascii() and value.isdigit()


def phone(field: str, value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise CascadeValidationError(
            field, f"must be a string of digits, not {type(value).__name__}"
        )
    if _PHONE.fullmatch(value) is None:
        raise CascadeValidationError(
            field,
            f"must be 7 to 15 digits in international format without '+' or spaces, "
            f"e.g. 79000000001 (got {value!r})",
        )
    return value


def client_id(field: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or _DIGITS.fullmatch(value) is None:
        raise CascadeValidationError(field, f"must be a non-negative whole number (got {value!r})")
    if int(value) > MAX_CLIENT_ID:
        raise CascadeValidationError(field, f"must be at most {MAX_CLIENT_ID} (signed 64-bit)")
    return str(int(value))


def identifier(field: str, value: Any) -> str:
    """A gateway-side id (base, templateId): digits, given as str or int."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or _DIGITS.fullmatch(value) is None:
        raise CascadeValidationError(field, f"must be a numeric id (got {value!r})")
    return value


def minutes(field: str, value: Any) -> int | None:
    """Whole minutes, from an int, a digit string or a timedelta."""
    if value is None or value == "":
        return None
    if isinstance(value, timedelta):
        secs = value.total_seconds()
        if secs % 60:
            raise CascadeValidationError(field, "must be a whole number of minutes")
        value = int(secs // 60)
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise CascadeValidationError(field, f"must be whole minutes (got {value!r})")
    if value < 1:
        raise CascadeValidationError(field, "must be at least 1 minute")
    return value


def flag(field: str, value: Any) -> bool:
    if value in (None, "", 0, "0", False):
        return False
    if value in (1, "1", True):
        return True
    raise CascadeValidationError(field, f"must be 0 or 1 (got {value!r})")


def order(field: str, value: Any) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 9:
        raise CascadeValidationError(field, f"must be a whole number from 0 to 9 (got {value!r})")
    return value


def button_pair(text_field: str, url_field: str, text_value: str | None, url: str | None) -> None:
    if (text_value is None) != (url is None):
        raise CascadeValidationError(
            text_field if text_value is None else url_field,
            f"{text_field} and {url_field} must be given together",
        )
