"""Arguments given as "a list, a comma string, or one value" (phones, ids), read one way
by every operator, sensor and codec."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ._errors import CascadeValidationError


def comma_list(field: str, value: Any) -> list[Any]:
    """The one parser for "a list, a comma string, or one value" arguments (phones, ids).

    Strings and whole numbers are split at commas and stripped, empty items dropped; lists
    (and lists of lists, e.g. the XCom of a mapped task) are flattened; other items (dicts,
    ``Recipient``) pass unchanged.
    """
    if value is None:
        return []
    if isinstance(value, bool):
        raise CascadeValidationError(field, f"must be a list or a comma string, not {value!r}")
    if isinstance(value, (str, int)):
        return [item.strip() for item in str(value).split(",") if item.strip()]
    if isinstance(value, (bytes, Mapping)) or not isinstance(value, Iterable):
        raise CascadeValidationError(
            field, f"must be a list or a comma string, not {type(value).__name__}"
        )
    out: list[Any] = []
    for item in value:
        if isinstance(item, Mapping) or not isinstance(item, (str, int, Iterable)):
            out.append(item)
        else:
            out.extend(comma_list(field, item))
    return out
