"""DAGs for the delivery-report tests: a campaign from a file waited on by sensors that write
the report (CSV and Parquet), an inline send that waits and reports, a wait that times out."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Asset

from airflow_provider_cascade.operators.cascade import (
    CascadeSendMessageOperator,
    CascadeSplitRecipientsOperator,
)
from airflow_provider_cascade.sensors.cascade import CascadeMessageStateSensor

START = pendulum.datetime(2026, 1, 1, tz="UTC")
CHANNELS = [
    {"channel": "viber", "sender": "Shop", "text": "Sale"},
    {"channel": "sms", "sender": "Shop", "text": "Sale"},
]
RESULTS = Asset("cascade://test/report-campaign")

with DAG("cascade_report_file", schedule=None, start_date=START, catchup=False) as file_dag:
    sent = CascadeSendMessageOperator(
        task_id="send", messages_file="{{ dag_run.conf['messages'] }}", outlets=[RESULTS]
    )
    csv_wait = CascadeMessageStateSensor(
        task_id="wait", id_messages=sent.output, poke_interval=0, timeout=600,
        report_path="{{ dag_run.conf['report'] }}.csv", outlets=[RESULTS],
    )  # fmt: skip
    parquet_wait = CascadeMessageStateSensor(
        task_id="wait_parquet", id_messages=sent.output, poke_interval=0, timeout=600,
        report_path="{{ dag_run.conf['report'] }}.parquet",
    )  # fmt: skip
    csv_wait >> parquet_wait

with DAG("cascade_report_inline", schedule=None, start_date=START, catchup=False) as inline_dag:
    CascadeSendMessageOperator(
        task_id="send", channels=CHANNELS, phones=[f"7953{i:07d}" for i in range(20)],
        wait_for_completion=True, poll_interval=0,
        report_path="{{ dag_run.conf['report'] }}", outlets=[RESULTS],
    )  # fmt: skip

with DAG("cascade_report_timeout", schedule=None, start_date=START, catchup=False) as late_dag:
    sent = CascadeSendMessageOperator(
        task_id="send", channels=CHANNELS, recipients_file="{{ dag_run.conf['recipients'] }}"
    )
    CascadeMessageStateSensor(
        task_id="wait", id_messages=sent.output, poke_interval=0, timeout=3,
        report_path="{{ dag_run.conf['report'] }}",
    )  # fmt: skip

with DAG(
    "cascade_report_timeout_deferred", schedule=None, start_date=START, catchup=False
) as late_deferred_dag:
    sent = CascadeSendMessageOperator(
        task_id="send", channels=CHANNELS, recipients_file="{{ dag_run.conf['recipients'] }}"
    )
    CascadeMessageStateSensor(
        task_id="wait", id_messages=sent.output, poke_interval=0, timeout=3, deferrable=True,
        report_path="{{ dag_run.conf['report'] }}",
    )  # fmt: skip

with DAG(
    "cascade_report_none_accepted", schedule=None, start_date=START, catchup=False
) as none_dag:
    CascadeSendMessageOperator(
        task_id="send", max_failure_ratio=1.0, wait_for_completion=True,
        messages=[{"send_sms": 1, "sender_sms": "Shop", "text_sms": "Sale",
                   "phones": [{"phone": f"7957{i:07d}"} for i in range(4)],
                   "stop_base": ["9002"]}],
        report_path="{{ dag_run.conf['report'] }}",
    )  # fmt: skip

with DAG("cascade_report_shards", schedule=None, start_date=START, catchup=False) as shards_dag:
    split = CascadeSplitRecipientsOperator(
        task_id="split", recipients_file="{{ dag_run.conf['recipients'] }}", shards=3
    )
    shard_sends = CascadeSendMessageOperator.partial(task_id="send", channels=CHANNELS).expand(
        recipients_file=split.output
    )
    CascadeMessageStateSensor(
        task_id="wait", id_messages=shard_sends.output, poke_interval=0, timeout=300,
        report_path="{{ dag_run.conf['report'] }}",
    )  # fmt: skip
