"""What codecs and clients exchange: the variant, credentials, settings, and HTTP requests
and responses as plain values."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Union

from . import defaults as default
from ._errors import CascadeAuthError, CascadeServerError, CascadeValidationError
from ._secrets import REDACTED

_SECRET_QUERY = re.compile(
    r"(?i)((?:^|[?&;])(?:[\w.-]*(?:password|passwd|token|secret|signature|credential|login|key)|sig)=)[^&#;\s]*"
)
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/@:\s]*):[^/@\s]*@")


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
    """Hide credentials in a URL: the GET variant's password in the query, a token or a
    signature there (``?token=``, ``X-Amz-Signature=``), a password in ``user:password@``
    (``s3://conn_id@bucket`` names a connection and stays)."""
    return _USERINFO.sub(
        lambda m: m.group(1) + ":" + REDACTED + "@",
        _SECRET_QUERY.sub(lambda m: m.group(1) + REDACTED, url),
    )


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


@dataclass(frozen=True, slots=True, repr=False)
class HttpResponse:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # a gateway may echo the password or token it was sent
        return f"HttpResponse({self.status}, body={len(self.body)} bytes)"

    def header(self, name: str) -> str | None:
        lname = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lname), None)

    def raise_for_status(self) -> None:
        """Raise for statuses whose body is not the protocol's: 429 and 5xx are transient
        (``CascadeServerError``, with the Retry-After seconds), 401 and 403 the credentials."""
        status = self.status
        if status == 429 or status >= 500:
            raise CascadeServerError(status, _retry_after(self.header("Retry-After")))
        if status in (401, 403):
            raise CascadeAuthError(f"HTTP {status}", http_status=status)


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(0.0, seconds) if seconds == seconds and seconds != float("inf") else None


@dataclass(frozen=True, slots=True)
class CodecSettings:
    """What a codec needs besides the messages: where, who, and the limits."""

    base_url: str
    auth: Auth
    timezone: str = default.TIMEZONE
    max_recipients: int = default.MAX_RECIPIENTS
    max_state_ids: int = default.MAX_STATE_IDS
    max_url_length: int = default.MAX_URL_LENGTH

    def __post_init__(self) -> None:
        if not isinstance(self.auth, (LoginPassword, BearerToken)):
            raise CascadeValidationError("auth", "must be LoginPassword or BearerToken")
        if isinstance(self.auth, LoginPassword) and not (self.auth.login and self.auth.password):
            raise CascadeValidationError("login", "login and password are both required")
        if isinstance(self.auth, BearerToken) and not self.auth.token:
            raise CascadeValidationError("token", "must not be empty")
        for name in ("max_recipients", "max_state_ids", "max_url_length"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise CascadeValidationError(
                    name, f"must be a positive whole number (got {value!r})"
                )
        object.__setattr__(self, "base_url", self.base_url.rstrip("/") + "/")

    def __repr__(self) -> str:
        return f"CodecSettings(base_url={redact_url(self.base_url)!r}, auth={self.auth!r})"
