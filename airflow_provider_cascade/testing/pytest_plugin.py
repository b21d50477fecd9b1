"""Pytest fixtures for DAG tests against the Cascade emulator.

Opt in from a ``conftest.py``::

    pytest_plugins = ["airflow_provider_cascade.testing.pytest_plugin"]

or on the command line: ``pytest -p airflow_provider_cascade.testing.pytest_plugin``.

- ``cascade_emulator``: one emulator per test session; a fast clock (60 gateway minutes
  pass in 0.1 s) and the once-a-minute rule ON with a window of
  :data:`FIXTURE_REPEAT_WINDOW` real seconds.
- ``cascade_gateway``: the same emulator, reset before the test (messages, requests,
  faults, and every setting back to the above); the test fails if the emulator itself
  broke on its traffic (``internal_errors``).
- ``cascade_conn``: ``AIRFLOW_CONN_CASCADE_DEFAULT`` pointed at it for the test (JSON,
  login and password, extra ``repeat_window`` = the emulator's window).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .emulator import CascadeEmulator

FIXTURE_TIME_SCALE = 36_000.0
"""Gateway seconds per real second in the fixtures: a 60-minute validity passes in 0.1 s."""

FIXTURE_REPEAT_WINDOW = 1.0
"""Real seconds within which the fixtures' emulator refuses an identical request. Long
enough that a client repeating a request at once, or after a retry backoff of 0.5 s, is
refused as a real gateway would; short enough that waiting it out costs a test little.
The provider learns it from the connection extra ``repeat_window``."""


@pytest.fixture(scope="session")
def cascade_emulator() -> Iterator[CascadeEmulator]:
    with CascadeEmulator(
        time_scale=FIXTURE_TIME_SCALE, repeat_window=FIXTURE_REPEAT_WINDOW
    ) as emulator:
        yield emulator


@pytest.fixture
def cascade_gateway(cascade_emulator: CascadeEmulator) -> Iterator[CascadeEmulator]:
    cascade_emulator.reset()
    yield cascade_emulator
    errors = cascade_emulator.internal_errors
    if errors:
        pytest.fail(f"the emulator failed on this test's requests:\n{errors[0]}")


@pytest.fixture
def cascade_conn(cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", cascade_gateway.conn_uri("json"))
    return "cascade_default"
