"""HTTP libraries log request URLs at DEBUG/INFO; the GET variant's carry the password.

A logging filter applies only to records made by the logger it sits on (not its children),
so it is installed on each logger that emits a URL. Arguments are redacted whatever their
type (httpx passes ``URL`` objects), by their text."""

from __future__ import annotations

import logging

from ..gateway.codec import redact_url

URL_LOGGERS = (
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.poolmanager",
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)
_PLAIN = (int, float, type(None))


def _redacted(value: object) -> object:
    if isinstance(value, _PLAIN):
        return value
    text = str(value)
    safe = redact_url(text)
    return value if safe == text else safe


class RedactUrls(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_url(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _redacted(v) for k, v in record.args.items()}
        return True


_FILTER = RedactUrls()


def install() -> None:
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
