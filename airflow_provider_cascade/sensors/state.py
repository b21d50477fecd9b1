"""Deprecated: import from ``airflow_provider_cascade.sensors.cascade``. Kept so existing DAGs and
deferred tasks serialized with this path keep working."""

from __future__ import annotations

from .._deprecation import moved
from .cascade import CascadeMessageStateSensor

moved(__name__, "airflow_provider_cascade.sensors.cascade")

__all__ = ["CascadeMessageStateSensor"]
