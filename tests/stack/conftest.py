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
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
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

    def run_dag(
        self, dag_id: str, timeout: float = 180, conf: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        run_id = self.trigger_dag(dag_id, timeout, conf)
        return self.wait_for_run(dag_id, run_id, timeout)

    def trigger_dag(
        self, dag_id: str, timeout: float = 180, conf: dict[str, Any] | None = None
    ) -> str:
        """Unpause and start a run; returns its run id."""
        deadline = time.monotonic() + timeout
        while True:  # the DAG processor needs a moment to see new files
            try:
                self.api("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
                break
            except urllib.error.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        body: dict[str, Any] = {"logical_date": None}
        if conf is not None:
            body["conf"] = conf
        run = self.api("POST", f"/api/v2/dags/{dag_id}/dagRuns", body)
        return str(run["dag_run_id"])

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 180) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        quoted = urllib.parse.quote(run_id, safe="")
        while time.monotonic() < deadline:
            run = self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{quoted}")
            if run["state"] in ("success", "failed"):
                return run  # type: ignore[no-any-return]
            time.sleep(1)
        raise TimeoutError(f"{dag_id} did not finish in {timeout} s")

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        quoted = urllib.parse.quote(run_id, safe="")
        path = f"/api/v2/dags/{dag_id}/dagRuns/{quoted}/taskInstances/{task_id}"
        return self.api("GET", path)  # type: ignore[no-any-return]

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        quoted = urllib.parse.quote(run_id, safe="")
        path = f"/api/v2/dags/{dag_id}/dagRuns/{quoted}/taskInstances/{task_id}/xcomEntries/{key}"
        return self.api("GET", path)["value"]


@contextmanager
def start_stack(
    emulator: CascadeEmulator, env: Mapping[str, str | None] | None = None, parallelism: int = 4
) -> Iterator[Stack]:
    """``airflow standalone`` in a throwaway home on a free port, stopped on exit; ``env``
    adds to (or overrides) the processes' environment, e.g. connections; None removes."""
    home = Path(tempfile.mkdtemp(prefix="cascade-stack-"))
    dags = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    port = free_port()
    bindir = str(Path(sys.executable).parent)
    full_env = {
        **os.environ,
        "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": str(parallelism),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        "AIRFLOW_CONN_CASCADE_DEFAULT": emulator.conn_uri("json"),
    }
    for key, value in (env or {}).items():
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    full_env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
    log = home / "standalone.log"
    stack = Stack(f"http://127.0.0.1:{port}", home, emulator, log)
    with airflow_process([f"{bindir}/airflow", "standalone"], full_env, log, stack.url):
        yield stack


@contextmanager
def airflow_process(
    command: list[str], env: Mapping[str, str], log: Path, url: str
) -> Iterator[subprocess.Popen[bytes]]:
    """An Airflow server process (its output in ``log``), up once ``url`` answers its health
    check, and stopped (its whole process group) however the tests end."""
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=dict(env), stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                urllib.request.urlopen(url + "/api/v2/monitor/health", timeout=5).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{' '.join(command[-1:])} did not start:\n{log.read_text()[-3000:]}"
                    ) from None
                time.sleep(1)
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="session")
def airflow_stack() -> Iterator[Stack]:
    emulator = CascadeEmulator(time_scale=600).start()  # 60 min in 6 s; repeat window 1 s
    try:
        with start_stack(emulator) as stack:
            yield stack
    finally:
        emulator.stop()
