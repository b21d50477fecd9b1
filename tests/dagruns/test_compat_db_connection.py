"""A deferrable wait under ``dag.test()`` with the connection stored in the metadata database
(the way the docs lead users: UI or ``airflow connections add``, then ``airflow dags test``).
On Airflow 3.2/3.3 the trigger's ``aget_connection`` finds nothing there; the hook falls back."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_cascade.testing.dagruns import run_dag, task_states, xcom
from airflow_provider_cascade.testing.emulator import CascadeEmulator

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db_conn(
    airflow_home: Path, cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """``cascade_default`` as a row in the metadata database, and no env-var connection."""
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    monkeypatch.delenv("AIRFLOW_CONN_CASCADE_DEFAULT", raising=False)
    fields = cascade_gateway.conn_dict("json")
    conn = Connection(conn_id="cascade_default", **{**fields, "extra": json.dumps(fields["extra"])})
    with create_session() as session:
        session.query(Connection).filter(Connection.conn_id == conn.conn_id).delete()
        session.add(conn)
    yield "cascade_default"
    with create_session() as session:
        session.query(Connection).filter(Connection.conn_id == "cascade_default").delete()


def test_deferred_wait_reads_a_database_connection(
    db_conn: str, cascade_gateway: CascadeEmulator
) -> None:
    cascade_gateway.set_time_scale(600)  # Viber's hour takes 6 s: the sensor must defer
    run = run_dag("example_cascade_notification.py", "example_cascade_notification")
    assert task_states(run) == {"notify": "success", "wait_for_delivery": "success"}
    ids = xcom(run, "notify")
    prices = xcom(run, "wait_for_delivery", key="prices")
    assert ids and set(prices) == set(ids)
    assert cascade_gateway.counters["state_queries"] >= 2  # the poke, then the trigger


def test_async_read_of_a_missing_connection_still_says_so(
    airflow_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fallback is a second read, not a default: a connection nobody defined stays an
    error naming it."""
    from airflow.providers.common.compat.sdk import AirflowNotFoundException

    from airflow_provider_cascade.hooks.cascade import CascadeHook

    monkeypatch.delenv("AIRFLOW_CONN_CASCADE_NOWHERE", raising=False)
    with pytest.raises(AirflowNotFoundException, match="cascade_nowhere"):
        asyncio.run(CascadeHook("cascade_nowhere").aget_settings())
