"""A ledger on ``s3://`` (moto server on loopback) opened where the triggerer opens it: on
a running event loop, in a fresh process; the connection's endpoint and keys are used, or a
typed error says why not."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from airflow_provider_cascade.gateway import SMS, Message
from airflow_provider_cascade.hooks.cascade import CascadeHook
from airflow_provider_cascade.ledger import (
    Ledger,
    LedgerSender,
    LedgerStorageUnavailable,
    LedgerWatch,
    Plan,
    storage_path,
)
from airflow_provider_cascade.testing.emulator import CascadeEmulator
from airflow_provider_cascade.triggers.cascade import CascadeMessageStateTrigger
from tests.stack.conftest import free_port

from .conftest import SECRET_KEY, MotoS3

ROOT = Path(__file__).resolve().parents[2]
log = logging.getLogger("test.s3")


def sent_ledger(url: str, n: int) -> Ledger:
    """A send of ``n`` recipients (2 requests) whose ledger is at ``url``."""
    hook = CascadeHook()
    numbers = [f"7963{i:07d}" for i in range(n)]
    plan = Plan(("dag", "run", "send", -1), n // 2)
    ledger = Ledger(url)
    ledger.start(variant="json")
    message = Message([SMS("Hi", "Shop")], numbers[:1])
    LedgerSender(ledger, hook.client, repeat_window=hook.settings.repeat_window, log=log).run(
        plan.chunks([(0, message, plan.recipients(0, numbers, "phones"))])
    )
    return ledger


def on_loop(what: str, url: str, gw: CascadeEmulator) -> dict[str, object]:
    env = {**os.environ, "AIRFLOW_CONN_CASCADE_DEFAULT": gw.conn_uri("json")}
    done = subprocess.run([sys.executable, "-m", "tests.s3._on_loop", what, url], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_a_ledger_built_on_an_event_loop_reads_s3_through_its_connection(
    moto_s3: MotoS3, cascade_gateway: CascadeEmulator, cascade_conn: str
) -> None:
    url = moto_s3.url("on-loop/ledger")
    sent_ledger(url, 40)
    assert on_loop("batches", url, cascade_gateway) == {"batches": 2}


def test_the_trigger_waits_on_an_s3_ledger_in_a_fresh_process(
    moto_s3: MotoS3, cascade_gateway: CascadeEmulator, cascade_conn: str
) -> None:
    url = moto_s3.url("trigger/ledger")
    sent_ledger(url, 40)
    event = on_loop("trigger", url, cascade_gateway)
    assert event["status"] == "success", event
    assert event["total"] == event["final"] == 40
    progress = LedgerWatch(url).stored_progress()  # the trigger wrote its counts to S3
    assert progress is not None and progress.total == progress.final == 40
    assert any(k.endswith("wait/summary.json") for k in moto_s3.keys("trigger/ledger/"))


def test_an_undefined_connection_is_a_typed_error_naming_the_url(moto_s3: MotoS3) -> None:
    url = f"s3://cascade_nowhere_defined@{moto_s3.bucket}/ledger"
    with pytest.raises(LedgerStorageUnavailable, match="cascade_nowhere_defined") as caught:
        storage_path(url)
    assert url in str(caught.value)


def test_an_unreachable_store_is_a_typed_error_naming_the_ledger(
    moto_s3: MotoS3, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    conn = {**moto_s3.conn, "extra": {"endpoint_url": closed, "region_name": "us-east-1",
                                      "config_kwargs": {"retries": {"max_attempts": 1}}}}  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_S3_CLOSED", json.dumps(conn))
    url = f"s3://cascade_s3_closed@{moto_s3.bucket}/closed/ledger"
    watch = LedgerWatch(url)
    with pytest.raises(LedgerStorageUnavailable, match="cannot read or write ledger") as caught:
        watch.poll(lambda ids: {})
    assert url in str(caught.value)
    assert SECRET_KEY not in str(caught.value) and caught.value.__cause__ is None


@pytest.mark.parametrize("conn", ["", "cascade_moto_s3@"])
def test_a_scheme_no_filesystem_serves_is_a_typed_error(conn: str, moto_s3: MotoS3) -> None:
    url = f"cascadenofs://{conn}bucket/ledger"
    with pytest.raises(LedgerStorageUnavailable, match="cascadenofs") as caught:
        Ledger(url)
    assert url in str(caught.value)


def test_the_trigger_reports_a_ledger_it_cannot_open_as_an_error_event(moto_s3: MotoS3) -> None:
    url = f"s3://cascade_nowhere_defined@{moto_s3.bucket}/ledger"
    trigger = CascadeMessageStateTrigger(
        [], end_time=time.time() + 30, repeat_window=1.0, ledgers=[url]
    )

    async def first_event() -> dict[str, object]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("no event")

    payload = asyncio.run(asyncio.wait_for(first_event(), timeout=30))
    assert payload["status"] == "error"
    assert url in str(payload["message"]) and "not defined" in str(payload["message"])


def test_a_storage_error_never_shows_the_password_of_a_url(moto_s3: MotoS3) -> None:
    """``s3://user:password@bucket`` (a password where a connection id belongs): the error
    names the store, never the password."""
    with pytest.raises(LedgerStorageUnavailable) as caught:
        storage_path(f"s3://user:Pa55word@{moto_s3.bucket}/ledger")
    assert "Pa55word" not in str(caught.value) and moto_s3.bucket in str(caught.value)
