"""Deprecated: import from ``airflow_provider_cascade.sensors.cascade`` (modules are named after
the integration, as in Airflow's own providers). Kept so existing DAGs and deferred tasks
serialized with this path keep working."""

from __future__ import annotations

import warnings

from .cascade import CascadeMessageStateSensor

warnings.warn(
    "airflow_provider_cascade.sensors.state is deprecated; import from "
    "airflow_provider_cascade.sensors.cascade",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["CascadeMessageStateSensor"]
