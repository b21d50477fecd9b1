"""A delivery report written to object storage: S3 through a moto server on loopback, the
report streamed into the object (gzip and Parquet writers over an S3 file). Skipped where
moto and the Amazon provider are not installed."""

from __future__ import annotations

import gzip
import io
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest

from airflow_provider_cascade.gateway import MessageState
from airflow_provider_cascade.ledger._report import COLUMNS, SendInfo, id_rows, write_report
from airflow_provider_cascade.ledger._store import storage_path

pytest.importorskip("moto")
pytest.importorskip("s3fs")
pytest.importorskip("airflow.providers.amazon")
boto3 = pytest.importorskip("boto3")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    for key, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps({
        "conn_type": "aws", "login": "test", "password": "test",
        "extra": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"}}))  # fmt: skip
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(
        Bucket="campaigns"
    )
    return "s3://aws_default@campaigns"


def states(n: int) -> dict[str, MessageState]:
    return {
        str(1000 + i): MessageState.from_dict({
            "id_message": str(1000 + i), "state": "deliver", "time_change_state": "2026-12-01 10:00:00",
            "channel_states": {"sms": "deliver"}, "prices": {"sms": "2.05"}, "num_parts_sms": 1,
        })
        for i in range(n)
    }  # fmt: skip


@pytest.mark.parametrize("ext", ["csv.gz", "parquet"])
def test_a_report_streams_into_an_s3_object(bucket: str, ext: str) -> None:
    known = states(25_000)  # more than two chunks of rows
    url = f"{bucket}/reports/r.{ext}"
    summary = write_report(url, id_rows(list(known), known, SendInfo("d", "r", "t", -1, "c")))
    assert summary.rows == 25_000 and summary.total_cost == Decimal("51250.00")
    data = storage_path(url).read_bytes()
    if ext == "csv.gz":
        lines = gzip.decompress(data).decode().splitlines()
        assert lines[0] == ",".join(COLUMNS) and len(lines) == 25_001
    else:
        import pyarrow.parquet as pq

        table = pq.read_table(io.BytesIO(data))
        assert table.num_rows == 25_000 and table.column_names == list(COLUMNS)
        assert sum(table.column("price_total").to_pylist()) == Decimal("51250.00")
