"""Deprecated: import from ``airflow_provider_cascade.triggers.cascade`` (modules are named after
the integration, as in Airflow's own providers). Kept so existing DAGs and deferred tasks
serialized with this path keep working."""

from __future__ import annotations

import warnings

from .cascade import CascadeMessageStateTrigger

warnings.warn(
    "airflow_provider_cascade.triggers.state is deprecated; import from "
    "airflow_provider_cascade.triggers.cascade",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["CascadeMessageStateTrigger"]
