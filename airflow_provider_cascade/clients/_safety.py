"""What both clients tell the user about their transport, and attach to a failed send."""

from __future__ import annotations

import ipaddress
import logging
from urllib.parse import urlsplit

from ..gateway import CascadeError, SendResult
from ..gateway.codec import CodecSettings

log = logging.getLogger("airflow_provider_cascade.clients")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def warn_if_insecure(settings: CodecSettings, verify: object) -> None:
    """A warning in the task log when the password or token could be read on the way: TLS
    verification off, or plain http to anything but this machine (the emulator)."""
    parts = urlsplit(settings.base_url)
    host = parts.hostname or ""
    if parts.scheme == "http" and not _loopback(host):
        log.warning(
            "The Cascade connection sends its password or token over plain http to %s; "
            "anyone on the path can read it. Use https.",
            host,
        )
    if verify is False and parts.scheme == "https":
        log.warning(
            "TLS certificate verification is off for the Cascade connection to %s (extra "
            "verify=false): anyone on the path can pose as the gateway and read the password "
            "or token. Set verify to true or to a CA bundle path.",
            host,
        )


def attach_partial_results(exc: CascadeError, results: list[SendResult]) -> None:
    """``exc.partial_results``: what the batches before the failed one returned."""
    exc.partial_results = list(results)
