"""Phone numbers are personal data: one rule for showing them where a person may read them
(logs, XCom, reports, pages) when masking is on."""

from __future__ import annotations

import re

_DIGIT_RUN = re.compile(r"(?<![0-9*])[0-9]{7,}(?![0-9*])")


def mask_phone(phone: str) -> str:
    """``79001234567`` -> ``79*****4567``: the country prefix and the last four digits stay,
    enough to tell recipients apart in a sample, too little to call anyone."""
    if len(phone) <= 6:
        return "*" * len(phone)
    return phone[:2] + "*" * (len(phone) - 6) + phone[-4:]


def shown_phone(phone: str, masked: bool) -> str:
    """The phone as a log line, XCom value, report row or page shows it."""
    return mask_phone(phone) if masked else phone


def mask_phones_in(text: str) -> str:
    """Every run of 7 or more digits in ``text`` masked: an error text quoting a phone as
    given (a validation rule, a gateway's rejection) shows it as :func:`mask_phone` does."""
    return _DIGIT_RUN.sub(lambda m: mask_phone(m.group()), text)
