"""Example 1: a notification. One message, Viber first and SMS if Viber does not deliver,
to a few phones; the deferrable sensor waits for delivery and pushes prices to XCom."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_cascade.operators.cascade import CascadeSendMessageOperator
from airflow_provider_cascade.sensors.cascade import CascadeMessageStateSensor

# A manual run (schedule=None) may have no logical date, and then no {{ ds }}: fall back to
# the time the run was due (`dag_run.run_after`).
TEXT = "Nightly load {{ (dag_run.logical_date or dag_run.run_after) | ds }} finished"

with DAG(
    dag_id="example_cascade_notification",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "cascade"],
) as dag:
    notify = CascadeSendMessageOperator(
        task_id="notify",
        channels=[
            {"channel": "viber", "sender": "DataTeam", "text": TEXT},
            {"channel": "sms", "sender": "DataTeam", "text": TEXT},
        ],
        phones=["79000000001", "79000000005"],
    )
    CascadeMessageStateSensor(
        task_id="wait_for_delivery",
        id_messages=notify.output,
        deferrable=True,
        # no poke_interval: ask as often as the gateway allows (once a minute on a real
        # account; the emulator's clock and window are scaled, so the demo is quick)
        timeout=2 * 3600,  # a Viber validity of 60 minutes, then SMS
    )
