"""Shared fixtures: Airflow points at a throwaway home; the emulator comes from our plugin."""

from __future__ import annotations

import os
import tempfile

_HOME = tempfile.mkdtemp(prefix="cascade-airflow-home-")
os.environ.setdefault("AIRFLOW_HOME", _HOME)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
