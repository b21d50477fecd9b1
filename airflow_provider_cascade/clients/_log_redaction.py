"""HTTP libraries log request URLs at DEBUG/INFO; the GET variant's carry the password."""

from __future__ import annotations

import logging

from ..gateway.codec import redact_url

NOISY_LOGGERS = ("urllib3.connectionpool", "httpx", "httpcore")


class RedactUrls(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_url(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_url(a) if isinstance(a, str) else a for a in record.args)
        return True


_FILTER = RedactUrls()


def install() -> None:
    for name in NOISY_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
