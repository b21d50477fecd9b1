"""Shared benchmark plumbing: an emulator in its own process, timing, memory."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")


@contextmanager
def emulator_process(
    time_scale: float = 36_000, repeat_window: float = 0.0, latency: float = 0.0,
    *options: str,
) -> Iterator[str]:  # fmt: skip
    """The emulator in a separate process, so its CPU does not share our GIL. The
    once-a-minute rule is off unless ``repeat_window`` (real seconds) is given; ``latency``:
    seconds each gateway call takes (a gateway across the internet)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_cascade.testing.cli", "--port", "0",
         "--time-scale", str(time_scale), "--repeat-window", str(repeat_window),
         "--latency", str(latency), *options],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"(http://\S+)", line)
    if match is None:
        proc.kill()
        raise RuntimeError(f"emulator did not start: {line!r}")
    try:
        yield match.group(1)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def conn_env(url: str, protocol: str, **extra: Any) -> None:
    import json

    host, port = url.rsplit(":", 1)
    os.environ["AIRFLOW_CONN_CASCADE_DEFAULT"] = json.dumps({
        "conn_type": "cascade", "host": host, "port": int(port), "login": "demo",
        "password": "demo-secret", "extra": {"protocol": protocol, **extra},
    })  # fmt: skip


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def paired(
    floor: Callable[[], Any], provider: Callable[[], Any], pairs: int, before: Callable[[], Any]
) -> tuple[list[float], list[float], Any]:
    """Floor and provider timed back to back ``pairs`` times (``before`` each run): on a
    shared machine whose speed drifts by 2x within minutes, the ratio of each pair is what
    holds still. Returns both lists of seconds and the provider's last result."""
    floors: list[float] = []
    providers: list[float] = []
    result: Any = None
    for _ in range(pairs):
        before()
        floors.append(timed(floor)[0])
        before()
        elapsed, result = timed(provider)
        providers.append(elapsed)
    return floors, providers, result


def pair_ratio(floors: list[float], providers: list[float]) -> tuple[float, str]:
    """The median of the pairs' ratios, and a note with their spread."""
    ratios = sorted(p / f for p, f in zip(providers, floors, strict=True))
    note = f"median of {len(ratios)} back-to-back pairs (pairs {ratios[0]:.2f}-{ratios[-1]:.2f})"
    return statistics.median(ratios), note


def best_of(n: int, fn: Callable[[], Any]) -> float:
    return min(timed(fn)[0] for _ in range(n))


def peak_memory_mb(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()
