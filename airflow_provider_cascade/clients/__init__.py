"""HTTP clients over the sans-IO codecs: blocking (requests) and asyncio (httpx)."""

from __future__ import annotations

from ._policy import RetryPolicy
from .aio import AsyncCascadeClient
from .sync import CascadeClient

__all__ = ["AsyncCascadeClient", "CascadeClient", "RetryPolicy"]
