from __future__ import annotations

import subprocess
import sys


def test_gateway_imports_no_airflow() -> None:
    code = (
        "import sys, airflow_provider_cascade.gateway; "
        "print(sorted(m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
