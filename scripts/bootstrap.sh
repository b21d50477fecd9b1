#!/usr/bin/env bash
# Installs uv (into .tools/) and the locked environment (into .venv/). Needs only Python >= 3.10.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .tools/bin/uv ]; then
  "$PY" -m venv .tools
  .tools/bin/pip install --quiet --disable-pip-version-check uv==0.13.8
fi
.tools/bin/uv sync --frozen --quiet --python "$PY"
# This machine exports PYTHONDONTWRITEBYTECODE=1; without bytecode, every Airflow import
# costs seconds. Compile the environment once.
if [ ! -f .venv/.compiled ]; then
  .venv/bin/python -m compileall -q -j 0 .venv/lib airflow_provider_cascade >/dev/null 2>&1 || true
  touch .venv/.compiled
fi
