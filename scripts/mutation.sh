#!/usr/bin/env bash
# Mutation testing on demand (docs/development.md), never part of scripts/test.sh: mutmut over
# a fixed-seed random sample of the mutants of gateway/ and clients/, against the fast tiers.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python scripts/mutation.py "$@"
