"""A real Airflow stack (``airflow standalone``: api-server, scheduler with LocalExecutor,
triggerer, DAG processor) on SQLite, started once for the tests in this folder, with its
own emulator. Slow tier: about 15 s to start; CI runs it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_cascade.testing.emulator import CascadeEmulator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    url: str
    home: Path
    emulator: CascadeEmulator
    log: Path

    def api(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data, {"Content-Type": "application/json"}, method=method
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def run_dag(self, dag_id: str, timeout: float = 180) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:  # the DAG processor needs a moment to see new files
            try:
                self.api("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
                break
            except urllib.error.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        run = self.api("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None})
        run_id = urllib.parse.quote(run["dag_run_id"], safe="")
        while time.monotonic() < deadline:
            run = self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
            if run["state"] in ("success", "failed"):
                return run  # type: ignore[no-any-return]
            time.sleep(1)
        raise TimeoutError(f"{dag_id} did not finish in {timeout} s")


@pytest.fixture(scope="session")
def airflow_stack() -> Iterator[Stack]:
    home = Path(tempfile.mkdtemp(prefix="cascade-stack-"))
    dags = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    port = free_port()
    emulator = CascadeEmulator(time_scale=600).start()  # 60 min in 6 s; repeat window 1 s
    bindir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        "AIRFLOW_CONN_CASCADE_DEFAULT": emulator.conn_uri("json"),
    }
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
    log = home / "standalone.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([f"{bindir}/airflow", "standalone"], env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    stack = Stack(f"http://127.0.0.1:{port}", home, emulator, log)
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                stack.api("GET", "/api/v2/monitor/health")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"airflow standalone did not start:\n{log.read_text()[-3000:]}"
                    ) from None
                time.sleep(1)
        yield stack
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        emulator.stop()
