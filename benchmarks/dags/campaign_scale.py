"""The campaign the scale benchmark runs: a CSV of phones sent through the ledger, a
deferrable wait on the ledger reference, the report in XCom."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_cascade.operators.cascade import CascadeSendMessageOperator
from airflow_provider_cascade.sensors.cascade import CascadeMessageStateSensor

with DAG(
    "cascade_campaign_scale",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
) as dag:
    sent = CascadeSendMessageOperator(
        task_id="send",
        channels=[
            {"channel": "viber", "sender": "Shop", "text": "Ваш заказ готов"},
            {"channel": "sms", "sender": "Shop", "text": "Заказ готов"},
        ],
        recipients_file="{{ dag_run.conf['recipients'] }}",
    )
    CascadeMessageStateSensor(
        task_id="wait", id_messages=sent.output, deferrable=True, poke_interval=0,
        timeout=6 * 3600,
    )  # fmt: skip

with DAG(
    "cascade_campaign_scale_cost",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
) as cost_dag:
    # the same campaign with the cost and timing steps on: a suppression file, a send window
    # in each recipient's zone (a timezone column), prices and a cap it stays under
    sent = CascadeSendMessageOperator(
        task_id="send",
        channels=[
            {"channel": "viber", "sender": "Shop", "text": "Ваш заказ готов"},
            {"channel": "sms", "sender": "Shop", "text": "Заказ готов"},
        ],
        recipients_file="{{ dag_run.conf['recipients'] }}",
        suppress_file="{{ dag_run.conf['suppress'] }}",
        send_window=("00:00", "23:59"),
        prices={"viber": "1.10", "sms": "2.50"},
        max_cost="10000000",
    )
    CascadeMessageStateSensor(
        task_id="wait", id_messages=sent.output, deferrable=True, poke_interval=0,
        timeout=6 * 3600,
    )  # fmt: skip
