"""Request and response descriptions exchanged between codecs and clients."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Union

from ._errors import CascadeValidationError
from ._message import Message
from ._secrets import REDACTED

_SECRET_QUERY = re.compile(r"(?i)((?:^|[?&])(?:password|token|login)=)[^&#]*")


class Variant(str, Enum):
    """The gateway's three protocol variants."""

    GET = "get"
    JSON = "json"
    XML = "xml"

    @classmethod
    def parse(cls, value: str | Variant) -> Variant:
        try:
            return cls(str(value.value if isinstance(value, Variant) else value).lower())
        except ValueError:
            raise CascadeValidationError(
                "protocol", f"must be one of json, xml, get (got {value!r})"
            ) from None


def _check_secret(field_name: str, value: str) -> None:
    """Characters every variant can carry unchanged (a newline in an XML password would
    arrive as the two characters ``\\n``; a lone surrogate cannot be encoded at all). The
    rule is named, the value never is."""
    if not isinstance(value, str):
        raise CascadeValidationError(field_name, "must be text")
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        raise CascadeValidationError(
            field_name, "must not contain control characters or unpaired surrogates"
        )


@dataclass(frozen=True, slots=True, repr=False)
class LoginPassword:
    login: str
    password: str

    def __post_init__(self) -> None:
        _check_secret("login", self.login)
        _check_secret("password", self.password)

    def __repr__(self) -> str:
        return f"LoginPassword(login={self.login!r}, password={REDACTED!r})"


@dataclass(frozen=True, slots=True, repr=False)
class BearerToken:
    token: str

    def __post_init__(self) -> None:
        if not isinstance(self.token, str) or not all("!" <= c <= "~" for c in self.token):
            # it travels in the Authorization header, which both clients write as ASCII
            raise CascadeValidationError(
                "token", "must be printable ASCII without spaces or control characters"
            )

    def __repr__(self) -> str:
        return f"BearerToken(token={REDACTED!r})"


Auth = Union[LoginPassword, BearerToken]  # noqa: UP007 (runtime alias, py3.10)


def redact_url(url: str) -> str:
    """Hide credentials in a GET URL (the variant puts the password in the query)."""
    return _SECRET_QUERY.sub(lambda m: m.group(1) + REDACTED, url)


@dataclass(frozen=True, slots=True, repr=False)
class HttpRequest:
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None = None

    @property
    def safe_url(self) -> str:
        return redact_url(self.url)

    def __repr__(self) -> str:
        size = len(self.body) if self.body is not None else 0
        return f"HttpRequest({self.method} {self.safe_url}, body={size} bytes)"


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        lname = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lname), None)


@dataclass(frozen=True, slots=True)
class Part:
    """A message (or a share of its phones) inside one request."""

    message_index: int
    message: Message


@dataclass(frozen=True, slots=True, repr=False)
class SendBatch:
    request: HttpRequest
    parts: tuple[Part, ...]

    @property
    def recipient_count(self) -> int:
        return sum(len(p.message.recipients) + len(p.message.bases) for p in self.parts)

    @property
    def retry_safe(self) -> bool:
        """True when the gateway itself refuses a resend: every recipient has a client id."""
        return all(
            not p.message.bases
            and all(r.client_id_message is not None for r in p.message.recipients)
            for p in self.parts
        )

    def __repr__(self) -> str:
        return f"SendBatch({self.request!r}, parts={len(self.parts)})"


@dataclass(frozen=True, slots=True, repr=False)
class StateBatch:
    request: HttpRequest
    ids: tuple[str, ...]

    def __repr__(self) -> str:
        return f"StateBatch({self.request!r}, ids={len(self.ids)})"


@dataclass(frozen=True, slots=True)
class CodecSettings:
    """What a codec needs besides the messages: where, who, and the limits."""

    base_url: str
    auth: Auth
    timezone: str = "Europe/Moscow"
    max_recipients: int = 1000
    max_state_ids: int = 500
    max_url_length: int = 2000

    def __post_init__(self) -> None:
        if not isinstance(self.auth, (LoginPassword, BearerToken)):
            raise CascadeValidationError("auth", "must be LoginPassword or BearerToken")
        if isinstance(self.auth, LoginPassword) and not (self.auth.login and self.auth.password):
            raise CascadeValidationError("login", "login and password are both required")
        if isinstance(self.auth, BearerToken) and not self.auth.token:
            raise CascadeValidationError("token", "must not be empty")
        for name in ("max_recipients", "max_state_ids"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise CascadeValidationError(
                    name, f"must be a positive whole number (got {value!r})"
                )
        object.__setattr__(self, "base_url", self.base_url.rstrip("/") + "/")

    def __repr__(self) -> str:
        return f"CodecSettings(base_url={redact_url(self.base_url)!r}, auth={self.auth!r})"
