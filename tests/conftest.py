"""Shared fixtures. Airflow gets a throwaway home whose DAG folder holds the example DAGs
and tests/dags; the metadata database (SQLite) is migrated once per session."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# The emulator's fixtures (cascade_emulator, cascade_gateway, cascade_conn) are opt-in.
pytest_plugins = ["airflow_provider_cascade.testing.pytest_plugin"]

ROOT = Path(__file__).resolve().parents[1]
_HOME = Path(tempfile.mkdtemp(prefix="cascade-airflow-home-"))
DAGS = _HOME / "dags"
DAGS.mkdir()
for folder in (ROOT / "example_dags", ROOT / "tests" / "dags"):
    for file in folder.glob("*.py"):
        if not file.name.startswith("_"):
            (DAGS / file.name).symlink_to(file)
for file in (ROOT / "example_dags").glob("*.csv"):
    (DAGS / file.name).symlink_to(file)

os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ.setdefault("AIRFLOW__CORE__TEST_CONNECTION", "Enabled")

# Reproducible property tests in every tier: the same examples on every run and machine, so
# CI is reproducible and figures in docs come from a named command, not from luck.
# HYPOTHESIS_PROFILE=explore for random runs.
settings.register_profile("derandomized", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "derandomized"))


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated SQLite metadata database, shared by every DAG test of the session."""
    airflow = Path(sys.executable).parent / "airflow"
    subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True, timeout=600)
    return _HOME


@pytest.fixture
def airflow_home(airflow_db: Path) -> Iterator[Path]:
    yield airflow_db
