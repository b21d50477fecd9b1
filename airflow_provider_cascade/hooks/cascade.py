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

from ..clients import AsyncCascadeClient, CascadeClient, RetryPolicy
from ..clients.aio import tls_verify
from ..gateway import (
    CascadeError,
    CascadeGatewayError,
    Message,
    MessageState,
    SendResult,
)
from ..gateway.codec import make_codec
from . import _metrics
from .connection import ConnectionSettings, connection_settings, retry_policy


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


def _kind(resend: bool) -> str:
    """Clients resend only read-only status queries; sends never."""
    return "status" if resend else "send"


class _MeteredClient(CascadeClient):
    """The blocking client, its requests and refusals counted in Airflow's metrics."""

    def _fetch(self, request: Any, *, resend: bool) -> Any:
        started, ok = time.monotonic(), False
        try:
            response = super()._fetch(request, resend=resend)
            ok = True
            return response
        finally:
            _metrics.request(
                self.codec.variant.value, _kind(resend), time.monotonic() - started, ok
            )

    def get_states(self, id_messages: Iterable[str | int]) -> dict[str, MessageState]:
        asked = list(dict.fromkeys(str(i) for i in id_messages))
        got = super().get_states(asked)
        _metrics.incr(_metrics.REFUSALS, sum(1 for i in asked if i not in got), kind="status")
        return got


class _MeteredAsyncClient(AsyncCascadeClient):
    """The asyncio client, its requests and refusals counted in Airflow's metrics."""

    async def _fetch(self, request: Any, *, resend: bool) -> Any:
        started, ok = time.monotonic(), False
        try:
            response = await super()._fetch(request, resend=resend)
            ok = True
            return response
        finally:
            _metrics.request(
                self.codec.variant.value, _kind(resend), time.monotonic() - started, ok
            )

    async def get_states(self, id_messages: Iterable[str | int]) -> dict[str, MessageState]:
        asked = list(dict.fromkeys(str(i) for i in id_messages))
        got = await super().get_states(asked)
        _metrics.incr(_metrics.REFUSALS, sum(1 for i in asked if i not in got), kind="status")
        return got


class CascadeHook(BaseHook):
    """Send messages and read their states through the Cascade gateway.

    :param cascade_conn_id: the ``cascade`` connection.
    :param retry_limit: tries after the first for failures a new try can cure; None: the
        connection's ``retry_limit`` extra.
    :param retry_delay: seconds before the first retry, doubled each time; None: the
        connection's ``retry_delay`` extra.
    """

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
        """``retry_limit`` and ``retry_delay`` override the connection extras of the same
        names."""
        super().__init__(**kwargs)
        self.cascade_conn_id = cascade_conn_id
        self.retry_limit = retry_limit
        self.retry_delay = retry_delay

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """For Airflow 3.0/3.1 (3.2+ read ``provider_info``): the declared behaviour with the
        snake_case keys those releases validate it against."""
        from ..provider_info import UI_FIELD_BEHAVIOUR

        return {key.replace("-", "_"): value for key, value in UI_FIELD_BEHAVIOUR.items()}

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """For Airflow 3.0/3.1, whose UI builds the extra fields from WTForms widgets (3.2+
        read ``conn-fields`` and never call this). Built from the declared fields, one home.
        WTForms is imported here, not at module level: Airflow patches it while calling this,
        and workers and triggerers do not need it (the FAB provider brings it)."""
        from wtforms import BooleanField, IntegerField, PasswordField, StringField
        from wtforms.validators import Optional, any_of

        from ..provider_info import CONN_FIELDS

        classes = {"string": StringField, "integer": IntegerField, "boolean": BooleanField}
        widgets: dict[str, Any] = {}
        for name, field in CONN_FIELDS.items():
            schema = field["schema"]
            kind = next(t for t in schema["type"] if t != "null")
            validators: list[Any] = [Optional()]
            if "enum" in schema:
                validators.append(any_of(schema["enum"]))
            field_class = PasswordField if schema.get("format") == "password" else classes[kind]
            widgets[name] = field_class(
                label=field["label"],
                validators=validators,
                description=field.get("description", ""),
                default=schema.get("default"),
            )
        return widgets

    @cached_property
    def settings(self) -> ConnectionSettings:
        return _settings_of(self.get_connection(self.cascade_conn_id))

    def _policy(self, s: ConnectionSettings) -> RetryPolicy:
        return retry_policy(s, self.retry_limit, self.retry_delay)

    @cached_property
    def client(self) -> CascadeClient:
        s = self.settings
        return _MeteredClient(
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
        return _MeteredAsyncClient(
            make_codec(s.variant, s.codec),
            timeout=(s.connect_timeout, s.timeout),
            deadline=s.deadline,
            verify=await tls_verify(s.verify),
            policy=self._policy(s),
            shared_pool=shared_pool,
            repeat_window=s.repeat_window,
        )
