"""The S3 tier: ledgers and recipient files on ``s3://`` through a moto server on loopback
(never AWS), and a real Airflow stack whose workers and triggerer reach it through an ``aws``
connection with ``endpoint_url``.

Fixtures for any test in this folder:

- ``moto_s3`` (session): a moto server on a free loopback port, an ``aws`` connection for it
  (exported as ``AIRFLOW_CONN_...`` to this process and every child), an empty bucket;
  ``moto_s3.url("a/b")`` is ``s3://<conn id>@<bucket>/a/b``.
- ``s3_stack`` (module): ``airflow standalone`` (LocalExecutor, SQLite, parallelism 2) with
  that connection and its own emulator, stopped when the module's tests end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_cascade.testing.emulator import CascadeEmulator
from tests.stack.conftest import Stack, free_port, start_stack

#: The connection's keys: moto takes any; tests check they never reach a log.
ACCESS_KEY = "cascade-test-access-key"
SECRET_KEY = "cascade-test-secret-key-7b1f"
#: What could point a client without the connection somewhere that works (AWS itself, or the
#: moto server): kept out of the tier's processes, so only the connection can.
AMBIENT_AWS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
               "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_DEFAULT_REGION")  # fmt: skip
#: No credentials from files or a cloud's metadata service either.
ISOLATED = {"AWS_EC2_METADATA_DISABLED": "true", "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_CONFIG_FILE": os.devnull}  # fmt: skip
#: Recipients per send request in ``s3_stack``.
BATCH = 25


@dataclass(frozen=True)
class MotoS3:
    endpoint_url: str
    conn_id: str
    bucket: str

    @property
    def conn(self) -> dict[str, Any]:
        """The ``aws`` connection: the connection's keys and endpoint, not the process's."""
        return {
            "conn_type": "aws",
            "login": ACCESS_KEY,
            "password": SECRET_KEY,
            "extra": {"endpoint_url": self.endpoint_url, "region_name": "us-east-1"},
        }

    @property
    def env(self) -> dict[str, str]:
        """The environment that defines the connection (for child processes)."""
        return {f"AIRFLOW_CONN_{self.conn_id.upper()}": json.dumps(self.conn)}

    def url(self, key: str) -> str:
        return f"s3://{self.conn_id}@{self.bucket}/{key.lstrip('/')}"

    def client(self) -> Any:
        """A boto3 client straight to the server (the tests' own view of the bucket)."""
        import boto3

        return boto3.client(
            "s3", endpoint_url=self.endpoint_url, region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
        )  # fmt: skip

    def put(self, key: str, data: bytes) -> None:
        self.client().put_object(Bucket=self.bucket, Key=key, Body=data)

    def keys(self, prefix: str = "") -> list[str]:
        pages = (
            self.client()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.bucket, Prefix=prefix)
        )
        return [o["Key"] for page in pages for o in page.get("Contents", [])]


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    port = free_port()
    moto = Path(sys.executable).parent / "moto_server"
    proc = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    saved = {k: os.environ.get(k) for k in (*ISOLATED, *AMBIENT_AWS)}
    try:
        endpoint = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=5).close()
                break
            except (OSError, urllib.error.URLError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.2)
        s3 = MotoS3(endpoint, "cascade_moto_s3", f"cascade-{uuid.uuid4().hex[:8]}")
        s3.client().create_bucket(Bucket=s3.bucket)
        saved.update({k: os.environ.get(k) for k in s3.env})
        os.environ.update(s3.env)
        os.environ.update(ISOLATED)
        for key in AMBIENT_AWS:
            os.environ.pop(key, None)
        yield s3
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def s3_stack(moto_s3: MotoS3) -> Iterator[Stack]:
    # 60 gateway minutes in 6 s (repeat window 1 s): a fallthrough or an expiry takes long
    # enough that the sensor defers to the triggerer
    emulator = CascadeEmulator(time_scale=600).start()
    try:
        env: dict[str, str | None] = {
            **dict.fromkeys(AMBIENT_AWS),
            **moto_s3.env,
            **ISOLATED,
            # small requests: a send of a few thousand takes dozens of them, time to kill one
            "AIRFLOW_CONN_CASCADE_DEFAULT": emulator.conn_uri("json", max_recipients=BATCH),
        }
        with start_stack(emulator, env, parallelism=2) as stack:
            yield stack
    finally:
        emulator.stop()
