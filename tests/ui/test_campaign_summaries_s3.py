"""Summaries on ``s3://`` through a moto server on loopback: the list sees what other
processes wrote since its last look (s3fs caches folder listings and object sizes)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from airflow_provider_cascade.ledger._campaigns import INDEX_DIR, CampaignSummaries, summary_name
from benchmarks.campaigns_list import moto_s3


@pytest.fixture(scope="module")
def s3() -> Iterator[tuple[str, Any]]:
    """The root URL, and a boto3 client straight to the bucket (as another process writes)."""
    import boto3

    with moto_s3() as (root, endpoint):
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="bench-key",
                              aws_secret_access_key="bench-secret")  # fmt: skip
        yield root, client


def _put(s3: tuple[str, Any], name: str, body: dict[str, Any]) -> None:
    root, client = s3
    bucket, _, prefix = root.split("@", 1)[1].partition("/")
    client.put_object(Bucket=bucket, Key=f"{prefix}/{INDEX_DIR}/{name}",
                      Body=json.dumps(body).encode())  # fmt: skip


def _summary(run: str, accepted: int, padding: str = "") -> dict[str, Any]:
    return {"dag_id": "d", "run_id": run, "task_id": "send", "map_index": -1,
            "started": "2026-12-04T10:00:00+00:00", "note": padding,
            "send": {"total": accepted, "accepted": accepted}}  # fmt: skip


def test_the_list_sees_summaries_other_processes_wrote(s3: tuple[str, Any]) -> None:
    started = datetime(2026, 12, 4, 10, tzinfo=timezone.utc)
    first = summary_name(started, "d", "run_1", "send", -1)
    _put(s3, first, _summary("run_1", 5))
    summaries = CampaignSummaries(s3[0])
    assert [c.recipients for c in summaries.page(lambda d: True).rows] == [5]
    second = summary_name(started.replace(hour=11), "d", "run_2", "send", -1)
    _put(s3, second, _summary("run_2", 7))
    _put(s3, first, _summary("run_1", 6, padding="x" * 5000))  # rewritten, larger
    assert [c.recipients for c in summaries.page(lambda d: True).rows] == [7, 6]
