"""The compatibility matrix, on demand: the wheel next to each supported Airflow release.

For each cell (Airflow release x Python) it makes a fresh virtualenv, installs the freshly
built wheel and ``apache-airflow==X`` (plus what a release needs to run today, see PINS),
and runs the smoke tier:

  imports   the provider's modules import (hooks, operators, sensors, triggers, notifications,
            the UI plugin: its pages on 3.1+, nothing on 3.0)
  providers ``airflow providers list`` shows the provider, ``airflow providers hooks`` the
            ``cascade`` connection type
  form      the connection form the release's UI gets (its ``HookMetaService``, what
            ``GET /ui/connections/hook_meta`` serves): relabelled standard fields and every
            declared extra field with the same label, type, format, choices and default
  connect   ``airflow db migrate``; ``airflow connections add --conn-type cascade`` stores a
            ``cascade`` connection in the metadata database (not ``generic``)
  dag       ``airflow dags test example_cascade_notification`` against the emulator, with that
            database connection: the run succeeds and the sensor's deferred wait polls from
            the trigger

and writes the table to docs/compatibility.md. It takes minutes per cell; it is not part of
the default test command. Usage (from the repository root)::

    .venv/bin/python scripts/compat.py                 # every cell, then docs/compatibility.md
    .venv/bin/python scripts/compat.py --only 3.3.2    # cells whose Airflow or Python match
    .venv/bin/python scripts/compat.py --keep          # keep the cells' venvs under dist/compat

Interpreters come from ~/.pyenv/versions (uv cannot download them here); packages are
installed with ``uv pip`` (pip-compatible, a minute faster per cell than pip).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the emulator runs in this process, from the checkout

from airflow_provider_cascade.testing.emulator import CascadeEmulator  # noqa: E402

UV = ROOT / ".tools" / "bin" / "uv"
PYENV = Path.home() / ".pyenv" / "versions"
BUILD = ROOT / "dist" / "compat"  # dist/ is git-ignored
DOC = ROOT / "docs" / "compatibility.md"
DAG_ID = "example_cascade_notification"

# The newest patch release of each supported minor line, and the Pythons each is tried on.
RELEASES: dict[str, list[str]] = {
    "3.0.6": ["3.10", "3.11", "3.12", "3.13"],
    "3.1.8": ["3.10", "3.11", "3.12", "3.13"],
    "3.2.2": ["3.10", "3.11", "3.12", "3.13"],
    "3.3.2": ["3.10", "3.11", "3.12", "3.13"],
}
# What a release needs today where its own dependency ranges let in a newer, breaking
# release. Users install Airflow with its constraints file, which pins the same; that file is
# not reachable from here, so 3.0.6 gets the packages as they were a week after its release
# (uv's --exclude-newer; common-compat excepted: the provider needs a newer one).
PINS: dict[str, list[str]] = {
    "3.2.2": ["fastapi==0.136.3", "cadwyn==7.0.0", "svcs==25.1.0"],
}
AS_OF: dict[str, str] = {
    "3.0.6": "2025-09-05T00:00:00Z",  # released 2025-08-29; fastapi 0.162 breaks its task API
}
# Releases whose UI builds the extra fields from the hook's WTForms widgets; WTForms comes
# with the FAB provider and is installed here so the form can be checked.
WIDGET_FORM = ("3.0.", "3.1.")

IMPORTS = """
import airflow_provider_cascade.hooks.cascade
import airflow_provider_cascade.notifications.cascade
import airflow_provider_cascade.operators.cascade
import airflow_provider_cascade.sensors.cascade
import airflow_provider_cascade.triggers.cascade
# the campaigns UI: present on 3.1+, with the auth names its app imports; absent on 3.0
import airflow_provider_cascade.ui.plugin as ui_plugin
from airflow_provider_cascade.ui._gate import ui_available
assert bool(ui_plugin.CascadePlugin.fastapi_apps) == ui_available()
if ui_available():
    from airflow_provider_cascade.ui.app import create_app
    create_app()
