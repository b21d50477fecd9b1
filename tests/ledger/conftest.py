"""A strict emulator (the once-a-minute rule on, its window scaled to 0.3 s) and a hook whose
connection tells the provider the same window."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


def record_names(folder: Path) -> list[str]:
    """``<batch>.<attempt>.<kind>`` of every record in a ledger's send folder (the try's claim
    left out: tests of one try need not know it)."""
    out = []
    for path in sorted((folder / "send").iterdir()):
        batch, attempt, _claim, kind, _ext = path.name.split(".")
        out.append(f"{batch}.{attempt}.{kind}")
    return sorted(out)


def record(folder: Path, batch: int, attempt: int, kind: str) -> list[dict[str, Any]]:
    """The lines of one record, parsed (the only one of that batch, attempt and kind)."""
    (path,) = (folder / "send").glob(f"{batch:07d}.{attempt:03d}.*.{kind}.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()]


@contextmanager
def emulator_in_a_process(*options: str) -> Iterator[str]:
    """The emulator in a process of its own (its CLI ``options``); yields its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_cascade.testing.cli", "--port", "0",
         "--time-scale", "36000", *options],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert proc.stdout is not None
    match = re.search(r"(http://\S+)", proc.stdout.readline())
    assert match, "the emulator did not start"
    try:
        yield match.group(1)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
