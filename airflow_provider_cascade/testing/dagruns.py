"""Helpers for DAG tests: run a DAG file with ``dag.test()`` and read what it left behind."""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


def load_dag(file: str, dag_id: str) -> Any:
    """``file`` is relative to the DAG folder, or absolute."""
    path = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]) / file
    spec = importlib.util.spec_from_file_location(f"dagfile_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from airflow.sdk import DAG

    dags = [v for v in vars(module).values() if isinstance(v, DAG) and v.dag_id == dag_id]
    if not dags:
        raise LookupError(f"{path} defines no module-level DAG {dag_id!r} (bind it: `as dag`)")
    return dags[0]


def run_dag(file: str, dag_id: str, **conf: Any) -> Any:
    """Run a DAG to its end in this process, triggers inline; returns the DagRun."""
    dag = load_dag(file, dag_id)
    return dag.test(run_conf=conf or None)


def xcom(dag_run: Any, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.execute(
            select(XComModel.value).where(
                XComModel.dag_id == dag_run.dag_id,
                XComModel.run_id == dag_run.run_id,
                XComModel.task_id == task_id,
                XComModel.key == key,
                XComModel.map_index == map_index,
            )
        ).scalar_one_or_none()
    return None if row is None else XComModel.deserialize_value(_Row(row))


def task_states(dag_run: Any) -> dict[str, str]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(TaskInstance.task_id, TaskInstance.map_index, TaskInstance.state).where(
                TaskInstance.dag_id == dag_run.dag_id, TaskInstance.run_id == dag_run.run_id
            )
        ).all()
    return {f"{t}[{m}]" if m >= 0 else t: str(s) for t, m, s in rows}


class _Row:
    def __init__(self, value: Any) -> None:
        self.value = value


@contextmanager
def answering_approvals(option: str = "Approve", every: float = 0.5) -> Iterator[list[str]]:
    """While the block runs, answer every open human-in-the-loop request (Airflow 3.1+, e.g.
    ``ApprovalOperator``) with ``option``, as the REST API does for a person in the UI: the
    response recorded, a task parked for it resumed. ``dag.test()`` waits for exactly that.
    Yields the errors met (a locked database is retried)."""
    from airflow.models import import_all_models
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.trigger import handle_event_submit
    from airflow.triggers.base import TriggerEvent
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import or_, select
    from sqlalchemy.orm import configure_mappers

    # every model imported and mapped here: the thread's first query would otherwise import
    # them while the DAG run imports the same modules (a deadlock on the import locks)
    import_all_models()  # type: ignore[no-untyped-call]
    configure_mappers()
    parked = (TaskInstanceState.AWAITING_INPUT, TaskInstanceState.DEFERRED)
    errors: list[str] = []
    stop = threading.Event()

    waiting: set[Any] = set()  # answered, not yet resumed: the task may not be parked yet

    def answer() -> None:
        while not stop.wait(every):
            try:
                with create_session() as session:
                    open_or_waiting = or_(
                        HITLDetail.responded_at.is_(None), HITLDetail.ti_id.in_(waiting)
                    )
                    for detail in session.scalars(select(HITLDetail).where(open_or_waiting)):
                        if detail.responded_at is None:
                            detail.chosen_options = [option]
                            detail.params_input = {}
                            detail.responded_by = {"id": "reviewer", "name": "reviewer"}
                            detail.responded_at = datetime.now(timezone.utc)
                            waiting.add(detail.ti_id)
                        ti = session.get(TaskInstance, detail.ti_id)
                        if ti is not None and ti.state in parked:
                            event = TriggerEvent(detail.as_resume_event_payload())  # type: ignore[no-untyped-call]
                            handle_event_submit(event, task_instance=ti, session=session)
                            waiting.discard(detail.ti_id)
            except Exception as exc:  # e.g. SQLite busy: try again next time
                errors.append(repr(exc))
                if len(errors) in (1, 10, 100):
                    logging.getLogger(__name__).warning("answering approvals: %r", exc)

    worker = threading.Thread(target=answer, name="approvals", daemon=True)
    worker.start()
    try:
        yield errors
    finally:
        stop.set()
        worker.join(timeout=30)


def approval_bodies(dag_run: Any) -> list[str]:
    """The bodies of a run's human-in-the-loop requests: what the person approving read."""
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(
            select(HITLDetail.body)
            .join(TaskInstance, TaskInstance.id == HITLDetail.ti_id)
            .where(TaskInstance.dag_id == dag_run.dag_id, TaskInstance.run_id == dag_run.run_id)
        ).all()
    return [r or "" for r in rows]
