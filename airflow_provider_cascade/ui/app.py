"""The campaigns pages, a FastAPI app the api-server mounts at ``/cascade``. Airflow does not
protect plugin routes: every route here asks Airflow's auth manager who the user is (its own
``get_user`` dependency: the UI's token cookie or an ``Authorization: Bearer`` token) and
whether that user may read the DAG; the list shows only DAGs the user may read."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

from airflow.api_fastapi.core_api.security import get_user
from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse, JSONResponse

from ..ledger import default_root, task_folder
from ..ledger._campaigns import Campaign, CampaignSummaries, shown_url
from ..ledger._store import Ledger
from . import _render
from ._gate import ui_base

PAGE_SIZE = 50

User = Annotated[Any, Depends(get_user)]


def _auth_manager() -> Any:
    from airflow.api_fastapi.app import get_auth_manager

    return get_auth_manager()


def readable_dag_ids(user: Any) -> set[str]:
    """DAGs the user may read, as the auth manager says (the list shows no other)."""
    return set(_auth_manager().get_authorized_dag_ids(user=user, method="GET"))


def may_read_dag(user: Any, dag_id: str) -> bool:
    from airflow.api_fastapi.auth.managers.models.resource_details import (
        DagAccessEntity,
        DagDetails,
    )

    return bool(
        _auth_manager().is_authorized_dag(
            method="GET", access_entity=DagAccessEntity.RUN, details=DagDetails(id=dag_id),
            user=user,
        )
    )  # fmt: skip


def _require_dag(user: Any, dag_id: str) -> None:
    if not may_read_dag(user, dag_id):
        raise HTTPException(status_code=403, detail="Forbidden")


def _summaries() -> CampaignSummaries:
    return CampaignSummaries(default_root())


def _failed(campaigns: list[Campaign]) -> dict[tuple[str, str, str], str]:
    """Status by campaign, with Airflow's word on failed tasks (one query for the page)."""
    out = {c.key: c.status() for c in campaigns}
    if not out:
        return out
    try:
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.session import create_session
        from sqlalchemy import select

        runs = {(d, r) for d, r, _ in out}
        with create_session() as session:
            rows = session.execute(
                select(TaskInstance.dag_id, TaskInstance.run_id, TaskInstance.task_id,
                       TaskInstance.state).where(
                    TaskInstance.run_id.in_({r for _, r in runs}),
                    TaskInstance.dag_id.in_({d for d, _ in runs}),
                )
            ).all()  # fmt: skip
    except Exception:  # the page still shows what the ledger says
        return out
    for dag_id, run_id, task_id, state in rows:
        key = (dag_id, run_id, task_id)
        if key in out and str(state) in ("failed", "upstream_failed", "TaskInstanceState.FAILED"):
            out[key] = "failed"
    return out


def _day(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        raise HTTPException(status_code=400, detail=f"{name}: expected YYYY-MM-DD") from None


def _campaign_json(c: Campaign, status: str) -> dict[str, Any]:
    f = c.first
    return {
        "dag_id": f["dag_id"], "run_id": f["run_id"], "task_id": f["task_id"],
        "shards": [int(s["map_index"]) for s in c.shards], "started": c.started,
        "recipients": c.recipients, "accepted": c.total("send", "accepted"),
        "rejected": c.total("send", "rejected"), "untracked": c.total("send", "untracked"),
        "final_states": c.by_state(), "final_states_by_channel": c.by_channel_state(),
        "cost_by_channel": c.cost_by_channel(),
        "cost_total": c.cost_total(), "status": status,
    }  # fmt: skip


def create_app() -> FastAPI:
    app = FastAPI(title="Cascade campaigns", docs_url=None, redoc_url=None, openapi_url=None)

    def listing(
        user: Any, dag_id: str | None, since: str | None, until: str | None, offset: int
    ) -> tuple[Any, dict[tuple[str, str, str], str]]:
        allowed = readable_dag_ids(user)
        end = _day(until, "until")
        result = _summaries().page(
            allowed.__contains__, dag_id=dag_id or None, since=_day(since, "since"),
            until=end + timedelta(days=1) if end else None, offset=max(0, offset),
            limit=PAGE_SIZE,
        )  # fmt: skip
        return result, _failed(result.rows)

    @app.get("/", response_class=HTMLResponse)
    @app.get("/campaigns", response_class=HTMLResponse)
    def campaigns(
        user: User,
        dag_id: str | None = None,
        since: str | None = None,
        until: str | None = None,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> str:
        result, statuses = listing(user, dag_id, since, until, offset)
        return _render.campaigns_page(result, statuses, dag_id=dag_id, since=since, until=until)

    @app.get("/api/campaigns")
    def campaigns_json(
        user: User,
        dag_id: str | None = None,
        since: str | None = None,
        until: str | None = None,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> dict[str, Any]:
        result, statuses = listing(user, dag_id, since, until, offset)
        rows = [_campaign_json(c, statuses[c.key]) for c in result.rows]
        return {"campaigns": rows, "total_entries": result.matching, "offset": result.offset}

    def of_run(dag_id: str, run_id: str, task_id: str | None, empty: str) -> str:
        found = _summaries().of_run(dag_id, run_id, task_id)
        if not found and task_id is not None:  # a sensor's tab: the run's campaigns
            found = _summaries().of_run(dag_id, run_id)
        statuses = _failed(found)
        pairs = [(c, statuses[c.key]) for c in found]
        return _render.campaigns_of_run_page(pairs, ui_base(), empty)

    @app.get("/campaign", response_class=HTMLResponse)
    def campaign(user: User, dag_id: str, run_id: str, task_id: str | None = None) -> str:
        _require_dag(user, dag_id)
        return of_run(dag_id, run_id, task_id, "No Cascade campaign here.")

    @app.get("/run", response_class=HTMLResponse)
    def run(user: User, dag_id: str, run_id: str) -> str:
        _require_dag(user, dag_id)
        return of_run(dag_id, run_id, None, "No Cascade campaign in this run.")

    @app.get("/task-instance", response_class=HTMLResponse)
    def task_instance(
        user: User, dag_id: str, run_id: str, task_id: str, map_index: int = -1
    ) -> str:
        _require_dag(user, dag_id)
        return of_run(dag_id, run_id, task_id, "No Cascade campaign in this run.")

    @app.get("/report")
    def report(user: User, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> Any:
        """The ledger's own ``summary.json`` of one send, phones shown by the masking rule."""
        _require_dag(user, dag_id)
        found = [s for c in _summaries().of_run(dag_id, run_id, task_id) for s in c.shards
                 if int(s["map_index"]) == map_index]  # fmt: skip
        if not found:
            raise HTTPException(status_code=404, detail="no such campaign")
        ledger = Ledger(task_folder(default_root(), dag_id, run_id, task_id, map_index))
        data = ledger.read_json("summary.json")
        if not isinstance(data, dict):
            raise HTTPException(status_code=404, detail="no report yet")
        masked = Campaign(found).masked
        for key in ("untracked_sample", "first_errors"):
            data[key] = [_render._sample_phone(str(v), masked) for v in data.get(key) or []]
        data["ledger"] = shown_url(ledger.url)
        return JSONResponse(data)

    return app
