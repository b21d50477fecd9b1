"""On demand: mutation testing of ``gateway/`` and ``clients/`` with mutmut, over a random
sample of its mutants (fixed seed), against the fast test tiers (``[tool.mutmut]`` in
pyproject.toml). Prints the killed share and every mutant that survived.

    bash scripts/mutation.sh [--sample 120] [--seed 23]

mutmut works in ``mutants/`` (a copy of the package and the tests; git ignores it) and keeps
its results there, so a second run with the same seed re-tests the same mutants. Show one
with ``.venv/bin/mutmut show NAME``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"
CAUGHT = {"killed"}
"""A test failed (a test that hangs fails at pytest-timeout's limit). mutmut's own "timeout"
is not counted: its CPU-time limit is only an estimate."""


def generate() -> list[str]:
    """Every mutant's name, from mutmut's own generation step (no test run)."""
    import mutmut.__main__ as mm  # imported here: it reads pyproject.toml when imported

    mm.set_mutant_under_test("mutant_generation")
    MUTANTS.mkdir(exist_ok=True)
    mm.copy_src_dir()
    mm.copy_also_copy_files()
    mm.setup_source_paths()
    mm.store_lines_covered_by_tests()
    mm.create_mutants(2)
    return sorted(results())


def _metas() -> list[Path]:
    return sorted((MUTANTS / "airflow_provider_cascade").rglob("*.py.meta"))


def results() -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for meta in _metas():
        out.update(json.loads(meta.read_text())["exit_code_by_key"])
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=120, help="mutants to test")
    parser.add_argument("--seed", type=int, default=23, help="seed of the random sample")
    parser.add_argument("--max-children", type=int, default=2)
    args = parser.parse_args()

    os.chdir(ROOT)
    every = generate()
    sample = sorted(random.Random(args.seed).sample(every, min(args.sample, len(every))))
    print(f"{len(every)} mutants in gateway/, clients/; {len(sample)} sampled, seed {args.seed}")
    mutmut = [str(Path(sys.executable).parent / "mutmut"), "run", "--max-children"]
    subprocess.run([*mutmut, str(args.max_children), *sample], cwd=ROOT, check=False)

    from mutmut.stats import status_by_exit_code

    codes = results()
    status = {n: status_by_exit_code[codes.get(n)] for n in sample}
    caught = [n for n in sample if status[n] in CAUGHT]
    share = len(caught) / len(sample) if sample else 1.0
    print(f"\ncaught {len(caught)} of {len(sample)} sampled mutants ({share:.1%})")
    for name in sample:
        if status[name] not in CAUGHT:
            print(f"  {status[name]}: {name}")  # "no tests": no fast test reaches that code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
