"""Two processes of one task instance at once, as a zombie and its retry are: the old one is
stopped after its first request reached the gateway, the new one sends the whole campaign,
then the old one resumes. The emulator runs in its own process, the once-a-minute rule on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_cascade.ledger import Fate, Ledger

from .conftest import emulator_in_a_process
from .test_kill9 import fetch, stats

ROOT = Path(__file__).resolve().parents[2]
N = 2500
WINDOW = 0.5


@pytest.fixture(params=[("get", "with_id"), ("json", "with_id"), ("json", "without_id")],
                ids=lambda p: "-".join(p))  # fmt: skip
def gateway(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    protocol, duplicate_answer = request.param
    options = ("--repeat-window", str(WINDOW), "--duplicate-answer", duplicate_answer)
    with emulator_in_a_process(*options) as url:
        yield url, protocol


def test_a_resumed_zombie_sends_nothing_and_nobody_is_messaged_twice(
    gateway: tuple[str, str], tmp_path: Path
) -> None:
    url, protocol = gateway
    two_tries_at_once(url, protocol, str(tmp_path / "ledger"), tmp_path)


def two_tries_at_once(url: str, protocol: str, ledger_url: str, tmp_path: Path) -> None:
    """The old try stalls after its first request, the new one sends everything, the old one
    resumes: it must end superseded without a request; the gateway and the ledger agree."""
    csv = tmp_path / "recipients.csv"
    csv.write_text("phone\n" + "".join(f"7950{i:07d}\n" for i in range(N)))
    release = tmp_path / "release"
    host, port = url.rsplit(":", 1)
    env = {**os.environ, "AIRFLOW_CONN_CASCADE_DEFAULT": json.dumps({
        "conn_type": "cascade", "host": host, "port": int(port), "login": "demo",
        "password": "demo-secret", "extra": {"protocol": protocol, "repeat_window": WINDOW},
    })}  # fmt: skip
    worker = [sys.executable, "-m", "tests.ledger._worker", str(csv), ledger_url]
    old = subprocess.Popen([*worker, "--try", "1", "--stall-after", "1", "--release", str(release)],
                           env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert old.stdout is not None
        while (line := old.stdout.readline()) and line.strip() != "stalled":
            pass
        assert line.strip() == "stalled", "the old try never sent its first request"
        new = subprocess.run([*worker, "--try", "2"], env=env, cwd=ROOT, capture_output=True,
                             text=True, timeout=300)  # fmt: skip
        assert new.returncode == 0, new.stderr[-3000:]
        requests_before = stats(url)["requests"]
        release.touch()
        out, _ = old.communicate(timeout=120)
    finally:
        if old.poll() is None:
            old.kill()
    assert old.returncode == 3 and "superseded" in out, out
    assert stats(url)["requests"] == requests_before  # the old try sent nothing once resumed

    messages = fetch(url, "messages")
    per_phone = Counter(m["phone"] for m in messages)
    assert len(per_phone) == N and set(per_phone.values()) == {1}  # nobody twice, nobody lost
    ids = set()
    for record in Ledger(ledger_url).records():
        for row in record.rows.values():
            if row.fate is Fate.ACCEPTED and row.id_message:
                ids.add(row.id_message)
    assert ids == {m["id_message"] for m in messages}  # every id the gateway gave is kept
