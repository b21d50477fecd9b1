"""Example 5: know the cost before sending. A dry run checks the campaign, counts recipients
by message and by send window and estimates its cost; a person approves the estimate in
Airflow's UI (``ApprovalOperator``, Airflow 3.1+); only then does the send go out, in each
recipient's waking hours, without the suppressed phones, and never over ``max_cost``.

Prices here are given on the task; on a real account put them in the connection extra
``prices``, or let the sensor learn them from earlier campaigns (docs/cost-and-timing.md)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_cascade.operators.cascade import CascadeSendMessageOperator
from airflow_provider_cascade.sensors.cascade import CascadeMessageStateSensor

try:  # Airflow 3.1+: human in the loop
    from airflow.providers.standard.operators.hitl import ApprovalOperator
except ImportError:  # Airflow 3.0: the send still stops at max_cost
    ApprovalOperator = None

FOLDER = Path(__file__).parent
CAMPAIGN = {
    "channels": [
        {"channel": "viber", "sender": "Shop", "text": "Ваш заказ готов к выдаче"},
        {"channel": "sms", "sender": "Shop", "text": "Ваш заказ готов к выдаче"},
    ],
    "recipients_file": "{{ params.recipients_file }}",
    "suppress_file": "{{ params.suppress_file }}",
    "send_window": ("09:00", "21:00"),
    "prices": {"viber": "1.10", "sms": "2.50"},
    "max_cost": "1000",
}
ESTIMATE = "{{ ti.xcom_pull(task_ids='dry_run') }}"

with DAG(
    dag_id="example_cascade_approved_campaign",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "recipients_file": Param(str(FOLDER / "customers_by_zone.csv"), type="string"),
        "suppress_file": Param(str(FOLDER / "opted_out.csv"), type="string"),
    },
    tags=["example", "cascade"],
) as dag:
    dry_run = CascadeSendMessageOperator(task_id="dry_run", dry_run=True, **CAMPAIGN)
    send = CascadeSendMessageOperator(task_id="send", **CAMPAIGN)
    if ApprovalOperator is not None:
        approve = ApprovalOperator(
            task_id="approve_cost",
            subject="Send the order-ready campaign?",
            body="Estimate (worst case, first channel, expected), recipients by message and "
            "by send window, suppressed phones:\n\n" + ESTIMATE,
            response_timeout=timedelta(hours=4),  # unanswered: nothing is sent
            fail_on_reject=True,
        )
        dry_run >> approve >> send
    else:
        dry_run >> send
    CascadeMessageStateSensor(
        task_id="delivered", id_messages=send.output, deferrable=True, timeout=3600
    )
