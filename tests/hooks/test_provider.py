"""What Airflow reads about the provider: provider info, the connection form on every release."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import airflow
import jsonschema

import airflow_provider_cascade
from airflow_provider_cascade.hooks.cascade import CascadeHook
from airflow_provider_cascade.hooks.connection import base_url
from airflow_provider_cascade.provider_info import get_provider_info

AIRFLOW_DIR = Path(airflow.__file__).parent


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
    airflow_bin = Path(sys.executable).parent / "airflow"
    out = subprocess.run([str(airflow_bin), "providers", "list"], capture_output=True, text=True,
                         timeout=300, check=True)  # fmt: skip
    assert "airflow-provider-cascade" in out.stdout


# -- provider info ------------------------------------------------------------------------


def test_provider_info_is_valid_for_airflow() -> None:
    schema = json.loads((AIRFLOW_DIR / "provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)


def _listed_modules(info: dict[str, Any], section: str) -> list[str]:
    return [m for entry in info.get(section, []) for m in entry["python-modules"]]


def _import(path: str) -> Any:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_every_listed_path_imports() -> None:
    info = get_provider_info()
    integrations = {i["integration-name"] for i in info["integrations"]}
    for section in ("hooks", "operators", "sensors", "triggers"):
        assert info[section], section
        for entry in info[section]:
            assert entry["integration-name"] in integrations, (section, entry)
            for module in entry["python-modules"]:
                importlib.import_module(module)
    for path in info["notifications"]:
        assert inspect.isclass(_import(path)), path
    for conn_type in info["connection-types"]:
        hook = _import(conn_type["hook-class-name"])
        assert hook.conn_type == conn_type["connection-type"]
        assert hook.hook_name == conn_type["hook-name"]


def _public_classes(base: type) -> set[str]:
    """Every public subclass of ``base`` defined in the package (deprecated shims excluded)."""
    found = set()
    for mod in pkgutil.walk_packages(
        airflow_provider_cascade.__path__, "airflow_provider_cascade."
    ):
        if ".testing" in mod.name or any(p.startswith("_") for p in mod.name.split(".")[1:]):
            continue
        with warnings.catch_warnings():  # the deprecated shims re-export, never define
            warnings.simplefilter("ignore", DeprecationWarning)
            module = importlib.import_module(mod.name)
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, base)
                and obj.__module__ == mod.name
                and not name.startswith("_")
            ):
                found.add(f"{obj.__module__}.{name}")
    return found


def test_every_public_operator_sensor_trigger_notifier_is_listed() -> None:
    from airflow.providers.common.compat.sdk import BaseNotifier, BaseOperator, BaseSensorOperator
    from airflow.triggers.base import BaseTrigger

    info = get_provider_info()
    operators = _public_classes(BaseOperator) - _public_classes(BaseSensorOperator)
    sensors = _public_classes(BaseSensorOperator)
    triggers = _public_classes(BaseTrigger)
    notifiers = _public_classes(BaseNotifier)
    assert operators and sensors and triggers and notifiers
    for classes, section in (
        (operators, "operators"),
        (sensors, "sensors"),
        (triggers, "triggers"),
    ):
        listed = _listed_modules(info, section)
        assert {c.rsplit(".", 1)[0] for c in classes} == set(listed), section
    assert notifiers == set(info["notifications"])


# -- the connection form: declared (3.2+) and widgets (3.0/3.1) ------------------------------


def test_field_behaviour_is_valid_for_airflow_3_0_and_3_1() -> None:
    """3.0/3.1 validate ``get_ui_field_behaviour()`` against this schema (snake_case keys)
    and drop the whole behaviour if it does not match."""
    schema = json.loads((AIRFLOW_DIR / "customized_form_field_behaviours.schema.json").read_text())
    behaviour = CascadeHook.get_ui_field_behaviour()
    jsonschema.validate(behaviour, schema)
    (conn_type,) = get_provider_info()["connection-types"]
    declared = conn_type["ui-field-behaviour"]
    assert behaviour["hidden_fields"] == declared["hidden-fields"]
    assert behaviour["relabeling"] == declared["relabeling"]
    assert behaviour["placeholders"] == declared["placeholders"]


def _as_declared(unbound: Any) -> dict[str, Any]:
    """A WTForms field read the way Airflow 3.0/3.1 turn it into the UI's form (their
    ``HookMetaService``): field class -> JSON type and format, ``any_of`` -> enum."""
    from wtforms import BooleanField, IntegerField, PasswordField, StringField
    from wtforms.validators import AnyOf

    kinds: dict[type, dict[str, Any]] = {
        StringField: {"type": ["string", "null"]},
        PasswordField: {"type": ["string", "null"], "format": "password"},
        IntegerField: {"type": ["integer", "null"]},
        BooleanField: {"type": ["boolean", "null"]},
    }
    assert unbound.field_class in kinds, f"Airflow 3.0/3.1 refuse {unbound.field_class}"
    kw = unbound.kwargs
    schema = dict(kinds[unbound.field_class])
    for validator in kw.get("validators", []):
        if isinstance(validator, AnyOf):
            schema["enum"] = list(validator.values)
    if kw.get("default") is not None:
        schema["default"] = kw["default"]
    out: dict[str, Any] = {"label": kw["label"], "schema": schema}
    if kw.get("description"):
        out["description"] = kw["description"]
    return out


def test_widget_form_describes_the_declared_fields() -> None:
    (conn_type,) = get_provider_info()["connection-types"]
    declared = conn_type["conn-fields"]
    widgets = CascadeHook.get_connection_form_widgets()
    assert list(widgets) == list(declared)
    for name, unbound in widgets.items():
        assert _as_declared(unbound) == declared[name], name
    token, protocol = widgets["token"], widgets["protocol"]
    assert token.field_class.__name__ == "PasswordField"  # rendered as a secret, masked
    assert protocol.kwargs["default"] == "json"
