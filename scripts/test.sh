#!/usr/bin/env bash
# The whole check: lint, types, and every test tier (CI runs exactly this).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# The connection-form test drives Debian's chromium (never a downloaded browser).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium for the browser test ..."
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy --strict airflow_provider_cascade
.venv/bin/python -m pytest "$@"
