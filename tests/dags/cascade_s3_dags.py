"""A campaign whose recipients file and ledger are in object storage (the S3 tier gives both
URLs in the run's conf): a send that a retry resumes, and a sensor that waits in the
triggerer."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_cascade.operators.cascade import CascadeSendMessageOperator
from airflow_provider_cascade.sensors.cascade import CascadeMessageStateSensor

START = pendulum.datetime(2026, 1, 1, tz="UTC")
CHANNELS = [
    {"channel": "viber", "sender": "Shop", "text": "Sale"},
    {"channel": "sms", "sender": "Shop", "text": "Sale"},
]

with DAG(
    "cascade_s3_campaign", schedule=None, start_date=START, catchup=False,
    default_args={"retries": 2, "retry_delay": pendulum.duration(seconds=1)},
) as campaign:  # fmt: skip
    sent = CascadeSendMessageOperator(
        task_id="send", channels=CHANNELS,
        recipients_file="{{ dag_run.conf['recipients'] }}",
        ledger="{{ dag_run.conf['ledger'] }}",
    )  # fmt: skip
    CascadeMessageStateSensor(  # no retries: a retry in the same triggerer would hide a fault
        task_id="wait", id_messages=sent.output, deferrable=True, poke_interval=0, timeout=300,
        retries=0,
    )  # fmt: skip
