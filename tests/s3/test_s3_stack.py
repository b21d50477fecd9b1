"""A campaign with its recipients file and ledger on ``s3://`` in a real Airflow (scheduler,
LocalExecutor workers, triggerer): the send reads and writes S3 through the ``aws``
connection, the deferrable sensor reads the ledger in the triggerer, and a retry after
``kill -9`` of the sending task process messages nobody twice."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_cascade.ledger import Fate, Ledger
from tests.stack.conftest import Stack

from .conftest import BATCH, SECRET_KEY, MotoS3

pytestmark = pytest.mark.slow

DAG_ID = "cascade_s3_campaign"


def phones(prefix: str, n: int) -> list[str]:
    """Numbers whose outcomes all end final (the emulator's last digit 8 never does); digits
    5, 6 and 7 take a validity period or two, so the sensor defers."""
    out: list[str] = []
    i = 0
    while len(out) < n:
        if i % 10 != 8:
            out.append(f"{prefix}{i:07d}")
        i += 1
    return out


def start_campaign(stack: Stack, s3: MotoS3, name: str, numbers: list[str]) -> str:
    s3.put(f"{name}/recipients.csv", ("phone\n" + "\n".join(numbers) + "\n").encode())
    conf = {"recipients": s3.url(f"{name}/recipients.csv"), "ledger": s3.url(f"{name}/ledger")}
    return stack.trigger_dag(DAG_ID, conf=conf)


def logs_of(stack: Stack, run_id: str) -> list[Path]:
    return [p for p in Path(stack.home, "logs", f"dag_id={DAG_ID}").rglob("*.log*")
            if f"run_id={run_id}" in str(p)]  # fmt: skip


def finished(stack: Stack, run_id: str) -> dict[str, Any]:
    run = stack.wait_for_run(DAG_ID, run_id, timeout=240)
    if run["state"] != "success":  # say why: the task and trigger logs
        text = "\n".join(f"== {p}\n{p.read_text(errors='replace')[-2500:]}"
                         for p in logs_of(stack, run_id))  # fmt: skip
        pytest.fail(f"run {run_id} ended {run['state']}:\n{text}")
    return run


def assert_everyone_once_and_polled(stack: Stack, run_id: str, numbers: list[str]) -> None:
    gw = stack.emulator
    per_phone = gw.accepted_per_phone()
    assert set(per_phone) == set(numbers)  # nobody lost
    assert set(per_phone.values()) == {1}  # nobody messaged twice
    ref = stack.xcom(DAG_ID, run_id, "send")
    in_ledger = {row.id_message for record in Ledger(ref["cascade_ledger"]).records()
                 for row in record.rows.values() if row.fate is Fate.ACCEPTED}  # fmt: skip
    assert in_ledger == {d.id_message for d in gw.deliveries}  # every id the gateway gave
    waited = stack.xcom(DAG_ID, run_id, "wait")
    assert waited["total"] == waited["final"] == len(numbers)  # every accepted id polled
    assert sum(waited["state_counts"].values()) == len(numbers)
    trigger_logs = [p for p in logs_of(stack, run_id) if ".log.trigger." in p.name]
    assert trigger_logs, "the sensor did not wait in the triggerer"
    for file in logs_of(stack, run_id):
        text = file.read_text(errors="replace")
        assert SECRET_KEY not in text and gw.password not in text, file


def test_a_campaign_on_s3_waits_in_the_triggerer(s3_stack: Stack, moto_s3: MotoS3) -> None:
    s3_stack.emulator.reset()
    numbers = phones("7961", 120)
    run_id = start_campaign(s3_stack, moto_s3, "plain", numbers)
    finished(s3_stack, run_id)
    assert_everyone_once_and_polled(s3_stack, run_id, numbers)
    keys = moto_s3.keys("plain/ledger/")
    assert any("/send/" in k and k.endswith(".outcome.jsonl") for k in keys), keys
    assert any(k.endswith("/wait/summary.json") for k in keys), keys  # the trigger wrote it


def task_process(ti_id: str) -> int:
    """The pid of a running task process (Airflow titles it ``airflow worker -- <ti id>``)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if f"airflow worker -- {ti_id}" in cmdline:
            return int(entry.name)
    raise LookupError(f"no task process for {ti_id}")


def wait_until(what: str, done: Any, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)


def test_a_send_from_s3_resumes_after_kill_minus_nine(s3_stack: Stack, moto_s3: MotoS3) -> None:
    gw = s3_stack.emulator
    gw.reset()
    numbers = phones("7962", 60 * BATCH)
    run_id = start_campaign(s3_stack, moto_s3, "killed", numbers)
    # a few requests answered, then one held by the gateway: kill the task while it waits
    wait_until("the send did not start", lambda: len(gw.deliveries) >= 5 * BATCH)
    gw.faults.slow_next(1, seconds=20, on="send")
    wait_until("no request was held", lambda: gw.faults.pending == 0)
    ti = s3_stack.task_instance(DAG_ID, run_id, "send")
    os.kill(task_process(ti["id"]), signal.SIGKILL)
    assert len(gw.deliveries) < len(numbers)  # the kill cut the send short

    finished(s3_stack, run_id)
    assert s3_stack.task_instance(DAG_ID, run_id, "send")["try_number"] == 2
    assert_everyone_once_and_polled(s3_stack, run_id, numbers)
