"""The README's demo: real Airflow DAG runs (dag.test(), SQLite metadata) of the example
DAGs against the bundled gateway emulator, ending with the campaign's delivery and cost
report. Leaves nothing running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOME = ROOT / ".demo" / "airflow"
HOME.mkdir(parents=True, exist_ok=True)
os.environ["AIRFLOW_HOME"] = str(HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "example_dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = os.environ.get("DEMO_LOG_LEVEL", "WARNING")

EXAMPLES = [
    ("example_cascade_notification.py", "example_cascade_notification"),
    ("example_cascade_personalised_batch.py", "example_cascade_personalised_batch"),
    ("example_cascade_base_campaign.py", "example_cascade_base_campaign"),
    ("example_cascade_sharded_campaign.py", "example_cascade_sharded_campaign"),
    ("example_cascade_campaign_results.py", "example_cascade_campaign_results"),
    ("example_cascade_approved_campaign.py", "example_cascade_approved_campaign"),
]


def main() -> int:
    started = time.monotonic()
    print("1/3 migrating the Airflow metadata database (SQLite) ...", flush=True)
    subprocess.run([str(Path(sys.executable).parent / "airflow"), "db", "migrate"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip

    from airflow_provider_cascade.testing.emulator import CascadeEmulator

    # The gateway's rules as documented, its clock 3,600 times faster: an hour of Viber
    # validity passes in a second, and the once-a-minute rule refuses a repeated request
    # within one real second. The connection tells the provider that window, so the example
    # DAGs (which poll no faster than the window) never ask twice within it.
    with CascadeEmulator(time_scale=3600) as gateway:
        gateway.load_bases(ROOT / "example_dags" / "bases.json")
        os.environ["AIRFLOW_CONN_CASCADE_DEFAULT"] = gateway.conn_uri("json")
        print(f"2/3 gateway emulator on {gateway.url}; running the example DAGs ...", flush=True)
        from airflow_provider_cascade.testing.dagruns import answering_approvals, load_dag, xcom

        failed = []
        report = None
        for file, dag_id in EXAMPLES:
            t0 = time.monotonic()
            with answering_approvals("Approve"):  # the demo approves each estimate
                run = load_dag(str(ROOT / "example_dags" / file), dag_id).test()
            print(f"    {dag_id}: {run.state} in {time.monotonic() - t0:.1f} s", flush=True)
            if str(run.state) != "success":
                failed.append(dag_id)
            if dag_id == "example_cascade_base_campaign":
                report = (xcom(run, "report"), xcom(run, "wait_for_final_states"))
            if dag_id == "example_cascade_approved_campaign":
                estimate = xcom(run, "dry_run") or {}
                print(f"    approved campaign: estimate worst case {estimate.get('worst_case')}, "
                      f"{estimate.get('suppressed')} suppressed, by send time "
                      f"{json.dumps(estimate.get('by_window'))}")  # fmt: skip
            if dag_id == "example_cascade_sharded_campaign":
                shards = [xcom(run, "send", map_index=i) for i in range(3)]
                totals = xcom(run, "delivered", "price_totals")
                print(
                    f"    sharded campaign: {sum(s['accepted'] for s in shards)} accepted in "
                    f"{len(shards)} shards, each with its ledger; cost {json.dumps(totals)}"
                )
        print("3/3 campaign report (example_cascade_base_campaign)")
        if report and report[0]:
            summary, states = report
            cost = summary["cost"]
            print(f"    messages: {len(states)}; final states: {json.dumps(summary['states'])}")
            print(f"    cost by channel: {json.dumps(cost['by_channel'])}; total {cost['total']}")
        print(f"    emulator: {gateway.counters['recipients_accepted']} recipients accepted, "
              f"{gateway.counters['stop_listed']} skipped by the stop-list, "
              f"{len(gateway.requests)} HTTP requests, "
              f"{gateway.counters['repeat_refused']} refused as repeats")  # fmt: skip
    print(f"done in {time.monotonic() - started:.0f} s")
    if failed or not report or not report[0]:
        print(f"demo failed: {failed or 'no report'}", file=sys.stderr)
        return 1
    delivered = report[0]["states"].get("deliver", 0)
    return 0 if delivered and report[0]["cost"]["total"] != "0" else 1


if __name__ == "__main__":
    sys.exit(main())
