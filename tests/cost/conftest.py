"""What the cost and timing tests share: an operator context without Airflow's database."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any


def context(pushed: dict[str, Any] | None = None, run_id: str = "r") -> dict[str, Any]:
    store = pushed if pushed is not None else {}
    ti = SimpleNamespace(dag_id="d", run_id=run_id, task_id="t", map_index=-1, try_number=1,
                         xcom_push=lambda key, value: store.__setitem__(key, value))  # fmt: skip
    return {"ti": ti}
