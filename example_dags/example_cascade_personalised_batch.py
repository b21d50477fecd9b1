"""Example 2: a personalised batch. An upstream task builds one message per customer
from a CSV; one task sends them all (batched by the hook); a sensor waits."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_cascade.operators.cascade import CascadeSendMessageOperator
from airflow_provider_cascade.sensors.cascade import CascadeMessageStateSensor

CUSTOMERS = Path(__file__).with_name("customers.csv")

with DAG(
    dag_id="example_cascade_personalised_batch",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "cascade"],
) as dag:

    @task
    def build_messages() -> list[dict[str, Any]]:
        """One message per customer, in the gateway's own JSON message shape."""
        with CUSTOMERS.open(encoding="utf-8") as f:
            return [
                {
                    "send_viber": 1,
                    "send_sms": 2,
                    "sender_viber": "Shop",
                    "text_viber": f"{row['name']}, заказ {row['order']} готов к выдаче",
                    "sender_sms": "Shop",
                    "text_sms": f"{row['name']}, заказ {row['order']} готов",
                    "phones": [{"phone": row["phone"]}],
                }
                for row in csv.DictReader(f)
            ]

    sent = CascadeSendMessageOperator(task_id="send_batch", messages=build_messages())
    CascadeMessageStateSensor(
        task_id="wait_for_delivery",
        id_messages=sent.output,
        # no poke_interval: ask as often as the gateway allows (once a minute on a real
        # account; the emulator's clock and window are scaled, so the demo is quick)
        timeout=2 * 3600,  # a Viber validity of 60 minutes, then SMS
    )
