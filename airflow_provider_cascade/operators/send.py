"""Deprecated: import from ``airflow_provider_cascade.operators.cascade``. Kept so existing DAGs and
deferred tasks serialized with this path keep working."""

from __future__ import annotations

from .._deprecation import moved
from .cascade import CascadeSendBaseOperator, CascadeSendMessageOperator

moved(__name__, "airflow_provider_cascade.operators.cascade")

__all__ = ["CascadeSendBaseOperator", "CascadeSendMessageOperator"]
