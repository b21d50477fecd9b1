"""kill -9 of the sending process at random points of a 100,000-recipient send, three times,
then a fresh process finishes it: nobody messaged twice, nobody lost, every accepted id in the
ledger. The emulator runs in its own process with the once-a-minute rule on (window 0.5 s)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_cascade.ledger import Fate, Ledger

from .conftest import emulator_in_a_process

ROOT = Path(__file__).resolve().parents[2]
N = 100_000
WINDOW = 0.5


@pytest.fixture
def emulator_url() -> Iterator[str]:
    with emulator_in_a_process("--repeat-window", str(WINDOW)) as url:
        yield url


def test_kill_minus_nine_three_times_then_resume(emulator_url: str, tmp_path: Path) -> None:
    csv = tmp_path / "recipients.csv"
    csv.write_text("phone\n" + "".join(f"7940{i:07d}\n" for i in range(N)))
    ledger_dir = tmp_path / "ledger"
    host, port = emulator_url.rsplit(":", 1)
    env = {**os.environ, "AIRFLOW_CONN_CASCADE_DEFAULT": json.dumps({
        "conn_type": "cascade", "host": host, "port": int(port), "login": "demo",
        "password": "demo-secret", "extra": {"protocol": "json", "repeat_window": WINDOW},
    })}  # fmt: skip
    command = [sys.executable, "-m", "tests.ledger._worker", str(csv), str(ledger_dir)]
    rng = random.Random(16)
    kills = 0
    for _ in range(3):
        worker = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert worker.stdout is not None
        while (line := worker.stdout.readline()) and line.strip() != "sending":
            pass
        assert line.strip() == "sending", "the worker did not start sending"
        time.sleep(rng.uniform(0.2, 1.2))
        if worker.poll() is None:
            os.kill(worker.pid, signal.SIGKILL)
            kills += 1
        worker.wait(timeout=30)
    assert kills == 3, "the send finished before it could be killed three times"
    assert stats(emulator_url)["messages"] < N  # the kills did cut the send short
    final = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert final.returncode == 0, final.stderr[-2000:]
    assert f"done accepted={N} untracked=0" in final.stdout

    messages = fetch(emulator_url, "messages")
    per_phone = Counter(m["phone"] for m in messages)
    assert len(per_phone) == N and set(per_phone.values()) == {1}  # 0 duplicates, 0 lost
    ledger_ids = set()
    for record in Ledger(str(ledger_dir)).records():
        for row in record.rows.values():
            if row.fate is Fate.ACCEPTED:
                ledger_ids.add(row.id_message)
    assert ledger_ids == {m["id_message"] for m in messages}


def fetch(url: str, what: str) -> list[dict[str, str]]:
    with urllib.request.urlopen(f"{url}/_emulator/{what}", timeout=60) as answer:
        return json.load(answer)  # type: ignore[no-any-return]


def stats(url: str) -> dict[str, int]:
    return fetch(url, "stats")  # type: ignore[return-value]
