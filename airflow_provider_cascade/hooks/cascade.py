"""CascadeHook: the gateway behind one API, whatever the variant and the auth."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from typing import Any

from airflow.providers.common.compat.connection import get_async_connection
from airflow.providers.common.compat.sdk import AirflowNotFoundException, BaseHook
from airflow.sdk.log import mask_secret
from asgiref.sync import sync_to_async

from ..clients import AsyncCascadeClient, CascadeClient
from ..clients.aio import shared_http_client, tls_verify
from ..gateway import (
    CascadeError,
    CascadeGatewayError,
    Message,
    MessageState,
    SendResult,
    make_codec,
)
from .connection import ConnectionSettings, connection_settings


def _mask(value: str | None) -> None:
    if value:
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

    def __init__(self, cascade_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cascade_conn_id = cascade_conn_id

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Fallback for Airflow < 3.2; newer UIs read ``provider_info`` instead."""
        from ..provider_info import UI_FIELD_BEHAVIOUR

        return UI_FIELD_BEHAVIOUR

    @cached_property
    def settings(self) -> ConnectionSettings:
        return _settings_of(self.get_connection(self.cascade_conn_id))

    @cached_property
    def client(self) -> CascadeClient:
        s = self.settings
        return CascadeClient(
            make_codec(s.variant, s.codec), timeout=(10.0, s.timeout), verify=s.verify
        )

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

    async def aget_settings(self) -> ConnectionSettings:
        """The connection's settings, read without blocking the event loop.

        ``get_async_connection`` picks Airflow's async read where it is safe (3.3.2+) and the
        sync read in a worker thread before that (3.0 has no async read at all). Under
        ``dag.test()`` / ``airflow dags test`` on 3.2/3.3 the async read cannot reach the
        metadata database (the in-process channel has no async send and the secrets backend
        swallows the error): a connection made in the UI or with ``airflow connections add``
        would be "not defined", so the sync read, in a worker thread, gets a second chance.
        Masking the secrets talks to the supervisor synchronously: also off the loop.
        """
        conn_id = self.cascade_conn_id
        try:
            conn = await get_async_connection(conn_id)
        except AirflowNotFoundException:
            self.log.debug("async read found no connection %s; reading it in a thread", conn_id)
            conn = await sync_to_async(self.get_connection)(conn_id)
        return await sync_to_async(_settings_of)(conn)

    async def aget_client(self, *, shared_pool: bool = False) -> AsyncCascadeClient:
        """The asyncio client, with the connection read without blocking the loop.

        ``shared_pool`` reuses one HTTP connection pool per event loop (the trigger does).
        """
        s = await self.aget_settings()
        timeout = (10.0, s.timeout)
        verify = await tls_verify(s.verify)
        pool = shared_http_client(timeout, verify) if shared_pool else None
        return AsyncCascadeClient(
            make_codec(s.variant, s.codec), timeout=timeout, verify=verify, client=pool
        )
