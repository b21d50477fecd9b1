#!/usr/bin/env bash
# The whole check: lint, types, and every test tier (CI runs exactly this).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy --strict airflow_provider_cascade
.venv/bin/python -m pytest "$@"
