"""The Airflow plugin: a Campaigns entry in the navigation, a tab on DAG runs and task
instances, and the pages behind them. Active on Airflow 3.1+; on 3.0 (no UI plugins) and with
``[cascade] campaigns_ui = False`` it adds nothing."""

from __future__ import annotations

from typing import Any

from airflow.providers.common.compat.sdk import AirflowPlugin

from ._gate import URL_PREFIX, ui_base, ui_enabled


class LazyApp:
    """The pages' ASGI app, built at its first request: every Airflow process loads plugins
    (task workers too), only the api-server serves them, and the web stack costs seconds to
    import."""

    def __init__(self) -> None:
        self._app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._app is None:
            from .app import create_app

            self._app = create_app()
        await self._app(scope, receive, send)

    def __repr__(self) -> str:
        return "airflow_provider_cascade.ui.app:create_app"


def _views(base: str) -> list[dict[str, Any]]:
    page = f"{base}{URL_PREFIX}"
    return [
        {"name": "Campaigns", "href": f"{page}/campaigns", "destination": "nav",
         "url_route": "cascade_campaigns", "category": "browse"},
        {"name": "Cascade", "href": f"{page}/run?dag_id={{DAG_ID}}&run_id={{RUN_ID}}",
         "destination": "dag_run", "url_route": "cascade_run"},
        {"name": "Cascade", "href": f"{page}/task-instance?dag_id={{DAG_ID}}&run_id={{RUN_ID}}"
                                    "&task_id={TASK_ID}&map_index={MAP_INDEX}",
         "destination": "task_instance", "url_route": "cascade_task"},
    ]  # fmt: skip


class CascadePlugin(AirflowPlugin):
    """Cascade campaigns in the Airflow UI."""

    name = "cascade"
    if ui_enabled():
        fastapi_apps = [{"app": LazyApp(), "url_prefix": URL_PREFIX, "name": "Cascade campaigns"}]
        external_views = _views(ui_base())
