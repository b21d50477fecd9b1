"""Campaign results reach the rest of Airflow in a real scheduler run: api-server, scheduler
and DAG processor with the LocalExecutor on SQLite (parallelism 2), StatsD on (a UDP listener
on loopback), OpenLineage's file transport. The example campaign announces its summary on an
asset; the DAG scheduled on it receives the summary in ``extra`` and loads the report.
Phone masking is on: no full phone and no secret in any of these outputs. Slow tier."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_cascade.hooks import _metrics
from airflow_provider_cascade.ledger._report import COLUMNS
from airflow_provider_cascade.testing.emulator import CascadeEmulator

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
REPEAT_REFUSAL = json.dumps(
    {"error": "Попытка отправки более одного одинакового запроса в течение минуты"}
).encode()
UPSTREAM, DOWNSTREAM = "example_cascade_campaign_results", "example_cascade_load_report"


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Run:
    home: Path
    url: str
    emulator: CascadeEmulator
    packets: list[str] = field(default_factory=list)

    def api(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data, {"Content-Type": "application/json"}, method=method
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return list(self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns")["dag_runs"])

    def unpause(self, dag_id: str, deadline: float) -> None:
        while True:  # the DAG processor needs a moment to see the file
            try:
                self.api("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
                return
            except urllib.error.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)


def _listen(sock: socket.socket, packets: list[str], stop: threading.Event) -> None:
    sock.settimeout(0.2)
    while not stop.is_set():
        try:
            data = sock.recv(65536)
        except TimeoutError:
            continue
        except OSError:
            return
        packets.extend(data.decode("utf-8", "replace").splitlines())


@pytest.fixture(scope="module")
def scheduler_run() -> Iterator[Run]:
    home = Path(tempfile.mkdtemp(prefix="cascade-results-"))
    dags = home / "dags"
    dags.mkdir()
    shutil.copy(ROOT / "example_dags" / f"{UPSTREAM}.py", dags)
    shutil.copy(ROOT / "example_dags" / "campaign_recipients.csv", dags)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    stop = threading.Event()
    packets: list[str] = []
    listener = threading.Thread(target=_listen, args=(udp, packets, stop), daemon=True)
    listener.start()
    port = free_port()
    emulator = CascadeEmulator(time_scale=3600).start()
    bindir = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        "AIRFLOW__API_AUTH__JWT_SECRET": "jwt-for-this-test-only-" + str(port),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__METRICS__STATSD_ON": "True",
        "AIRFLOW__METRICS__STATSD_HOST": "127.0.0.1",
        "AIRFLOW__METRICS__STATSD_PORT": str(udp.getsockname()[1]),
        "AIRFLOW__METRICS__STATSD_INFLUXDB_ENABLED": "True",
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "cascade-test",
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(home / "lineage.jsonl"), "append": True}
        ),
        "AIRFLOW_CONN_CASCADE_DEFAULT": emulator.conn_uri("json", mask_phones=True),
    }
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
    subprocess.run([str(bindir / "airflow"), "db", "migrate"], env=env, check=True,
                   capture_output=True, timeout=600)  # fmt: skip
    procs = []
    run = Run(home, f"http://127.0.0.1:{port}", emulator, packets)
    try:
        for name, args in (("api-server", ["api-server", "-H", "127.0.0.1", "-p", str(port),
                                           "-w", "1"]),
                           ("scheduler", ["scheduler"]), ("dag-processor", ["dag-processor"])):  # fmt: skip
            out = (home / f"{name}.log").open("wb")
            procs.append(subprocess.Popen([str(bindir / "airflow"), *args], env=env, stdout=out,
                                          stderr=subprocess.STDOUT, start_new_session=True))  # fmt: skip
        deadline = time.monotonic() + 240
        while True:
            try:
                run.api("GET", "/api/v2/monitor/health")
                break
            except OSError:
                if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                    raise RuntimeError("the Airflow processes did not start") from None
                time.sleep(1)
        yield run
    finally:
        for proc in procs:
            with_suppressed(lambda p=proc: os.killpg(p.pid, signal.SIGTERM))
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with_suppressed(lambda p=proc: os.killpg(p.pid, signal.SIGKILL))
                proc.wait()
        stop.set()
        udp.close()
        emulator.stop()
        shutil.rmtree(home, ignore_errors=True)


def with_suppressed(action: Any) -> None:
    with contextlib.suppress(ProcessLookupError):
        action()


def task_logs(home: Path, dag_id: str) -> str:
    """The end of each task's log, for a failure message."""
    return "\n".join(
        f"{p.parent.name}: " + "\n".join(x[:1500] for x in p.read_text().splitlines()
                                         if '"level":"error"' in x)
        for p in sorted((home / "logs").glob(f"dag_id={dag_id}/**/*.log"))
    )  # fmt: skip


