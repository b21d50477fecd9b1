"""The shell commands in docs/index.md and docs/emulator.md work as written.

Each fenced ``shell`` block runs, exactly as it stands, in bash in a fresh temporary folder,
with the environment's ``bin`` first on PATH (as for a user whose virtualenv is active)
and the test session's Airflow home (its DAG folder holds the example DAGs). Whatever a
block leaves running is stopped afterwards.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "docs" / "index.md", ROOT / "docs" / "emulator.md"]
BLOCK = re.compile(r"```shell\n(.*?)```", re.S)
BLOCKS = [
    (doc.name, i, code) for doc in DOCS for i, code in enumerate(BLOCK.findall(doc.read_text()))
]
EMULATOR_PORT = 8765


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def run_block(code: str, cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    deadline = time.monotonic() + 60
    while not _port_free(EMULATOR_PORT):  # another run of these commands still has it
        if time.monotonic() > deadline:
            pytest.fail(f"port {EMULATOR_PORT} stays busy")
        time.sleep(0.5)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", code], cwd=cwd, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        out, _ = proc.communicate(timeout=timeout)
    finally:
        with contextlib.suppress(ProcessLookupError):  # what the block left in the background
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, "")


@pytest.mark.parametrize(("doc", "index", "code"), BLOCKS, ids=[f"{d}#{i}" for d, i, _ in BLOCKS])
def test_shell_block_runs_as_written(
    doc: str, index: int, code: str, tmp_path: Path, airflow_home: Path
) -> None:
    started = time.monotonic()
    result = run_block(code, tmp_path, timeout=300)
    took = time.monotonic() - started
    assert result.returncode == 0, f"{doc} block {index} failed:\n{code}\n{result.stdout[-4000:]}"
    if "airflow dags test example_cascade_notification" in code:
        finished = re.search(r"run_duration=([0-9.]+), state=(\w+)", result.stdout)
        assert finished, result.stdout[-4000:]
        assert finished[2] == "success", result.stdout[-4000:]
        # at the emulator's default clock the example's Viber hour passes in 6 s
        assert float(finished[1]) < 45, f"the notification example took {finished[1]} s"
        assert took < 240, f"the first steps took {took:.0f} s in all"
    assert _port_free(EMULATOR_PORT), "the block left the emulator running"


def test_the_first_steps_use_the_emulator_and_the_examples() -> None:
    """The blocks this test runs are the ones a new user needs (a guard against a doc edit
    that leaves nothing to run)."""
    codes = {
        doc: "".join(c for d, _, c in BLOCKS if d == doc) for doc in ("index.md", "emulator.md")
    }
    assert "cascade-emulator --example-bases &" in codes["index.md"]
    assert "airflow dags test example_cascade_notification" in codes["index.md"]
    assert "-p airflow_provider_cascade.testing.pytest_plugin" in codes["emulator.md"]
    assert ".venv" not in "".join(codes.values())  # a pip user has no dev checkout
