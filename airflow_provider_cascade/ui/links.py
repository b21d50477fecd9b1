"""The "Cascade campaign" extra link of the send operators and the sensor: the campaign's page
(a sensor's opens the campaigns of its run)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from airflow.providers.common.compat.sdk import BaseOperatorLink

from ._gate import URL_PREFIX, ui_base, ui_enabled


class CascadeCampaignLink(BaseOperatorLink):
    """Link to the campaign page of a task instance; none where the UI is off (Airflow 3.0)."""

    name = "Cascade campaign"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        if not ui_enabled():
            return ""
        query = {"dag_id": ti_key.dag_id, "run_id": ti_key.run_id, "task_id": ti_key.task_id,
                 "map_index": getattr(ti_key, "map_index", -1)}  # fmt: skip
        return f"{ui_base()}{URL_PREFIX}/task-instance?{urlencode(query)}"
