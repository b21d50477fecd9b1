"""Finding a secret in text a gateway wrote, in every form it could have been echoed.

A gateway (or a proxy's error page) may echo what it was sent: the GET variant's URL
percent-encodes the password (``quote`` or ``quote_plus``, upper- or lower-case hex), a
JSON answer may escape it (``\\u00e9``, ``\\/``), an XML or HTML page may use entities
(``&amp;``, ``&#233;``, ``&#xE9;``). One pattern per secret matches each character in any of
these forms, so mixed forms are found too."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache

REDACTED = "***"
MIN_LENGTH = 3
"""Shorter secrets are not searched for: they would blank out ordinary words."""

_JSON_SHORT = {'"': '\\\\"', "\\": "\\\\\\\\", "/": "\\\\/"}
_XML_NAMED = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"}


def _json_units(char: str) -> list[int]:
    code = ord(char)
    if code < 0x10000:
        return [code]
    code -= 0x10000
    return [0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)]


def _forms(char: str) -> str:
    """A regex matching one character of a secret, raw or escaped."""
    alternatives = [re.escape(char)]
    utf8 = char.encode("utf-8", "surrogatepass")
    alternatives.append("".join(f"%(?i:{b:02x})" for b in utf8))  # quote / quote_plus
    if char == " ":
        alternatives.append(r"\+")  # quote_plus
    alternatives.append("".join(rf"\\u(?i:{u:04x})" for u in _json_units(char)))
    if char in _JSON_SHORT:
        alternatives.append(_JSON_SHORT[char])
    if char in _XML_NAMED:
        alternatives.append(re.escape(_XML_NAMED[char]))
    alternatives.append(rf"&#0*{ord(char)};")
    alternatives.append(rf"&#(?i:x)0*(?i:{ord(char):x});")
    return "(?:" + "|".join(alternatives) + ")"


@lru_cache(maxsize=64)
def _pattern(secrets: tuple[str, ...]) -> re.Pattern[str] | None:
    usable = sorted({s for s in secrets if len(s) >= MIN_LENGTH}, key=len, reverse=True)
    if not usable:
        return None
    return re.compile("|".join("".join(_forms(c) for c in s) for s in usable))


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret, in any echoed form, replaced by ``***``."""
    pattern = _pattern(tuple(secrets))
    if pattern is None or not text:
        return text
    return pattern.sub(REDACTED, text)


_IN_FORCE: ContextVar[tuple[str, ...]] = ContextVar("cascade_secrets_in_force", default=())


@contextmanager
def scrubbing(secrets: Iterable[str]) -> Iterator[None]:
    """While a codec reads an answer: :func:`cut` scrubs these secrets before it cuts (the
    readers that shorten texts know nothing of credentials)."""
    token = _IN_FORCE.set(tuple(secrets))
    try:
        yield
    finally:
        _IN_FORCE.reset(token)


def cut(text: str, limit: int) -> str:
    """``text`` scrubbed of the secrets in force, then cut to ``limit`` characters. Cut
    first, a secret straddling the cut would keep its first characters, and no later scrub
    recognises a piece of a secret."""
    return scrub(text, _IN_FORCE.get())[:limit]


def shown_value(value: object, limit: int = 40) -> str:
    """A value quoted in an error text (``repr``), scrubbed, then cut."""
    return cut(repr(value), limit)
