"""CascadeHook: the gateway behind one API, whatever the variant and the auth."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from typing import Any

from airflow.sdk import BaseHook

from ..clients import AsyncCascadeClient, CascadeClient, RetryPolicy
from ..clients.aio import tls_verify
from ..gateway import (
    CascadeError,
    CascadeGatewayError,
    Message,
    MessageState,
    SendResult,
    make_codec,
)
from .connection import ConnectionSettings, connection_settings, retry_policy


def _mask(value: str | None) -> None:
    if not value:
        return
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # pragma: no cover - older task SDKs
        return
    mask_secret(value)


def _settings_of(conn: Any) -> ConnectionSettings:
    extra = conn.extra_dejson or {}
    _mask(conn.password)
    _mask(extra.get("token"))
    return connection_settings(
        host=conn.host,
        port=conn.port,
        schema=conn.schema,
        login=conn.login,
        password=conn.password,
        extra=extra,
    )


class CascadeHook(BaseHook):
    """Send messages and read their states through the Cascade gateway."""

    conn_name_attr = "cascade_conn_id"
    default_conn_name = "cascade_default"
    conn_type = "cascade"
    hook_name = "Cascade"

    def __init__(
        self,
        cascade_conn_id: str = default_conn_name,
        *,
        retry_limit: int | None = None,
        retry_delay: float | None = None,
        **kwargs: Any,
    ) -> None:
        """``retry_limit`` (tries after the first) and ``retry_delay`` (seconds, doubled
        each time) override the connection extras of the same names."""
        super().__init__(**kwargs)
        self.cascade_conn_id = cascade_conn_id
        self.retry_limit = retry_limit
        self.retry_delay = retry_delay

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Fallback for Airflow < 3.2; newer UIs read ``provider_info`` instead."""
        from ..provider_info import UI_FIELD_BEHAVIOUR

        return UI_FIELD_BEHAVIOUR

    @cached_property
    def settings(self) -> ConnectionSettings:
        return _settings_of(self.get_connection(self.cascade_conn_id))

    def _policy(self, s: ConnectionSettings) -> RetryPolicy:
        return retry_policy(s, self.retry_limit, self.retry_delay)

    @cached_property
    def client(self) -> CascadeClient:
        s = self.settings
        return CascadeClient(
            make_codec(s.variant, s.codec),
            timeout=(s.connect_timeout, s.timeout),
            deadline=s.deadline,
            verify=s.verify,
            policy=self._policy(s),
            repeat_window=s.repeat_window,
        )

    def get_conn(self) -> CascadeClient:
        """The blocking client (made once per hook), as Airflow hooks' ``get_conn`` does."""
        return self.client

    def send(self, messages: Sequence[Message | Mapping[str, Any]]) -> list[SendResult]:
        return self.client.send(messages)

    def get_states(self, id_messages: Iterable[str | int]) -> dict[str, MessageState]:
        return self.client.get_states(id_messages)

    def test_connection(self) -> tuple[bool, str]:
        """An authenticated status query for an id nobody has: cheap and read-only."""
        try:
            probe = str(int(time.time() * 1000))  # differs each time: no once-a-minute refusal
            self.get_states([probe])
        except CascadeGatewayError as exc:
            return False, exc.text
        except CascadeError as exc:
            return False, str(exc)
        return True, f"Connected to the Cascade gateway ({self.settings.variant.value} variant)"

    async def aget_client(self, *, shared_pool: bool = False) -> AsyncCascadeClient:
        """The asyncio client, with the connection read without blocking the loop.

        ``shared_pool`` reuses one HTTP connection pool per event loop (the trigger does).
        """
        conn = await self.aget_connection(self.cascade_conn_id)
        s = _settings_of(conn)
        return AsyncCascadeClient(
            make_codec(s.variant, s.codec),
            timeout=(s.connect_timeout, s.timeout),
            deadline=s.deadline,
            verify=await tls_verify(s.verify),
            policy=self._policy(s),
            shared_pool=shared_pool,
            repeat_window=s.repeat_window,
        )
