#!/usr/bin/env bash
# Sets up the locked environment and runs the demo against the bundled gateway emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python scripts/demo.py
