"""A real ``airflow api-server`` with the Cascade plugin, one per test module: the simple auth
manager with generated passwords (not all-admins) and a DAG-level restriction
(``restricted_auth``), a ledger root of its own, the same metadata database as the test's
``dag.test()`` runs."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.stack.conftest import airflow_process, free_port

ROOT = Path(__file__).resolve().parents[2]
USERS = {"viewer": "viewer", "outsider": "viewer"}


@dataclass
class ApiServer:
    url: str
    home: Path
    ledgers: Path
    log: Path

    def passwords(self) -> dict[str, str]:
        data: dict[str, str] = json.loads((self.home / "passwords.json").read_text())
        return data

    def token(self, user: str) -> str:
        body = json.dumps({"username": user, "password": self.passwords()[user]}).encode()
        request = urllib.request.Request(self.url + "/auth/token", body,
                                         {"Content-Type": "application/json"})  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as response:
            return str(json.loads(response.read())["access_token"])

    def get(
        self, path: str, token: str | None = None, cookie: str | None = None
    ) -> tuple[int, str]:
        headers = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if cookie:
            headers["Cookie"] = f"_token={cookie}"
        request = urllib.request.Request(self.url + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


@pytest.fixture(scope="module")
def ledger_root() -> Iterator[Path]:
    """The ledger root of the module's DAG runs and of its api-server."""
    root = Path(tempfile.mkdtemp(prefix="cascade-ui-ledgers-"))
    before = os.environ.get("AIRFLOW__CASCADE__LEDGER_PATH")
    os.environ["AIRFLOW__CASCADE__LEDGER_PATH"] = str(root)
    try:
        yield root
    finally:
        if before is None:
            os.environ.pop("AIRFLOW__CASCADE__LEDGER_PATH", None)
        else:
            os.environ["AIRFLOW__CASCADE__LEDGER_PATH"] = before


@pytest.fixture(scope="module")
def api_server(airflow_db: Path, ledger_root: Path) -> Iterator[ApiServer]:
    port = free_port()
    bindir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__CORE__AUTH_MANAGER": "tests.ui.restricted_auth.RestrictedAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:{r}" for u, r in USERS.items()),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(airflow_db / "passwords.json"),
        "AIRFLOW__CASCADE__LEDGER_PATH": str(ledger_root),
        "CASCADE_TEST_HIDDEN": "outsider:example_cascade_sharded_campaign",
    }
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
    log = airflow_db / f"api-server-{port}.log"
    server = ApiServer(f"http://127.0.0.1:{port}", airflow_db, ledger_root, log)
    with airflow_process([f"{bindir}/airflow", "api-server"], env, log, server.url):
        yield server