print("ok")
"""

FORM = """
import json
from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService
from airflow_provider_cascade.provider_info import CONN_FIELDS, UI_FIELD_BEHAVIOUR

(meta,) = [m for m in HookMetaService.hook_meta_data() if m.connection_type == "cascade"]
meta = meta.model_dump()
problems = []
standard = meta["standard_fields"] or {}
for name, title in UI_FIELD_BEHAVIOUR["relabeling"].items():
    got = (standard.get(name) or {}).get("title")
    if got != title:
        problems.append(f"standard field {name}: title {got!r}, want {title!r}")
for name in UI_FIELD_BEHAVIOUR["hidden-fields"]:
    key = "url_schema" if name == "schema" else name
    if not (standard.get(key) or {}).get("hidden"):
        problems.append(f"standard field {name} is not hidden")
extra = meta["extra_fields"] or {}
if list(extra) != list(CONN_FIELDS):
    problems.append(f"extra fields {list(extra)}, want {list(CONN_FIELDS)}")
for name, declared in CONN_FIELDS.items():
    got = extra.get(name) or {}
    schema = got.get("schema") or {}
    want = declared["schema"]
    checks = {
        "title": (schema.get("title"), declared["label"]),
        "type": (schema.get("type"), want["type"]),
        "format": (schema.get("format"), want.get("format")),
        "enum": (schema.get("enum"), want.get("enum")),
        "default": (got.get("value"), want.get("default")),
    }
    for what, (have, expected) in checks.items():
        if have != expected:
            problems.append(f"extra field {name}: {what} {have!r}, want {expected!r}")
