"""Deprecated: import from ``airflow_provider_cascade.operators.cascade`` (modules are named after
the integration, as in Airflow's own providers). Kept so existing DAGs and deferred tasks
serialized with this path keep working."""

from __future__ import annotations

import warnings

from .cascade import CascadeSendBaseOperator, CascadeSendMessageOperator

warnings.warn(
    "airflow_provider_cascade.operators.send is deprecated; import from "
    "airflow_provider_cascade.operators.cascade",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["CascadeSendBaseOperator", "CascadeSendMessageOperator"]
