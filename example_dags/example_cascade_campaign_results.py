"""Example 5: campaign results that flow on. A campaign from a file, waited on by a sensor
that writes the delivery report (one row per recipient, exact prices) and announces the
campaign on an asset; a second DAG, scheduled on that asset, loads the report (with DuckDB
when it is installed, else the csv module) and reads the summary from the asset event's
``extra``. (A deadline alert "campaign not final by 18:00" through ``CascadeNotifier``:
docs/after-the-campaign.md.)"""

from __future__ import annotations

import csv
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, task

from airflow_provider_cascade.operators.cascade import CascadeSendMessageOperator
from airflow_provider_cascade.sensors.cascade import CascadeMessageStateSensor

RECIPIENTS = str(Path(__file__).parent / "campaign_recipients.csv")
REPORTS = os.path.join(os.environ.get("AIRFLOW_HOME", "~/airflow"), "cascade_reports")
CAMPAIGN_RESULTS = Asset("cascade://campaigns/winter-sale")
START = pendulum.datetime(2026, 1, 1, tz="UTC")


with DAG(
    dag_id="example_cascade_campaign_results",
    schedule=None,
    start_date=START,
    catchup=False,
    tags=["example", "cascade"],
) as dag:
    sent = CascadeSendMessageOperator(
        task_id="send",
        name_delivery="Winter sale",
        channels=[
            {"channel": "viber", "sender": "Shop", "text": "Winter sale: -20% until Sunday"},
            {"channel": "sms", "sender": "Shop", "text": "Winter sale: -20% until Sunday"},
        ],
        recipients_file=RECIPIENTS,
    )
    CascadeMessageStateSensor(
        task_id="wait",
        id_messages=sent.output,
        timeout=3600,
        report_path=REPORTS + "/{{ dag_run.run_id | replace(':', '-') | replace('+', '-') }}.csv",
        outlets=[CAMPAIGN_RESULTS],  # the event's extra: counts, cost, the report's URL
    )

with DAG(
    dag_id="example_cascade_load_report",
    schedule=[CAMPAIGN_RESULTS],
    start_date=START,
    catchup=False,
    tags=["example", "cascade"],
) as load_dag:

    @task
    def load(triggering_asset_events: Any = None) -> dict[str, Any]:
        """What a warehouse load would do: the rows of the report, checked against the
        summary the campaign announced."""
        (event,) = triggering_asset_events[CAMPAIGN_RESULTS][-1:]
        extra = dict(event.extra)
        report = extra["report"].removeprefix("file://")
        try:
            import duckdb
        except ImportError:
            with open(report, newline="", encoding="utf-8") as f:
                rows = list(csv.DictReader(f))
            count = len(rows)
            cost = sum((Decimal(r["price_total"]) for r in rows if r["price_total"]), Decimal(0))
        else:
            count, total = (
                duckdb.connect()
                .execute(
                    f"select count(*), sum(price_total) from read_csv_auto('{report}', "
                    "types={'price_total': 'DECIMAL(20,6)'})"
                )
                .fetchone()
            )
            cost = Decimal(str(total or 0))
        print(f"{extra['campaign']}: {count} recipients, cost {cost}, fates {extra['fates']}")
        return {"rows": count, "cost_total": str(cost.normalize()), "extra": extra}

    load()
