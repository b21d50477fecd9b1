"""Reading a ``cascade`` connection into codec and client settings (no I/O)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..clients._policy import RetryPolicy
from ..gateway import (
    BearerToken,
    CascadeValidationError,
    LoginPassword,
    Variant,
    defaults,
)
from ..gateway._channels import Channel
from ..gateway._estimate import parse_prices
from ..gateway.codec import CodecSettings


@dataclass(frozen=True)
class ConnectionSettings:
    """What the clients need besides the codec; every default from ``gateway.defaults``."""

    variant: Variant
    codec: CodecSettings
    timeout: float
    verify: bool | str
    connect_timeout: float = defaults.CONNECT_TIMEOUT
    deadline: float = defaults.REQUEST_DEADLINE
    """Seconds one request may take in all (extra ``deadline``)."""
    repeat_window: float = defaults.REPEAT_WINDOW
    """Seconds before the gateway accepts the same request again (extra ``repeat_window``);
    0 for a gateway (or emulator) without the once-a-minute rule."""
    retry_limit: int = defaults.RETRY_LIMIT
    """Tries after the first, for failures a new try can cure (extra ``retry_limit``)."""
    retry_delay: float = defaults.RETRY_DELAY
    """Seconds before the first retry, doubled each time (extra ``retry_delay``)."""
    mask_phones: bool = False
    """Show phones as ``79*****0001`` in task logs, XCom summaries and reports (extra
    ``mask_phones``)."""
    prices: dict[Channel, Decimal] = field(default_factory=dict)
    """Price per unit for each channel (extra ``prices``), for cost estimates."""


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


def _number(
    extra: dict[str, Any], key: str, default: float, *, zero: bool = False,
    maximum: float = math.inf,
) -> float:  # fmt: skip
    """A finite number > 0 (or >= 0 when ``zero``) up to ``maximum``; the default if absent."""
    value = extra.get(key)
    if value in (None, ""):
        return default
    try:
        if isinstance(value, bool):
            raise TypeError
        number = float(value)
    except (TypeError, ValueError):
        raise CascadeValidationError(f"extra.{key}", f"must be a number (got {value!r})") from None
    if not math.isfinite(number):
        raise CascadeValidationError(f"extra.{key}", f"must be finite (got {value!r})")
    if number < 0 or (number == 0 and not zero):
        raise CascadeValidationError(f"extra.{key}", "must be positive" + (" or 0" if zero else ""))
    if number > maximum:
        raise CascadeValidationError(f"extra.{key}", f"must be at most {maximum:g}")
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
    """Every extra a ``cascade`` connection reads, and the one place they are described:

    :param extra.token: a Bearer token from the gateway's cabinet; when set, login and
        password are not sent.
    :param extra.protocol: the protocol variant: ``json`` (the only one with bases), ``xml``
        or ``get``.
    :param extra.scheme: ``http`` or ``https`` when the host has none (URI-form connections,
        whose host cannot carry a scheme).
    :param extra.timezone: IANA zone ``time_send`` is written in; aware datetimes are
        converted to it.
    :param extra.max_recipients: phones and bases per send request (JSON/XML).
    :param extra.max_state_ids: message ids per status request (JSON/XML).
    :param extra.timeout: seconds to wait between two reads of an answer (the UI form takes
        whole seconds, the extra JSON any positive number).
    :param extra.verify: verify TLS certificates: ``true``, ``false``, or a CA bundle path.
    :param extra.connect_timeout: seconds to open a connection.
    :param extra.deadline: seconds one request may take in all (connect, send, whole answer).
    :param extra.repeat_window: seconds before the gateway accepts an identical request again
        (at most 3600); 0 for a gateway or emulator without the once-a-minute rule.
    :param extra.retry_limit: tries after the first, for failures a new try can cure.
    :param extra.retry_delay: seconds before the first retry, doubled each time.
    :param extra.mask_phones: show phone numbers as ``79*****0001`` in task logs, XCom
        summaries, ``summary.json`` and error texts (the ledger keeps them whole: it must
        know who was messaged); an operator's or sensor's ``mask_phones`` overrides it.
    :param extra.prices: price per unit for each channel, for cost estimates and
        ``max_cost``: ``{"sms": "2.50", "viber": "1.10"}`` (an SMS part, a Viber message).
    """
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
        timezone=str(extra.get("timezone") or defaults.TIMEZONE),
        max_recipients=int(_number(extra, "max_recipients", defaults.MAX_RECIPIENTS)),
        max_state_ids=int(_number(extra, "max_state_ids", defaults.MAX_STATE_IDS)),
    )
    return ConnectionSettings(
        variant=variant,
        codec=codec,
        timeout=_number(extra, "timeout", defaults.READ_TIMEOUT),
        verify=_verify(extra.get("verify")),
        connect_timeout=_number(extra, "connect_timeout", defaults.CONNECT_TIMEOUT),
        deadline=_number(extra, "deadline", defaults.REQUEST_DEADLINE),
        repeat_window=_number(
            extra, "repeat_window", defaults.REPEAT_WINDOW, zero=True, maximum=3600
        ),
        retry_limit=_whole(extra, "retry_limit", defaults.RETRY_LIMIT),
        retry_delay=_number(extra, "retry_delay", defaults.RETRY_DELAY, zero=True),
        mask_phones=_flag(extra, "mask_phones"),
        prices=parse_prices("extra.prices", extra.get("prices")),
    )


def _flag(extra: dict[str, Any], key: str) -> bool:
    value = extra.get(key)
    if value in (None, ""):
        return False
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("false", "0", "no", "off"):
        return False
    if text in ("true", "1", "yes", "on"):
        return True
    raise CascadeValidationError(f"extra.{key}", f"must be true or false (got {value!r})")


def _whole(extra: dict[str, Any], key: str, default: int) -> int:
    number = _number(extra, key, default, zero=True)
    if number != int(number):
        raise CascadeValidationError(f"extra.{key}", f"must be a whole number (got {number!r})")
    return int(number)


def retry_policy(
    settings: ConnectionSettings, retry_limit: int | None = None, retry_delay: float | None = None
) -> RetryPolicy:
    """The connection's retry behaviour, hook (or operator) arguments taking precedence."""
    extra: dict[str, Any] = {"retry_limit": retry_limit, "retry_delay": retry_delay}
    return RetryPolicy(
        retry_limit=settings.retry_limit
        if retry_limit is None
        else _whole(extra, "retry_limit", 0),
        retry_delay=settings.retry_delay
        if retry_delay is None
        else _number(extra, "retry_delay", 0.0, zero=True),
    )
