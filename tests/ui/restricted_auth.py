"""Airflow's simple auth manager grants by role only (a viewer reads every DAG), so it cannot
say "this user may not read that DAG". For the test of DAG-level permission the api-server
runs this subclass: the same users, roles, passwords and tokens, and one rule more through
the auth manager's own API (``is_authorized_dag``, which ``get_authorized_dag_ids`` asks too):
users named in ``CASCADE_TEST_HIDDEN`` (``user:dag_id,...``) may not read those DAGs."""

from __future__ import annotations

import os
from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager


def _hidden() -> set[tuple[str, str]]:
    pairs = (p.split(":", 1) for p in os.environ.get("CASCADE_TEST_HIDDEN", "").split(",") if p)
    return {(user, dag) for user, dag in pairs}


class RestrictedAuthManager(SimpleAuthManager):  # type: ignore[misc]
    def is_authorized_dag(self, *, method: Any, user: Any, access_entity: Any = None,
                          details: Any = None) -> bool:  # fmt: skip
        dag_id = getattr(details, "id", None)
        if dag_id and (user.get_name(), dag_id) in _hidden():
            return False
        return bool(super().is_authorized_dag(method=method, user=user,
                                              access_entity=access_entity, details=details))  # fmt: skip
