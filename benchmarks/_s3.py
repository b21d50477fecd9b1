"""A moto S3 server on loopback for benchmarks, in a process of its own, and an ``aws``
connection (exported to this process) that reaches it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CONN_ID = "cascade_bench_s3"
KEYS = {"login": "bench-access-key", "password": "bench-secret-key"}


@contextmanager
def moto_bucket() -> Iterator[tuple[str, str]]:
    """Yields (connection id, bucket)."""
    import boto3

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    moto = Path(sys.executable).parent / "moto_server"
    proc = subprocess.Popen([str(moto), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=5).close()
                break
            except OSError:
                time.sleep(0.2)
        bucket = f"bench-{uuid.uuid4().hex[:8]}"
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                     aws_access_key_id=KEYS["login"],
                     aws_secret_access_key=KEYS["password"]).create_bucket(Bucket=bucket)  # fmt: skip
        os.environ[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = json.dumps({
            "conn_type": "aws", **KEYS,
            "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"},
        })  # fmt: skip
        yield CONN_ID, bucket
    finally:
        proc.terminate()
        proc.wait(timeout=10)