print(json.dumps({"problems": problems, "fields": list(extra)}))
"""


@dataclass
class Step:
    name: str
    ok: bool
    seconds: float
    detail: str = ""


@dataclass
class Cell:
    airflow: str
    python: str
    status: str = "pending"  # green, red, refused
    steps: list[Step] = field(default_factory=list)
    note: str = ""

    @property
    def name(self) -> str:
        return f"airflow{self.airflow}-py{self.python}"


def interpreter(python: str) -> Path | None:
    found = sorted(PYENV.glob(f"{python}.*/bin/python{python}"))
    return found[-1] if found else None


def run(
    cmd: list[str], env: dict[str, str], timeout: float, cwd: Path | None = None
) -> tuple[int, str]:
    try:
        proc = subprocess.run(
            cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else ""
        return -1, f"timed out after {timeout:.0f} s\n{out[-3000:]}"
    return proc.returncode, proc.stdout + proc.stderr


def build_wheel() -> Path:
    out = BUILD / "dist"
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run(
        [str(UV), "build", "--wheel", "--out-dir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("*.whl")
    return wheel


def run_cell(cell: Cell, wheel: Path, keep: bool) -> None:
    python = interpreter(cell.python)
    if python is None:
        cell.status, cell.note = "skipped", f"no Python {cell.python} under {PYENV}"
        return
    where = BUILD / cell.name
    shutil.rmtree(where, ignore_errors=True)
    venv, home, dags = where / "venv", where / "home", where / "dags"
    dags.mkdir(parents=True)
    for file in (ROOT / "example_dags").iterdir():
        if file.is_file():
            shutil.copy(file, dags / file.name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "VIRTUAL_ENV"))}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    bin_ = venv / "bin"

    def step(name: str, cmd: list[str], timeout: float = 600, check: Any = None) -> bool:
        started = time.monotonic()
        code, out = run(cmd, env, timeout, cwd=where)
        ok, detail = code == 0, ""
        if ok and check is not None:
            try:
                ok, detail = check(out)
            except Exception as exc:  # an unexpected output is a failed step, not a crash
                ok, detail = False, f"{type(exc).__name__}: {exc}: {out.strip()[-1000:]}"
        if not ok and not detail:
            detail = f"exit {code}: " + out.strip()[-1500:]
        cell.steps.append(Step(name, ok, time.monotonic() - started, detail))
        print(
            f"  {cell.name} {name}: {'ok' if ok else 'FAILED'} ({time.monotonic() - started:.0f} s)"
            + ("" if ok else f"\n    {detail[-800:]}"),
            flush=True,
        )
        return ok

    subprocess.run([str(UV), "venv", "-q", "--python", str(python), str(venv)], check=True, env=env)
    packages = [str(wheel), f"apache-airflow=={cell.airflow}", *PINS.get(cell.airflow, [])]
    if cell.airflow.startswith(WIDGET_FORM):
        packages.append("wtforms")
    started = time.monotonic()
    options = []
    if cell.airflow in AS_OF:
        options = [
            "--exclude-newer",
            AS_OF[cell.airflow],
            "--exclude-newer-package",
            "apache-airflow-providers-common-compat=2100-01-01T00:00:00Z",
        ]
    code, out = run(
        [
            str(UV),
            "pip",
            "install",
            "--python",
            str(bin_ / "python"),
            "--compile-bytecode",
            *options,
            *packages,
        ],
        env,
        900,
    )
    if code != 0:
        refused = any(s in out for s in ("No solution found", "unsatisfiable", "Requires-Python"))
        cell.status = "refused" if refused else "red"
        cell.note = _first_reason(out)
        cell.steps.append(Step("install", False, time.monotonic() - started, out.strip()[-1500:]))
        print(f"  {cell.name} install: {cell.status}: {cell.note}", flush=True)
        return
    # uv installs a release on a Python its Requires-Python excludes; pip refuses it.
    refusal = _requires_python_refusal(bin_ / "python")
    if refusal:
        cell.status, cell.note = "refused", refusal
        cell.steps.append(Step("install", False, time.monotonic() - started, refusal))
        print(f"  {cell.name} install: refused: {refusal}", flush=True)
        shutil.rmtree(venv, ignore_errors=True)
        return
    cell.steps.append(Step("install", True, time.monotonic() - started))
    print(f"  {cell.name} install: ok ({time.monotonic() - started:.0f} s)", flush=True)

    ok = step("imports", [str(bin_ / "python"), "-c", IMPORTS])
    ok &= step(
        "providers",
        [str(bin_ / "airflow"), "providers", "list", "-o", "json"],
        check=lambda out: _has(out, "airflow-provider-cascade"),
    )
    ok &= step(
        "hooks",
        [str(bin_ / "airflow"), "providers", "hooks", "-o", "json"],
        check=lambda out: _has(out, "airflow_provider_cascade.hooks.cascade.CascadeHook"),
    )
    ok &= step("form", [str(bin_ / "python"), "-c", FORM], check=_form_ok)
    ok &= step("db migrate", [str(bin_ / "airflow"), "db", "migrate"])
    with CascadeEmulator(time_scale=600, repeat_window=0) as gw:  # Viber's hour in 6 s
        port = gw.url.rsplit(":", 1)[1]
        ok &= step(
            "connections add",
            [
                str(bin_ / "airflow"),
                "connections",
                "add",
                "cascade_default",
                "--conn-type",
                "cascade",
                "--conn-host",
                "http://127.0.0.1",
                "--conn-port",
                port,
                "--conn-login",
                gw.login,
                "--conn-password",
                gw.password,
                "--conn-extra",
                json.dumps({"protocol": "json"}),
            ],
        )
        ok &= step(
            "connection type",
            [str(bin_ / "airflow"), "connections", "get", "cascade_default", "-o", "json"],
            check=_conn_type_ok,
        )

        def dag_ok(out: str) -> tuple[bool, str]:
            finished = re.findall(r"DagRun Finished: .*?state=(\w+)", out)
            if finished != ["success"]:
                return False, f"run state {finished or 'unknown'}: " + out.strip()[-1500:]
            polls = gw.counters["state_queries"]
            if polls < 2:
                return False, f"{polls} status queries: the sensor did not wait in the trigger"
            return True, f"{polls} status queries, {gw.counters['recipients_accepted']} accepted"

        ok &= step("dags test", [str(bin_ / "airflow"), "dags", "test", DAG_ID], check=dag_ok)
    cell.status = "green" if ok else "red"
    if not keep:
        shutil.rmtree(venv, ignore_errors=True)


REQUIRES_PYTHON = """
import importlib.metadata as m, platform
for dist in ("apache-airflow-core", "apache-airflow-task-sdk", "airflow-provider-cascade"):
    print(dist, platform.python_version(), m.metadata(dist).get("Requires-Python") or "")
