"""Example 3: a scheduled campaign to recipient bases stored at the gateway.

Base 1001 is sent ten minutes after the run starts, base 1002 at once; numbers in the
stop-list base 1003 are skipped; ``#name#`` is filled in by the gateway. The deferrable
sensor waits for final states, then a task prints a delivery and cost report.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_cascade.operators.cascade import CascadeSendBaseOperator
from airflow_provider_cascade.sensors.cascade import CascadeMessageStateSensor

with DAG(
    dag_id="example_cascade_base_campaign",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "cascade"],
) as dag:
    campaign = CascadeSendBaseOperator(
        task_id="send_campaign",
        name_delivery="Autumn sale",
        channels=[
            {
                "channel": "viber",
                "sender": "Shop",
                "text": "#name#, осенняя распродажа: -30%",
                "button_text": "Открыть",
                "button_url": "https://shop.example/sale",
            },
            {"channel": "sms", "sender": "Shop", "text": "#name#, осенняя распродажа -30%"},
        ],
        bases=[
            {
                "base": "1001",
                # an aware ISO time; the hook converts it to the connection's time zone
                "time_send": "{{ (dag_run.start_date + macros.timedelta(minutes=10)).isoformat() }}",  # noqa: E501
            },
            {"base": "1002"},
        ],
        stop_bases=["1003"],
    )
    wait = CascadeMessageStateSensor(
        task_id="wait_for_final_states",
        id_messages=campaign.output,
        deferrable=True,
        # no poke_interval: ask as often as the gateway allows (once a minute on a real
        # account; the emulator's clock and window are scaled, so the demo is quick)
        timeout=3600,
    )

    @task
    def report(states: dict[str, dict[str, Any]], ti: Any = None) -> dict[str, Any]:
        """States by channel and cost per channel, from the sensor's XComs."""
        totals = ti.xcom_pull(task_ids="wait_for_final_states", key="price_totals")
        overall = Counter(s["state"] for s in states.values())
        by_channel: dict[str, Counter[str]] = {}
        for s in states.values():
            for channel, state in s["channel_states"].items():
                if state != "send":  # "send" per channel means: not used
                    by_channel.setdefault(channel, Counter())[state] += 1
        lines = [f"Campaign report: {len(states)} messages"]
        lines += [f"  {state:<15} {n}" for state, n in sorted(overall.items())]
        for channel, counts in sorted(by_channel.items()):
            detail = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            cost = totals["by_channel"].get(channel, "0")
            lines.append(f"  {channel:<8} {detail}; cost {cost}")
        lines.append(f"  total cost {Decimal(totals['total'])}")
        print("\n".join(lines))
        return {"states": dict(overall), "cost": totals}

    report(wait.output)