@pytest.fixture(scope="module")
def finished(scheduler_run: Run) -> dict[str, Any]:
    """The campaign run to its end and the run it triggered downstream, with what they left."""
    run = scheduler_run
    deadline = time.monotonic() + 300
    run.unpause(DOWNSTREAM, deadline)
    run.unpause(UPSTREAM, deadline)
    # the first status query is refused under the once-a-minute rule: a refusal to count
    run.emulator.faults.reply_next(REPEAT_REFUSAL, content_type="application/json", on="state")
    run.api("POST", f"/api/v2/dags/{UPSTREAM}/dagRuns", {"logical_date": None})
    while time.monotonic() < deadline:
        downstream = [r for r in run.runs(DOWNSTREAM) if r["state"] in ("success", "failed")]
        upstream = [r for r in run.runs(UPSTREAM) if r["state"] == "failed"]
        if downstream or upstream:
            break
        time.sleep(2)
    else:
        raise TimeoutError("the downstream DAG did not run")
    assert not upstream, task_logs(run.home, UPSTREAM)
    (down,) = downstream
    assert down["state"] == "success", task_logs(run.home, DOWNSTREAM)
    (up,) = run.runs(UPSTREAM)
    run_id = urllib.parse.quote(down["dag_run_id"], safe="")
    loaded = run.api(
        "GET", f"/api/v2/dags/{DOWNSTREAM}/dagRuns/{run_id}/taskInstances/load/xcomEntries/"
        "return_value?deserialize=true",
    )["value"]  # fmt: skip
    time.sleep(3)  # the last task's metrics and lineage events leave after its end
    lineage_file = run.home / "lineage.jsonl"
    events = [json.loads(x) for x in lineage_file.read_text().splitlines()] if (
        lineage_file.exists()) else []  # fmt: skip
    return {"up": up, "down": down, "loaded": loaded, "lineage": events}


def test_the_asset_triggered_dag_receives_the_campaign_summary_in_extra(
    finished: dict[str, Any], scheduler_run: Run
) -> None:
    loaded = finished["loaded"]
    if isinstance(loaded, str):
        loaded = json.loads(loaded)
    extra = loaded["extra"]
    accepted = len(scheduler_run.emulator.deliveries)
    assert extra["campaign"] == "Winter sale" and extra["recipients"] == loaded["rows"] == 300
    assert extra["fates"] == {"accepted": accepted} and accepted == 300
    assert sum(extra["final_states"].values()) == 300
    assert extra["report_complete"] is True and extra["report"].endswith(".csv")
    assert extra["gateway_host"].startswith("127.0.0.1:")
    assert Decimal(extra["cost_total"]) == Decimal(loaded["cost_total"]) > 0
    assert set(extra["cost_by_channel"]) <= {"sms", "viber"}


def test_lineage_events_of_the_send_and_the_wait_carry_the_file_the_campaign_and_facets(
    finished: dict[str, Any],
) -> None:
    complete = {e["job"]["name"]: e for e in finished["lineage"] if e["eventType"] == "COMPLETE"}
    send = complete[f"{UPSTREAM}.send"]
    (source,) = send["inputs"]
    assert source["namespace"] == "file" and source["name"].endswith("campaign_recipients.csv")
    (campaign,) = send["outputs"]
    assert campaign["namespace"].startswith("cascade://127.0.0.1:")
    assert campaign["name"] == "Winter sale"
    assert campaign["outputFacets"]["outputStatistics"]["rowCount"] == 300
    facet = send["run"]["facets"]["cascadeCampaign"]
    assert facet["fates"] == {"accepted": 300} and facet["recipients"] == 300
    wait = complete[f"{UPSTREAM}.wait"]
    assert [(d["namespace"], d["name"]) for d in wait["inputs"]] == [
        (campaign["namespace"], "Winter sale")
    ]
    (report,) = wait["outputs"]
    assert report["namespace"] == "file" and report["name"].endswith(".csv")
    assert report["outputFacets"]["outputStatistics"]["rowCount"] == 300
    facet = wait["run"]["facets"]["cascadeCampaign"]
    assert sum(facet["finalStates"].values()) == 300 and facet["costTotal"] != "0"


def test_statsd_packets_carry_the_documented_metric_names_with_low_cardinality_tags(
    finished: dict[str, Any], scheduler_run: Run
) -> None:
    ours = [p for p in scheduler_run.packets if "cascade." in p]
    names = {p.split(",")[0].split(":")[0].removeprefix("airflow.") for p in ours}
    assert set(_metrics.NAMES) <= names, names
    recipients = [p for p in ours if p.startswith(f"airflow.{_metrics.RECIPIENTS},")]
    assert any("outcome=accepted" in p and p.split(":")[1].startswith("300|c") for p in recipients)
    requests = [p for p in ours if p.startswith(f"airflow.{_metrics.REQUESTS},")]
    assert any("kind=send" in p and "variant=json" in p for p in requests)
    assert any("kind=status" in p for p in requests)
    refusals = [p for p in ours if p.startswith(f"airflow.{_metrics.REFUSALS},")]
    assert any("kind=status" in p for p in refusals)
    tags = {t.split("=")[0] for p in ours for t in p.split(":")[0].split(",")[1:]}
    assert tags <= {"outcome", "variant", "kind", "result", "state", "channel"}, tags


def test_no_secret_and_no_full_phone_in_the_report_events_lineage_or_metrics(
    finished: dict[str, Any], scheduler_run: Run
) -> None:
    emulator = scheduler_run.emulator
    reports = list((scheduler_run.home / "cascade_reports").glob("*.csv"))
    assert len(reports) == 1
    report = reports[0].read_text()
    assert report.splitlines()[0] == ",".join(COLUMNS)
    outputs = {
        "report": report,
        "extra": json.dumps(finished["loaded"], ensure_ascii=False),
        "lineage": json.dumps(finished["lineage"], ensure_ascii=False),
        "metrics": "\n".join(scheduler_run.packets),
    }
    phones = [d.phone for d in emulator.deliveries]
    assert len(phones) == 300
    for name, text in outputs.items():
        assert emulator.password not in text and emulator.token not in text, name
        assert not [p for p in phones if p in text], name