"""


def _requires_python_refusal(python: Path) -> str:
    """The first installed distribution whose Requires-Python excludes this interpreter."""
    from packaging.specifiers import SpecifierSet

    out = subprocess.run([str(python), "-c", REQUIRES_PYTHON], capture_output=True, text=True)
    for line in out.stdout.splitlines():
        dist, version, spec = [*line.split(" ", 2), ""][:3]
        if spec and version not in SpecifierSet(spec):
            return f"{dist} requires Python {spec}; pip refuses to install it on {version}"
    return ""


def _has(out: str, text: str) -> tuple[bool, str]:
    if text in out:
        return True, ""
    return False, f"{text!r} not in the output: {out.strip()[-800:]}"


def _form_ok(out: str) -> tuple[bool, str]:
    (line,) = [x for x in out.splitlines() if x.startswith('{"problems"')]  # logs go to stderr
    last = json.loads(line)
    if last["problems"]:
        return False, "; ".join(last["problems"])
    return True, f"extra fields: {', '.join(last['fields'])}"


def _conn_type_ok(out: str) -> tuple[bool, str]:
    match = re.search(r'"conn_type":\s*"(\w+)"', out)
    got = match.group(1) if match else None
    return (got == "cascade", f"stored conn_type {got!r}")


def _first_reason(out: str) -> str:
    for line in out.splitlines():
        line = line.strip(" ╰─▶")
        if "requires" in line.lower() or ("python" in line.lower() and "version" in line.lower()):
            return line[:300]
    return out.strip().splitlines()[-1][:300] if out.strip() else "install failed"


def _commit() -> str:
    out = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True
    )
    return out.stdout.strip() or "unknown"


def write_doc(cells: list[Cell], started: datetime, commit: str) -> None:
    pythons = sorted({c.python for c in cells}, key=lambda v: tuple(map(int, v.split("."))))
    marks = {"green": "✅", "red": "❌", "refused": "⛔", "skipped": "–", "pending": "?"}
    by_key = {(c.airflow, c.python): c for c in cells}
    lines = [
        "# Compatibility",
        "",
        "Generated by `scripts/compat.py` (run on demand: `.venv/bin/python scripts/compat.py`;",
        "minutes per cell). Each cell is a fresh virtualenv with the wheel built from this",
        "checkout and `apache-airflow==X` installed with `uv pip`, then the smoke tier: the",
        "provider's modules import; `airflow providers list` / `providers hooks` show the",
        "provider and the `cascade` connection type; the connection form the release's UI gets",
        "matches the declared fields; `airflow connections add --conn-type cascade` stores a",
        "`cascade` connection in the metadata database; `airflow dags test",
        "example_cascade_notification` succeeds against the emulator with that connection, the",
        "sensor's wait deferred to the trigger.",
        "",
        f"Last run: {started:%Y-%m-%d %H:%M} UTC, commit {commit}, on {platform.system()} "
        f"{platform.machine()}; the newest patch release of each line.",
        "",
        "| Airflow | " + " | ".join(f"Python {p}" for p in pythons) + " |",
        "|---|" + "---|" * len(pythons),
    ]
    for release in RELEASES:
        row = [f"{release[: release.rindex('.')]}.x ({release})"]
        for p in pythons:
            cell = by_key.get((release, p))
            row.append(marks[cell.status] if cell else "")
        lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        "✅ every smoke step passed · ❌ a step failed · ⛔ refused at install: the release",
        "declares it does not support that Python (its Requires-Python), so pip will not install",
        "it · – not run here.",
        "",
        "Release-specific notes:",
        "",
        "- Install Airflow with its constraints file, as Airflow's docs say. Without it, today's",
        "  newest dependencies break Airflow itself on some releases (not the provider): 3.2.2",
        "  needs `fastapi==0.136.3 cadwyn==7.0.0 svcs==25.1.0`; 3.0.6's task execution API",
        "  refuses every task with fastapi 0.162 / cadwyn 8. The script pins those for 3.2.2 and",
        "  installs 3.0.6 with the packages as of a week after its release (`uv pip install",
        "  --exclude-newer 2025-09-05`), common-compat excepted.",
        "- 3.0 and 3.1 build the connection form's extra fields from the hook's WTForms widgets,",
        "  which needs WTForms (the FAB provider brings it; installed in those cells). 3.2+ read",
        "  the declared `conn-fields` and need nothing extra.",
        "",
        'The provider\'s own bounds match this table: `requires-python = ">=3.10,<3.14"`,',
        "`apache-airflow>=3.0,<3.4`. Python 3.14 and Airflow 3.4 are refused at install until the",
        "matrix has run on them (this machine has no Python 3.14).",
        "",
        "## Steps per cell",
        "",
        "| Cell | Step | Result | Seconds | Detail |",
        "|---|---|---|---|---|",
    ]
    for cell in cells:
        if not cell.steps:
            lines.append(f"| {cell.name} | – | {cell.status} | | {cell.note} |")
        for s in cell.steps:
            detail = (
                (
                    s.detail
                    if (not s.ok or s.name in ("form", "dags test", "connection type"))
                    else ""
                )
                .replace("|", "\\|")
                .replace("\n", " ")[:300]
            )
            result = "ok" if s.ok else (cell.status if s.name == "install" else "failed")
            lines.append(f"| {cell.name} | {s.name} | {result} | {s.seconds:.0f} | {detail} |")
    DOC.write_text("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help="only cells whose Airflow, Python or Airflow/Python equals this "
        "(docs/compatibility.md is then left alone)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the cells' virtualenvs")
    parser.add_argument(
        "--no-doc", action="store_true", help="do not rewrite docs/compatibility.md"
    )
    args = parser.parse_args()
    started = datetime.now(timezone.utc)
    cells = [Cell(a, p) for a, pys in RELEASES.items() for p in pys]
    if args.only:
        wanted = set(args.only)
        cells = [c for c in cells if {c.airflow, c.python, f"{c.airflow}/{c.python}"} & wanted]
    BUILD.mkdir(parents=True, exist_ok=True)
    commit = _commit()  # what the wheel is built from
    wheel = build_wheel()
    print(f"wheel: {wheel.name}; {len(cells)} cells", flush=True)
    for cell in cells:
        print(f"{cell.name}", flush=True)
        try:
            run_cell(cell, wheel, args.keep)
        except Exception as exc:  # one broken cell must not lose the others' results
            cell.status, cell.note = "red", f"{type(exc).__name__}: {exc}"
        (BUILD / "results.json").write_text(
            json.dumps(
                [{**c.__dict__, "steps": [s.__dict__ for s in c.steps]} for c in cells], indent=1
            )
        )
    if not args.no_doc and not args.only:
        write_doc(cells, started, commit)
    for cell in cells:
        print(f"{cell.name}: {cell.status} {cell.note}")
    return 0 if all(c.status in ("green", "refused", "skipped") for c in cells) else 1


if __name__ == "__main__":
    sys.exit(main())
