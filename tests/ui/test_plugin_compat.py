"""The plugin where Airflow cannot show it: on Airflow 3.0 (no UI plugins) and when turned
off, the provider lists no plugin and the plugin class adds nothing, without error."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from types import SimpleNamespace

import airflow
import pytest

from airflow_provider_cascade import provider_info
from airflow_provider_cascade.ui import _gate, plugin
from airflow_provider_cascade.ui.links import CascadeCampaignLink

KEY = SimpleNamespace(dag_id="d", run_id="manual__2026-01-01T00:00:00+00:00", task_id="send",
                      map_index=2)  # fmt: skip


@pytest.fixture
def reloaded_plugin() -> Iterator[None]:
    yield
    importlib.reload(plugin)  # back to this Airflow's own behaviour


@pytest.mark.parametrize(("version", "shown"), [("3.0.6", False), ("3.1.0", True),
                                                 ("3.3.2", True), ("3.1.0rc1", True)])  # fmt: skip
def test_the_ui_needs_airflow_3_1(version: str, shown: bool) -> None:
    assert _gate.ui_available(version) is shown


def test_the_plugin_loads_once_from_its_entry_point() -> None:
    """Airflow loads ``airflow.plugins`` entry points by default; a provider-info listing too
    would load it a second time where lazy provider discovery is off."""
    assert _gate.plugin_entry_point_installed()
    assert "plugins" not in provider_info.get_provider_info()
    code = ("from airflow import plugins_manager; p, e = plugins_manager._get_plugins(); "
            "print([x.name for x in p].count('cascade'), sum('cascade' in str(k) + str(v) for k, v in e.items()))")  # fmt: skip
    for lazy in ("True", "False"):
        env = {**os.environ, "AIRFLOW__CORE__LAZY_DISCOVER_PROVIDERS": lazy}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, timeout=300, env=env)  # fmt: skip
        assert out.stdout.split()[-2:] == ["1", "0"], (lazy, out.stdout[-500:])


def test_without_its_entry_point_the_provider_info_lists_the_plugin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_gate, "plugin_entry_point_installed", lambda: False)
    (listed,) = provider_info.get_provider_info()["plugins"]
    assert listed == {"name": "cascade", "plugin-class": provider_info.PLUGIN_CLASS}
    module, _, name = listed["plugin-class"].rpartition(".")
    assert getattr(importlib.import_module(module), name) is plugin.CascadePlugin


def test_on_airflow_3_0_the_provider_lists_no_plugin_and_links_nowhere(
    monkeypatch: pytest.MonkeyPatch, reloaded_plugin: None
) -> None:
    monkeypatch.setattr(_gate, "plugin_entry_point_installed", lambda: False)
    monkeypatch.setattr(airflow, "__version__", "3.0.6")
    info = provider_info.get_provider_info()
    assert "plugins" not in info
    assert info["extra-links"] == ["airflow_provider_cascade.ui.links.CascadeCampaignLink"]
    importlib.reload(plugin)
    assert plugin.CascadePlugin.name == "cascade"
    assert not plugin.CascadePlugin.fastapi_apps and not plugin.CascadePlugin.external_views
    assert CascadeCampaignLink().get_link(None, ti_key=KEY) == ""


def test_turned_off_the_plugin_adds_nothing(
    monkeypatch: pytest.MonkeyPatch, reloaded_plugin: None
) -> None:
    monkeypatch.setenv("AIRFLOW__CASCADE__CAMPAIGNS_UI", "False")
    importlib.reload(plugin)
    assert not plugin.CascadePlugin.fastapi_apps and not plugin.CascadePlugin.external_views
    assert CascadeCampaignLink().get_link(None, ti_key=KEY) == ""


def test_on_airflow_3_1_it_adds_a_nav_entry_tabs_and_a_link(reloaded_plugin: None) -> None:
    importlib.reload(plugin)
    (app,) = plugin.CascadePlugin.fastapi_apps
    assert app["url_prefix"] == "/cascade"
    destinations = {v["destination"]: v["href"] for v in plugin.CascadePlugin.external_views}
    assert set(destinations) == {"nav", "dag_run", "task_instance"}
    assert "{TASK_ID}" in destinations["task_instance"] and "{RUN_ID}" in destinations["dag_run"]
    link = CascadeCampaignLink().get_link(None, ti_key=KEY)
    assert link.startswith("/cascade/task-instance?") and "map_index=2" in link


def test_loading_the_plugin_imports_no_web_stack() -> None:
    """Every Airflow process loads plugins (task workers too); only the api-server serves."""
    code = ("import sys, airflow_provider_cascade.ui.plugin as p; "
            "print(bool(p.CascadePlugin.fastapi_apps), "
            "'airflow.api_fastapi.core_api.security' in sys.modules)")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=300)  # fmt: skip
    assert out.stdout.split()[-2:] == ["True", "False"]
