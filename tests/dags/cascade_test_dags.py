"""DAGs run by tests/dagruns with dag.test() against the emulator."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_cascade.notifications.cascade import CascadeNotifier
from airflow_provider_cascade.operators.cascade import (
    CascadeSendBaseOperator,
    CascadeSendMessageOperator,
)
from airflow_provider_cascade.sensors.cascade import CascadeMessageStateSensor

START = pendulum.datetime(2026, 1, 1, tz="UTC")
VIBER_THEN_SMS = [
    {"channel": "viber", "text": "Hello from {{ dag.dag_id }}", "sender": "Shop"},
    {"channel": "sms", "text": "Hello from {{ dag.dag_id }}", "sender": "Shop"},
]

with DAG("cascade_test_single", schedule=None, start_date=START, catchup=False) as single:
    send = CascadeSendMessageOperator(
        task_id="send", channels=VIBER_THEN_SMS, phones="79000000001,79000000005,79000000006"
    )
    CascadeMessageStateSensor(
        task_id="wait", id_messages=send.output, deferrable=True, poke_interval=0.2, timeout=60
    )

with DAG("cascade_test_batch", schedule=None, start_date=START, catchup=False,
         params={"n": 1000}) as batch:  # fmt: skip

    @task
    def build(params: dict[str, int] | None = None) -> list[dict[str, object]]:
        n = int((params or {}).get("n", 1000))
        return [
            {"send_sms": "1", "sender_sms": "Shop", "text_sms": f"Dear customer {i}, your order is ready",
             "phones": [{"phone": f"7901{i:07d}"}]}
            for i in range(n)
        ]  # fmt: skip

    sent = CascadeSendMessageOperator(task_id="send", messages=build())
    CascadeMessageStateSensor(
        task_id="wait", id_messages=sent.output, deferrable=False, poke_interval=0.2, timeout=120
    )

with DAG("cascade_test_base", schedule=None, start_date=START, catchup=False) as base:
    CascadeSendBaseOperator(
        task_id="campaign",
        channels=[{"channel": "sms", "text": "#name#, sale today", "sender": "Shop"}],
        bases=[
            {"base": "21", "time_send": pendulum.datetime(2030, 6, 1, 9, 30, tz="Europe/London")},
            {"base": "22"},
        ],
        stop_bases=["23"],
        name_delivery="Summer sale",
    )

with DAG("cascade_test_mapped", schedule=None, start_date=START, catchup=False) as mapped:
    CascadeSendMessageOperator.partial(task_id="send", channels=VIBER_THEN_SMS).expand(
        phones=[["79000000011", "79000000012"], ["79000000021"], ["79000000031", "79000000032"]]
    )

with DAG(
    "cascade_test_wait_in_operator", schedule=None, start_date=START, catchup=False
) as waiting:
    CascadeSendMessageOperator(
        task_id="send", channels=VIBER_THEN_SMS, phones=["79000000041", "79000000045"],
        wait_for_completion=True, deferrable=True, poll_interval=0.2,
    )  # fmt: skip

with DAG("cascade_test_notifier", schedule=None, start_date=START, catchup=False) as notifier:

    @task(on_failure_callback=CascadeNotifier(
        phones=["79000000051"], channels=["viber", "sms"], text="{{ dag.dag_id }}.{{ ti.task_id }} failed"))  # fmt: skip
    def broken() -> None:
        raise RuntimeError("boom")

    broken()

with DAG("cascade_test_retry", schedule=None, start_date=START, catchup=False,
         default_args={"retries": 2, "retry_delay": timedelta(seconds=1)}) as retry:  # fmt: skip
    CascadeSendMessageOperator(
        task_id="send",
        channels=[{"channel": "sms", "text": "Hi", "sender": "Shop"}],
        phones=[f"7902{i:07d}" for i in range(20)],
    )

with DAG("cascade_test_faulty_campaign", schedule=None, start_date=START, catchup=False,
         default_args={"retries": 8, "retry_delay": timedelta(seconds=1)}) as faulty:  # fmt: skip

    @task
    def audience() -> list[dict[str, object]]:
        return [
            {"send_sms": "1", "sender_sms": "Shop", "text_sms": f"Offer {block}",
             "phones": [{"phone": f"7905{block}{i:06d}"} for i in range(1000)]}
            for block in range(5)
        ]  # fmt: skip

    campaign = CascadeSendMessageOperator(task_id="send", messages=audience())
    CascadeMessageStateSensor(
        task_id="wait", id_messages=campaign.output, deferrable=True, poke_interval=0.2,
        timeout=300, max_transient_failures=20,
    )  # fmt: skip

with DAG("cascade_test_reschedule", schedule=None, start_date=START, catchup=False) as reschedule:
    rescheduled = CascadeSendMessageOperator(
        task_id="send", channels=VIBER_THEN_SMS, phones=["79000000071", "79000000076"]
    )
    CascadeMessageStateSensor(
        task_id="wait", id_messages=rescheduled.output, deferrable=False, mode="reschedule",
        poke_interval=1, timeout=120,
    )  # fmt: skip
