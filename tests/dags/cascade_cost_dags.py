"""DAGs for the budget cap: a send and a split over their max_cost, with retries that must not
be used."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_cascade.operators.cascade import (
    CascadeSendMessageOperator,
    CascadeSplitRecipientsOperator,
)

START = pendulum.datetime(2026, 1, 1, tz="UTC")
CHANNELS = [
    {"channel": "viber", "sender": "Shop", "text": "Sale"},
    {"channel": "sms", "sender": "Shop", "text": "Скидка 20% на всё до воскресенья"},
]
RETRIES = {"retries": 2, "retry_delay": pendulum.duration(seconds=1)}

with DAG("cascade_cost_over_budget", schedule=None, start_date=START, catchup=False,
         default_args=RETRIES) as over_budget:  # fmt: skip
    CascadeSendMessageOperator(
        task_id="send", channels=CHANNELS, phones=[f"7953000{i:04d}" for i in range(40)],
        prices={"viber": "1.20", "sms": "2.80"}, max_cost="100",
    )  # fmt: skip

with DAG("cascade_cost_split_over_budget", schedule=None, start_date=START, catchup=False,
         default_args=RETRIES) as split_over_budget:  # fmt: skip
    CascadeSplitRecipientsOperator(
        task_id="split", recipients_file="{{ dag_run.conf['recipients'] }}", shards=3,
        destination="{{ dag_run.conf['destination'] }}", channels=CHANNELS,
        prices={"viber": "1.20", "sms": "2.80"}, max_cost="100",
    )  # fmt: skip
