"""How many SMS parts a text costs: GSM 03.38 (7-bit, with the extension table) or UCS-2.

The gateway bills SMS per part, so the count decides the price: a Cyrillic text of 71
characters is two parts, a Latin one of 161 is two parts, a single ``€`` counts two septets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The basic alphabet: one septet each (the escape code itself is not a character)."""

GSM_EXTENSION = "\f^{}\\[~]|€"
"""The extension table: an escape and the character, two septets each."""

GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67
PLACEHOLDER_WIDTHS = {"#number#": 15, "#name#": 20}
"""What a base campaign's placeholders may become: a phone of up to 15 digits; a name,
assumed to be 20 characters in any alphabet (so a text with ``#name#`` counts as UCS-2)."""

_BASIC = re.compile("[" + re.escape(GSM_BASIC) + "]*")
_GSM = re.compile("[" + re.escape(GSM_BASIC + GSM_EXTENSION) + "]*")
_EXTENSION = frozenset(GSM_EXTENSION)
_PLACEHOLDER = re.compile("|".join(re.escape(p) for p in PLACEHOLDER_WIDTHS))


@dataclass(frozen=True, slots=True)
class SmsCount:
    encoding: str
    """``gsm7`` or ``ucs2``."""
    units: int
    """Septets (GSM-7) or UTF-16 code units (UCS-2)."""
    parts: int


def sms_parts(text: str, *, placeholders: bool = False) -> SmsCount:
    """Parts of one SMS text. A character never straddles two parts (an extension character
    or a character outside the BMP that does not fit moves whole to the next part).
    ``placeholders``: count ``#number#`` and ``#name#`` at the widths they may reach
    (:data:`PLACEHOLDER_WIDTHS`), as a base campaign's texts are filled in at the gateway."""
    return _count(text, placeholders)


@lru_cache(maxsize=4096)
def _count(text: str, placeholders: bool) -> SmsCount:
    names = 0
    if placeholders and _PLACEHOLDER.search(text):
        names = text.count("#name#") * PLACEHOLDER_WIDTHS["#name#"]
        digits = text.count("#number#") * PLACEHOLDER_WIDTHS["#number#"]
        text = _PLACEHOLDER.sub("", text) + "0" * digits
    if not names and _BASIC.fullmatch(text):
        return _parts("gsm7", [1] * len(text) if len(text) > GSM_SINGLE else len(text))
    if not names and _GSM.fullmatch(text):
        return _parts("gsm7", [2 if c in _EXTENSION else 1 for c in text])
    weights = [2 if ord(c) > 0xFFFF else 1 for c in text] + [1] * names
    return _parts("ucs2", weights)


def _parts(encoding: str, weights: list[int] | int) -> SmsCount:
    single, per_part = (GSM_SINGLE, GSM_PART) if encoding == "gsm7" else (UCS2_SINGLE, UCS2_PART)
    if isinstance(weights, int):  # a short basic text: its length is its size
        return SmsCount(encoding, weights, 1)
    units = sum(weights)
    if units <= single:
        return SmsCount(encoding, units, 1)
    parts, filled = 1, 0
    for w in weights:
        if filled + w > per_part:
            parts, filled = parts + 1, 0
        filled += w
    return SmsCount(encoding, units, parts)
