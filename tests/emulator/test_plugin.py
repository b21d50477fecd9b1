"""The pytest plugin is opt-in (issue 13 item 9): installing the provider does not load it
into every pytest run; ``-p`` or a ``pytest_plugins`` line does."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = "airflow_provider_cascade.testing.pytest_plugin"
TEST = """
def test_uses_the_emulator(cascade_gateway):
    assert cascade_gateway.behaviour.repeat_window == 1.0
"""


def run_pytest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, "test_x.py"],
        cwd=folder, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_no_pytest11_entry_point() -> None:
    assert [e for e in entry_points(group="pytest11") if e.value.startswith(PLUGIN)] == []
    assert "pytest11" not in (ROOT / "pyproject.toml").read_text()


def test_opt_in_with_p_or_conftest(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text(TEST)
    without = run_pytest(tmp_path)
    assert without.returncode != 0 and "fixture 'cascade_gateway' not found" in without.stdout
    with_p = run_pytest(tmp_path, "-p", PLUGIN)
    assert with_p.returncode == 0, with_p.stdout
    (tmp_path / "conftest.py").write_text(f"pytest_plugins = [{PLUGIN!r}]\n")
    assert run_pytest(tmp_path).returncode == 0


BROKEN = """
import urllib.request


def test_breaks_the_emulator(cascade_gateway, monkeypatch):
    def broken(*args):
        raise RuntimeError("planted")

    monkeypatch.setattr(cascade_gateway.gateway, "authenticate", broken)
    try:
        urllib.request.urlopen(cascade_gateway.url + "/sendmessage.php?id_message=1")
    except Exception:
        pass
"""


def test_fixture_fails_a_test_that_broke_the_emulator(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text(BROKEN)
    out = run_pytest(tmp_path, "-p", PLUGIN)
    assert out.returncode != 0
    assert "the emulator failed on this test's requests" in out.stdout and "planted" in out.stdout
