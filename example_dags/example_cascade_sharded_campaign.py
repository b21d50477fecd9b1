"""Example 4: a campaign from a file, sharded. The recipients file is split into shards, each
sent by its own mapped task instance (its own ledger and client ids, on any worker), and one
deferrable sensor waits for every shard's messages. XCom holds references, not recipients.

For millions of recipients point ``recipients_file`` and ``[cascade] ledger_path`` at shared
object storage (``s3://...``) so every worker sees the same files (docs/campaigns.md)."""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_cascade.operators.cascade import (
    CascadeSendMessageOperator,
    CascadeSplitRecipientsOperator,
)
from airflow_provider_cascade.sensors.cascade import CascadeMessageStateSensor

RECIPIENTS = str(Path(__file__).parent / "campaign_recipients.csv")

with DAG(
    dag_id="example_cascade_sharded_campaign",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={"recipients_file": Param(RECIPIENTS, type="string")},
    tags=["example", "cascade"],
) as dag:
    split = CascadeSplitRecipientsOperator(
        task_id="split",
        recipients_file="{{ params.recipients_file }}",
        shards=3,
    )
    sent = CascadeSendMessageOperator.partial(
        task_id="send",
        channels=[
            {"channel": "viber", "sender": "Shop", "text": "Winter sale: -20% until Sunday"},
            {"channel": "sms", "sender": "Shop", "text": "Winter sale: -20% until Sunday"},
        ],
        name_delivery="winter-sale",
    ).expand(recipients_file=split.output)
    CascadeMessageStateSensor(
        task_id="delivered",
        id_messages=sent.output,  # one ledger reference per shard
        deferrable=True,
        timeout=3600,
    )
