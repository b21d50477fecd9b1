"""Code in the docs works: every python block in README.md and docs/*.md is executed, and every
DAG a block defines runs to success against the emulator (``dag.test()``, triggers inline)."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import os
import re
import sys
from pathlib import Path

import pytest

from airflow_provider_cascade.testing.dagruns import run_dag
from airflow_provider_cascade.testing.emulator import CascadeEmulator

ROOT = Path(__file__).resolve().parents[1]
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)
BLOCKS = [(f.name, i, code) for f in FILES for i, code in enumerate(BLOCK.findall(f.read_text()))]
NOT_RUN = {
    "docs_file": "reads and writes s3://aws_default@campaigns/...: built, not run",
    "docs_sharded": "reads and writes s3://aws_default@campaigns/...: built, not run",
}
"""DAGs whose blocks point at storage a test cannot reach; the file sends they show are run
by tests/dagruns/test_ledger_dagruns.py and the sharded example."""


@pytest.mark.parametrize(("name", "index", "code"), BLOCKS, ids=[f"{n}#{i}" for n, i, _ in BLOCKS])
def test_doc_block_runs(
    name: str,
    index: int,
    code: str,
    airflow_home: Path,
    cascade_conn: str,
    cascade_gateway: CascadeEmulator,
) -> None:
    from airflow.sdk import DAG

    cascade_gateway.load_example_bases()  # the campaign blocks send to bases 1001-1003
    namespace: dict[str, object] = {"__name__": f"docs_{index}"}
    exec(compile(code, f"{name}#{index}", "exec"), namespace)
    dags = [v for v in namespace.values() if isinstance(v, DAG)]
    for dag in dags:
        assert dag.task_dict, f"{name}#{index}: DAG {dag.dag_id} has no tasks"
    to_run = [d.dag_id for d in dags if d.dag_id not in NOT_RUN]
    if not to_run:
        return
    # dag.test() serializes the DAG from its file in the DAG folder, as Airflow does
    source = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]) / f"_docs_{Path(name).stem}_{index}.py"
    source.write_text(code, encoding="utf-8")
    try:
        for dag_id in to_run:
            asked = len(cascade_gateway.requests)
            run = run_dag(source.name, dag_id)
            assert str(run.state) == "success", f"{name}#{index}: {dag_id} ended {run.state}"
            assert len(cascade_gateway.requests) > asked, f"{dag_id} never asked the gateway"
    finally:
        source.unlink()
    assert cascade_gateway.internal_errors == []
    assert cascade_gateway.counters["repeat_refused"] == 0  # the provider waited the window


def test_every_page_with_python_has_its_blocks_collected() -> None:
    """A change of fence (```py, ```Python) would silently drop a page's blocks from the run."""
    fenced = {f.name for f in FILES if re.search(r"```(py|python3|Python)\n", f.read_text())}
    assert fenced == set(), f"use ```python fences in {sorted(fenced)}"
    assert {n for n, _, _ in BLOCKS} >= {"README.md", "operators.md", "sensor.md", "emulator.md"}


def _section(page: str, heading: str) -> str:
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    start = text.index(f"## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def test_the_module_table_matches_the_package() -> None:
    """Every module in index.md's table imports and holds the names the row gives it; the
    modules a reader looks for are all there."""
    rows = re.findall(
        r"^\| `(airflow_provider_cascade[\w.]*)` \| (.*) \|$",
        _section("index.md", "What is where"),
        re.M,
    )
    modules = {m: rest for m, rest in rows}
    from airflow_provider_cascade.hooks.cascade import CascadeHook

    assert {
        f"airflow_provider_cascade.{m}"
        for m in ("operators.cascade", "sensors.cascade", "triggers.cascade", "notifications.cascade",
                  "hooks.cascade", "ledger", "waiting", "gateway", "gateway.codec", "testing.emulator")
    } <= set(modules)  # fmt: skip
    for module, rest in modules.items():
        imported = importlib.import_module(module)
        for name in re.findall(r"`(Cascade\w+)`", rest):
            assert hasattr(imported, name), f"{module} has no {name}"
    hook = re.search(r"`CascadeHook`: ([^;]+);", modules["airflow_provider_cascade.hooks.cascade"])
    assert hook, "the hook's row names its methods"
    for method in re.findall(r"`(\w+)`", hook[1]):
        assert callable(getattr(CascadeHook, method, None)), f"CascadeHook has no {method}()"


def _imported_distributions() -> set[str]:
    """Distributions of every third-party module the package imports (any line, any depth)."""
    names: set[str] = set()
    for path in (ROOT / "airflow_provider_cascade").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    names -= set(sys.stdlib_module_names) | {"airflow", "airflow_provider_cascade", "__future__"}
    found = importlib.metadata.packages_distributions()
    return {d.lower() for n in names for d in found.get(n, [n])}


def test_install_names_what_the_package_imports_and_nothing_else() -> None:
    section = _section("index.md", "Install")
    known = {d.lower() for ds in importlib.metadata.packages_distributions().values() for d in ds}
    named = {w.lower() for w in re.findall(r"`([\w.-]+)`", section)} & known
    named -= {"apache-airflow-providers-common-compat"}  # how Airflow itself is imported
    assert named == _imported_distributions()


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@pytest.mark.parametrize("page", FILES, ids=[f.name for f in FILES])
def test_links_point_at_pages_and_headings_that_exist(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    broken = []
    for target, anchor in re.findall(r"\]\(([^)#\s]*)(?:#([^)\s]*))?\)", text):
        if "://" in target or target.startswith("mailto:"):
            continue
        linked = (page.parent / target) if target else page
        if not linked.exists():
            broken.append(target)
        elif anchor and linked.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", linked.read_text(encoding="utf-8"), re.M)
            if anchor not in {_slug(h) for h in headings}:
                broken.append(f"{target}#{anchor}")
    assert broken == [], f"{page.name}: broken links {broken}"


def test_the_readme_lists_every_page() -> None:
    listed = set(re.findall(r"\]\(docs/([\w-]+\.md)\)", (ROOT / "README.md").read_text()))
    assert listed == {f.name for f in (ROOT / "docs").glob("*.md")}
