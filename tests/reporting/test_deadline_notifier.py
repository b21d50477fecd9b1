"""The failure notifier as a deadline-alert callback: awaited in the triggerer, it alerts
through the cascade without blocking the loop, once per DAG run and deadline."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_provider_cascade.notifications.cascade import CascadeNotifier
from airflow_provider_cascade.testing.emulator import CascadeEmulator
from airflow_provider_cascade.testing.pytest_plugin import FIXTURE_REPEAT_WINDOW

CONTEXT = {"dag_run": {"dag_id": "campaign", "run_id": "manual__1"}, "deadline": "18:00"}


def alert(context: dict[str, Any]) -> CascadeNotifier:
    return CascadeNotifier(phones=["79000000001"], text="campaign not final by 18:00",
                           channels=["viber", "sms"], context=context)  # fmt: skip


def test_an_awaited_notifier_alerts_once_per_run_and_deadline(
    cascade_conn: str, cascade_gateway: CascadeEmulator
) -> None:
    async def fire() -> None:
        await alert(dict(CONTEXT))

    asyncio.run(fire())
    assert cascade_gateway.accepted_per_phone() == {"79000000001": 1}
    (request,) = [r for r in cascade_gateway.requests if r.kind == "send"]
    assert "campaign not final by 18:00" in request.body.decode("utf-8")
    time.sleep(FIXTURE_REPEAT_WINDOW + 0.2)  # past the once-a-minute rule's window
    asyncio.run(fire())  # the deadline fired again for the same run: not a second alert
    assert cascade_gateway.accepted_per_phone() == {"79000000001": 1}


def test_the_notifier_builds_a_deadline_alert_callback() -> None:
    sdk = pytest.importorskip("airflow.sdk")
    if not hasattr(sdk, "DeadlineAlert"):
        pytest.skip("deadline alerts need Airflow 3.1+")
    alert_ = sdk.DeadlineAlert(
        reference=sdk.DeadlineReference.FIXED_DATETIME(datetime(2026, 1, 1, 15, tzinfo=timezone.utc)),
        interval=timedelta(0),
        callback=sdk.AsyncCallback(CascadeNotifier, kwargs={"phones": ["79000000001"],
                                                            "text": "not final by 18:00"}),
    )  # fmt: skip
    assert alert_.callback.path.endswith("CascadeNotifier")
