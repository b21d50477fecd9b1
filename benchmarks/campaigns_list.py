"""The Campaigns list at scale: 1,000 campaigns of 1,000,000 recipients each under one ledger
root, on ``file://`` and on ``s3://`` through a moto server on loopback. The list reads the
per-campaign summary objects only (one LIST of ``_campaigns/`` and the first page's objects),
so what the ledgers hold per recipient does not enter; each campaign's ledger folder is laid
beside it with its manifest to show it is there and never read.

    .venv/bin/python -m benchmarks.campaigns_list                  # 1,000 campaigns
    .venv/bin/python -m benchmarks.campaigns_list --campaigns 50   # smoke size

Per storage: the first page answered (LIST, the page's reads, the HTML), best of 5, and the
same with a DAG filter; the target is under 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_provider_cascade.ledger._campaigns import INDEX_DIR, CampaignSummaries, summary_name
from airflow_provider_cascade.ledger._store import storage_path, task_folder
from airflow_provider_cascade.ui import _render

RECIPIENTS = 1_000_000
TARGET_S = 1.0


def _summary(i: int, started: datetime, root: str) -> tuple[str, dict[str, Any]]:
    dag, run = f"campaign_dag_{i % 20}", f"scheduled__{started.isoformat()}"
    accepted = RECIPIENTS - 1_200
    data = {
        "format": "cascade-campaign", "version": 1, "dag_id": dag, "run_id": run,
        "task_id": "send", "map_index": -1, "variant": "json", "planned": RECIPIENTS,
        "started": started.isoformat(), "ledger": task_folder(root, dag, run, "send", -1),
        "mask_phones": True,
        "send": {"total": RECIPIENTS, "accepted": accepted, "already_sent": 0, "rejected": 1_000,
                 "untracked": 200, "requests": 1_000, "untracked_sample": ["79001234567"] * 20,
                 "first_errors": ["79007654321: stop-listed"] * 3},
        "wait": {"total": accepted, "final": accepted,
                 "by_state": {"deliver": accepted - 20_000, "not_deliver": 15_000,
                              "expired": 5_000},
                 "price_totals": {"by_channel": {"sms": "412345.50", "viber": "98765.25"},
                                  "total": "511110.75"},
                 "snapshots": [[(started + timedelta(minutes=m)).isoformat(), accepted * m // 60,
                                {"deliver": accepted * m // 70}] for m in range(0, 61, 5)]},
    }  # fmt: skip
    return summary_name(started, dag, run, "send", -1), data


def lay_out(root: str, campaigns: int) -> None:
    """The summaries and, beside them, each campaign's ledger folder with its manifest."""
    base = storage_path(root)
    index = base / INDEX_DIR
    index.mkdir(parents=True, exist_ok=True)
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)

    def one(i: int) -> None:
        name, data = _summary(i, now - timedelta(hours=i), root)
        with (index / name).open("w") as f:
            f.write(json.dumps(data))
        folder = storage_path(data["ledger"])
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "ledger.json").open("w") as f:
            f.write(json.dumps({"format": "cascade-ledger", "version": 1}))

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(one, range(campaigns)))


def answer(root: str, dag_id: str | None = None) -> int:
    """What the Campaigns route does for a user who may read every DAG, less the auth call."""
    page = CampaignSummaries(root).page(lambda d: True, dag_id=dag_id, limit=50)
    html = _render.campaigns_page(page, {c.key: c.status() for c in page.rows}, dag_id=dag_id,
                                  since=None, until=None)  # fmt: skip
    assert page.rows and len(html) > 1000
    return page.matching


def best(n: int, fn: Callable[[], Any]) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


@contextmanager
def moto_s3() -> Iterator[tuple[str, str]]:
    """A moto server on loopback and an ``aws`` connection for it; yields the root URL and
    the server's endpoint."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_PROFILE"):
        os.environ.pop(name, None)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # a connection of its own per server: filesystems are cached by connection
    tag = uuid.uuid4().hex[:8]
    conn_id, bucket = f"cascade_bench_s3_{tag}", f"bench-{tag}"
    os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps({
        "conn_type": "aws", "login": "bench-key", "password": "bench-secret",
        "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"},
    })  # fmt: skip
    import boto3

    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                 aws_access_key_id="bench-key",
                 aws_secret_access_key="bench-secret").create_bucket(Bucket=bucket)  # fmt: skip
    try:
        yield f"s3://{conn_id}@{bucket}/ledgers", endpoint
    finally:
        server.stop()


def measure(storage: str, root: str, campaigns: int) -> dict[str, Any]:
    start = time.perf_counter()
    lay_out(root, campaigns)
    laid = time.perf_counter() - start
    matching = answer(root)
    assert matching == campaigns, matching
    first = best(5, lambda: answer(root))
    filtered = best(5, lambda: answer(root, "campaign_dag_3"))
    return {
        "benchmark": f"Campaigns list, first page of {campaigns:,} campaigns of "
                     f"{RECIPIENTS:,} recipients ({storage})",
        "value": round(first, 6), "unit": "s", "target": TARGET_S,
        "note": f"with a DAG filter {filtered:.3f} s; one LIST and 50 summary reads; "
                f"laid out in {laid:.0f} s; {platform.python_version()}",
    }  # fmt: skip


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--campaigns", type=int, default=1_000)
    args = parser.parse_args(argv)
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="cascade-bench-home-"))
    rows = [measure("file://", "file://" + tempfile.mkdtemp(prefix="cascade-bench-ui-"),
                    args.campaigns)]  # fmt: skip
    with moto_s3() as (root, _):
        rows.append(measure("s3:// via moto", root, args.campaigns))
    for r in rows:
        print(json.dumps(r))
    print("| benchmark | value | target | note |\n|---|---|---|---|")
    for r in rows:
        print(f"| {r['benchmark']} | {r['value']} s | < {r['target']:g} s | {r['note']} |")
    return rows


if __name__ == "__main__":
    main()
