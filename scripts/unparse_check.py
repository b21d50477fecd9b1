"""On demand: the fast test tiers against a copy of the library whose every module has been
rewritten through ``ast.unparse`` (same behaviour, other source text: no comments, other
quotes, wrapping and parentheses). A test that fails here depends on the library's source
text rather than on its behaviour.

    .venv/bin/python scripts/unparse_check.py [pytest arguments]

The copy lives in a temporary folder, first on ``PYTHONPATH`` (subprocesses too); the
worktree is not touched.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "airflow_provider_cascade"
COPIED = (PACKAGE, "tests", "example_dags", "pyproject.toml")
FAST_TIERS = ["tests/gateway", "tests/hooks", "tests/emulator"]
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc")


def rewrite(folder: Path) -> int:
    """Every module of ``folder`` through ``ast.unparse``; the number of modules whose text
    changed (all of them, in practice)."""
    changed = 0
    for path in sorted(folder.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        text = ast.unparse(ast.parse(source, filename=str(path))) + "\n"
        if text != source:
            changed += 1
            path.write_text(text, encoding="utf-8")
    return changed


def main(args: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="cascade-unparse-") as tmp:
        copy = Path(tmp)
        for name in COPIED:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, copy / name, symlinks=True, ignore=SKIP)
            else:
                shutil.copy2(source, copy / name)
        changed = rewrite(copy / PACKAGE)
        env = {**os.environ, "PYTHONPATH": f"{copy}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
        where = subprocess.run(
            [sys.executable, "-c", f"import {PACKAGE}; print({PACKAGE}.__file__)"],
            cwd=copy, env=env, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        if not where.startswith(str(copy)):
            print(f"the rewritten copy is not the one imported ({where})", file=sys.stderr)
            return 2
        print(f"{changed} modules rewritten through ast.unparse in {copy}", flush=True)
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"]
        return subprocess.run([*command, *(args or FAST_TIERS)], cwd=copy, env=env).returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
