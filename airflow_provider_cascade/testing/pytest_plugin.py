"""Pytest fixtures for DAG tests against the Cascade emulator (registered via ``pytest11``).

- ``cascade_emulator``: one emulator per test session, fast clock (60 gateway minutes pass
  in 0.1 s), identical-request rule off.
- ``cascade_gateway``: the same emulator, reset before the test.
- ``cascade_conn``: ``AIRFLOW_CONN_CASCADE_DEFAULT`` pointed at it for the test (JSON, login).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .emulator import CascadeEmulator


@pytest.fixture(scope="session")
def cascade_emulator() -> Iterator[CascadeEmulator]:
    with CascadeEmulator(time_scale=36_000, repeat_window=0) as emulator:
        yield emulator


@pytest.fixture
def cascade_gateway(cascade_emulator: CascadeEmulator) -> CascadeEmulator:
    cascade_emulator.reset()
    cascade_emulator.behaviour.repeat_window = 0
    cascade_emulator.set_time_scale(36_000)
    return cascade_emulator


@pytest.fixture
def cascade_conn(cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", cascade_gateway.conn_uri("json"))
    return "cascade_default"
