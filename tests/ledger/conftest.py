"""A strict emulator (the once-a-minute rule on, its window scaled to 0.3 s) and a hook whose
connection tells the provider the same window."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from airflow_provider_cascade.hooks.cascade import CascadeHook
from airflow_provider_cascade.testing.emulator import CascadeEmulator

WINDOW = 0.3


@pytest.fixture(scope="module")
def strict_emulator() -> Iterator[CascadeEmulator]:
    with CascadeEmulator(time_scale=36_000, repeat_window=WINDOW) as emulator:
        yield emulator


@pytest.fixture
def gw(strict_emulator: CascadeEmulator) -> CascadeEmulator:
    strict_emulator.reset()
    strict_emulator.behaviour.repeat_window = WINDOW
    return strict_emulator


def make_hook(monkeypatch: pytest.MonkeyPatch, gw: CascadeEmulator, protocol: str) -> CascadeHook:
    conn = gw.conn_dict(protocol, repeat_window=WINDOW)
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(conn))
    return CascadeHook()
