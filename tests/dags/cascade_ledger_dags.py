"""DAGs for the campaign-ledger tests: sends from a file, lost answers, untracked recipients."""

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

with DAG("cascade_ledger_file", schedule=None, start_date=START, catchup=False) as file_dag:
    sent = CascadeSendMessageOperator(
        task_id="send", channels=CHANNELS, recipients_file="{{ dag_run.conf['recipients'] }}"
    )
    CascadeMessageStateSensor(
        task_id="wait", id_messages=sent.output, deferrable=True, poke_interval=0, timeout=300
    )

with DAG("cascade_ledger_file_cp1251", schedule=None, start_date=START, catchup=False) as cp_dag:
    CascadeSendMessageOperator(
        task_id="send", channels=CHANNELS, recipients_file="{{ dag_run.conf['recipients'] }}",
        encoding="cp1251",
    )  # fmt: skip

with DAG("cascade_ledger_inline", schedule=None, start_date=START, catchup=False) as inline_dag:
    sent = CascadeSendMessageOperator(
        task_id="send", channels=CHANNELS, phones=[f"7950{i:07d}" for i in range(3)]
    )
    CascadeMessageStateSensor(
        task_id="wait", id_messages=sent.output, deferrable=True, poke_interval=0, timeout=300
    )

with DAG(
    "cascade_ledger_bad_credentials", schedule=None, start_date=START, catchup=False,
    default_args={"retries": 3, "retry_delay": pendulum.duration(seconds=1)},
) as bad_credentials:  # fmt: skip
    CascadeSendMessageOperator(
        task_id="send", channels=CHANNELS, phones=["79520000001"],
        cascade_conn_id="cascade_wrong_password",
    )  # fmt: skip

with DAG(
    "cascade_ledger_missing_conn", schedule=None, start_date=START, catchup=False,
    default_args={"retries": 1, "retry_delay": pendulum.duration(seconds=1)},
) as missing_conn:  # fmt: skip
    CascadeSendMessageOperator(
        task_id="send", channels=CHANNELS, phones=["79520000001"],
        cascade_conn_id="cascade_nowhere_defined",
    )  # fmt: skip
