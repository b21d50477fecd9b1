"""The pre-0.2 module paths still import (with a DeprecationWarning) and give the same classes."""

from __future__ import annotations

import importlib
import sys

import pytest


@pytest.mark.parametrize(
    ("old", "new", "name"),
    [
        ("operators.send", "operators.cascade", "CascadeSendMessageOperator"),
        ("operators.send", "operators.cascade", "CascadeSendBaseOperator"),
        ("sensors.state", "sensors.cascade", "CascadeMessageStateSensor"),
        ("triggers.state", "triggers.cascade", "CascadeMessageStateTrigger"),
    ],
)
def test_old_path_warns_and_aliases(old: str, new: str, name: str) -> None:
    current = importlib.import_module(f"airflow_provider_cascade.{new}")  # Airflow set up first
    sys.modules.pop(f"airflow_provider_cascade.{old}", None)
    with pytest.warns(DeprecationWarning, match=new.replace(".", r"\.")):
        legacy = importlib.import_module(f"airflow_provider_cascade.{old}")
    assert getattr(legacy, name) is getattr(current, name)
