"""Code in the docs runs: every python block in README.md and docs/*.md is executed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)
BLOCKS = [(f.name, i, code) for f in FILES for i, code in enumerate(BLOCK.findall(f.read_text()))]


@pytest.mark.parametrize(("name", "index", "code"), BLOCKS, ids=[f"{n}#{i}" for n, i, _ in BLOCKS])
def test_doc_block_runs(name: str, index: int, code: str, airflow_home: Path) -> None:
    exec(compile(code, f"{name}#{index}", "exec"), {"__name__": f"docs_{index}"})


def test_there_are_blocks() -> None:
    assert len(BLOCKS) >= 8
