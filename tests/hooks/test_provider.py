from __future__ import annotations

import subprocess
from pathlib import Path

from airflow_provider_cascade.hooks.connection import base_url
from airflow_provider_cascade.provider_info import get_provider_info


def test_form_declares_token_secret_and_protocol_choice() -> None:
    (conn_type,) = get_provider_info()["connection-types"]
    fields = conn_type["conn-fields"]
    assert fields["token"]["schema"]["format"] == "password"
    assert fields["protocol"]["schema"]["enum"] == ["json", "xml", "get"]
    assert conn_type["ui-field-behaviour"]["relabeling"]["host"] == "Gateway URL"
    assert "port" not in conn_type["ui-field-behaviour"]["hidden-fields"]


def test_base_url_forms() -> None:
    assert base_url("gw.example", None) == "https://gw.example"
    assert base_url("https://gw.example/api/", None) == "https://gw.example/api"
    assert base_url("http://127.0.0.1", 8080) == "http://127.0.0.1:8080"
    assert base_url("http://127.0.0.1:9/x", 8080) == "http://127.0.0.1:9/x"


def test_airflow_lists_the_provider() -> None:
    airflow = Path(__file__).parents[2] / ".venv" / "bin" / "airflow"
    out = subprocess.run([str(airflow), "providers", "list"], capture_output=True, text=True,
                         timeout=300, check=True)  # fmt: skip
    assert "airflow-provider-cascade" in out.stdout


def test_widget_fallback_matches_the_declared_form() -> None:
    from airflow_provider_cascade.hooks.cascade import CascadeHook

    (conn_type,) = get_provider_info()["connection-types"]
    assert CascadeHook.get_ui_field_behaviour() == conn_type["ui-field-behaviour"]
    assert conn_type["hook-class-name"].endswith(CascadeHook.__name__)
    assert conn_type["connection-type"] == CascadeHook.conn_type
