"""Reading a ``cascade`` connection into codec and client settings (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..gateway import BearerToken, CascadeValidationError, LoginPassword, Variant
from ..gateway._defaults import TIMEZONE as DEFAULT_TIMEZONE
from ..gateway.codec import CodecSettings

DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_RECIPIENTS = 1000
DEFAULT_MAX_STATE_IDS = 500


@dataclass(frozen=True)
class ConnectionSettings:
    variant: Variant
    codec: CodecSettings
    timeout: float
    verify: bool | str


def base_url(
    host: str | None, port: int | None, schema: str | None = None, scheme: str | None = None
) -> str:
    """``host`` may carry scheme and path prefix; without a scheme, the ``scheme`` extra
    (for URI-form connections, whose host cannot carry one), else https."""
    if not host:
        raise CascadeValidationError("host", "the gateway URL is required")
    host = host.strip().rstrip("/")
    if "://" not in host:
        if scheme not in (None, "", "http", "https"):
            raise CascadeValidationError("extra.scheme", f"must be http or https (got {scheme!r})")
        host = f"{scheme or 'https'}://{host}"
    scheme, rest = host.split("://", 1)
    netloc, _, path = rest.partition("/")
    if port and ":" not in netloc.rsplit("]", 1)[-1]:
        netloc = f"{netloc}:{port}"
    prefix = "/".join(p for p in (path, schema or "") if p)
    return f"{scheme}://{netloc}/{prefix}".rstrip("/")


def _number(extra: dict[str, Any], key: str, default: float) -> float:
    value = extra.get(key)
    if value in (None, ""):
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise CascadeValidationError(f"extra.{key}", f"must be a number (got {value!r})") from None
    if number <= 0:
        raise CascadeValidationError(f"extra.{key}", "must be positive")
    return number


def _verify(value: Any) -> bool | str:
    if value in (None, ""):
        return True
    if isinstance(value, bool):
        return value
    text = str(value).strip()
    if text.lower() in ("false", "0", "no", "off"):
        return False
    if text.lower() in ("true", "1", "yes", "on"):
        return True
    return text  # a CA bundle path


def connection_settings(
    *,
    host: str | None,
    port: int | None,
    schema: str | None,
    login: str | None,
    password: str | None,
    extra: dict[str, Any],
) -> ConnectionSettings:
    token = extra.get("token") or None
    if token:
        auth: BearerToken | LoginPassword = BearerToken(str(token))
    elif login and password:
        auth = LoginPassword(login, password)
    else:
        raise CascadeValidationError(
            "login", "set login and password, or a token in the connection's extra"
        )
    variant = Variant.parse(extra.get("protocol") or "json")
    codec = CodecSettings(
        base_url=base_url(host, port, schema, extra.get("scheme")),
        auth=auth,
        timezone=str(extra.get("timezone") or DEFAULT_TIMEZONE),
        max_recipients=int(_number(extra, "max_recipients", DEFAULT_MAX_RECIPIENTS)),
        max_state_ids=int(_number(extra, "max_state_ids", DEFAULT_MAX_STATE_IDS)),
    )
    return ConnectionSettings(
        variant=variant,
        codec=codec,
        timeout=_number(extra, "timeout", DEFAULT_TIMEOUT),
        verify=_verify(extra.get("verify")),
    )
