"""A campaign from a CSV file, at scale, as a real DAG run: ``CascadeSendMessageOperator``
with ``recipients_file``, a deferrable ``CascadeMessageStateSensor`` on its output, to final
states and the report XComs. Each size runs ``dag.test()`` in a fresh process with its own
``AIRFLOW_HOME`` and migrated SQLite database, against the emulator in its own process (fast
clock, the once-a-minute rule on with a short window the provider learns from the connection
extra ``repeat_window``).

    .venv/bin/python -m benchmarks.campaign_scale                  # 300, 10,000, 100,000
    .venv/bin/python -m benchmarks.campaign_scale --million        # and 1,000,000 (~10 min)
    .venv/bin/python -m benchmarks.campaign_scale --sizes 50,500   # any sizes (CI smoke)
    .venv/bin/python -m benchmarks.campaign_scale --sizes 300 --cost 1000000  # cost and timing

``--cost N`` adds a run of N recipients in five time zones (a ``timezone`` column) with a
send window, prices, a cap, and a suppression file of N phones, a tenth of which are among
the recipients: the peak memory of the suppression set and the window's grouping on top of
the campaign, compared with the smallest plain run.

Per size: wall time (send, wait, total), the worker process's peak RSS (``dag.test()`` runs
the tasks and the trigger in that one process), and the bytes the run wrote to XCom rows,
trigger rows and the task instance's trigger event (``next_kwargs``), counted by SQLite
triggers on those tables, so every write counts, even one a later write replaced.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from benchmarks._common import emulator_process

ROOT = Path(__file__).resolve().parents[1]
DAG_FILE = Path(__file__).resolve().parent / "dags" / "campaign_scale.py"
DAG_ID = "cascade_campaign_scale"
COST_DAG_ID = "cascade_campaign_scale_cost"
ZONES = ("Europe/Moscow", "Asia/Vladivostok", "Europe/Kaliningrad", "Asia/Kathmandu",
         "America/New_York")  # fmt: skip
SUPPRESSED_SHARE = 10
"""Every 10th recipient is in the suppression file; the file's other phones are strangers."""
SIZES = (300, 10_000, 100_000)
MILLION = 1_000_000
TIME_SCALE = 120.0
"""Gateway seconds per real second: the slowest cascade (Viber's validity hour, then SMS's)
takes 60 s, longer than the sensor's first look even at 1,000,000, so it defers to the trigger
as in production. The wait is bounded below by it: the table shows what the provider adds."""
SLOWEST_CASCADE = 2 * 3600.0
"""Gateway seconds to the last final state: Viber's validity hour, then SMS's."""
REPEAT_WINDOW = 1.0
"""Real seconds within which the emulator refuses an identical request (the provider reads
the same value from the connection extra)."""
MEMORY_TARGET_MIB = 150.0
DB_TARGET_BYTES = 256 * 1024

_AUDIT = """
CREATE TABLE bench_bytes (what TEXT NOT NULL, bytes INTEGER NOT NULL);
CREATE TRIGGER bench_xcom_insert AFTER INSERT ON xcom BEGIN
  INSERT INTO bench_bytes VALUES ('xcom ' || NEW.task_id || ' ' || NEW.key,
                                  COALESCE(length(NEW.value), 0));
END;
CREATE TRIGGER bench_xcom_update AFTER UPDATE OF value ON xcom BEGIN
  INSERT INTO bench_bytes VALUES ('xcom ' || NEW.task_id || ' ' || NEW.key,
                                  COALESCE(length(NEW.value), 0));
END;
CREATE TRIGGER bench_trigger_insert AFTER INSERT ON "trigger" BEGIN
  INSERT INTO bench_bytes VALUES ('trigger row ' || NEW.classpath,
                                  COALESCE(length(NEW.kwargs), 0));
END;
CREATE TRIGGER bench_trigger_update AFTER UPDATE OF kwargs ON "trigger" BEGIN
  INSERT INTO bench_bytes VALUES ('trigger row ' || NEW.classpath,
                                  COALESCE(length(NEW.kwargs), 0));
END;
CREATE TRIGGER bench_event AFTER UPDATE OF next_kwargs ON task_instance
  WHEN NEW.next_kwargs IS NOT NULL AND NEW.next_kwargs IS NOT OLD.next_kwargs BEGIN
  INSERT INTO bench_bytes VALUES ('trigger event ' || NEW.task_id, length(NEW.next_kwargs));
END;
"""
"""Counts every byte written to the rows that must stay small, whoever writes them."""


# -- the parent: homes, the emulator, one child per size ----------------------------------------
def migrated_db(base: Path) -> Path:
    """Migrate one SQLite metadata database; every run gets a fresh copy of it."""
    home = base / "template"
    home.mkdir()
    env = _airflow_env(home, base / "dags")
    airflow = Path(sys.executable).parent / "airflow"
    subprocess.run([str(airflow), "db", "migrate"], env=env, check=True, capture_output=True,
                   timeout=900)  # fmt: skip
    return home / "airflow.db"


def _airflow_env(home: Path, dags: Path, conn: dict[str, Any] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__UNIT_TEST_MODE="True",
        AIRFLOW__CASCADE__LEDGER_PATH=str(home / "ledgers"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    if conn is not None:
        env["AIRFLOW_CONN_CASCADE_DEFAULT"] = json.dumps(conn)
    return env


def write_csv(path: Path, n: int) -> None:
    """``n`` distinct phones, one column, as users export them."""
    with path.open("w", encoding="utf-8") as f:
        f.write("phone\n")
        for start in range(0, n, 100_000):
            f.write("".join(f"79{i:09d}\n" for i in range(start, min(n, start + 100_000))))


def write_cost_files(csv: Path, suppress: Path, n: int) -> None:
    """``n`` phones with a zone each, and ``n`` phones to suppress (every 10th recipient and
    strangers)."""
    with csv.open("w", encoding="utf-8") as f:
        f.write("phone,timezone\n")
        for start in range(0, n, 100_000):
            f.write("".join(f"79{i:09d},{ZONES[i % len(ZONES)]}\n"
                            for i in range(start, min(n, start + 100_000))))  # fmt: skip
    with suppress.open("w", encoding="utf-8") as f:
        f.write("phone\n")
        for start in range(0, n, 100_000):
            f.write("".join(f"79{i:09d}\n" if i % SUPPRESSED_SHARE == 0 else f"78{i:09d}\n"
                            for i in range(start, min(n, start + 100_000))))  # fmt: skip


def run_size(base: Path, db: Path, url: str, n: int, cost: bool = False) -> dict[str, Any]:
    """One campaign of ``n`` recipients in a fresh process and home; the figures it measured
    and what the emulator saw. ``cost``: with suppression, send window, prices and a cap."""
    home = base / f"home-{n}{'-cost' if cost else ''}"
    home.mkdir()
    shutil.copy(db, home / "airflow.db")
    with sqlite3.connect(home / "airflow.db") as audit:
        audit.executescript(_AUDIT)
    csv = home / "recipients.csv"
    suppress = home / "suppress.csv"
    if cost:
        write_cost_files(csv, suppress, n)
    else:
        write_csv(csv, n)
    requests.post(url + "/_emulator/reset", timeout=60).raise_for_status()
    host, port = url.rsplit(":", 1)
    conn = {"conn_type": "cascade", "host": host, "port": int(port), "login": "demo",
            "password": "demo-secret",
            "extra": {"protocol": "json", "repeat_window": REPEAT_WINDOW}}  # fmt: skip
    out = home / "result.json"
    log = home / "dag_test.log"
    with log.open("w") as f:
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.campaign_scale", "--child", str(csv), str(out),
             *(["--child-suppress", str(suppress)] if cost else [])],
            env=_airflow_env(home, DAG_FILE.parent, conn), cwd=ROOT, stdout=f,
            stderr=subprocess.STDOUT, timeout=6 * 3600,
        )  # fmt: skip
    if proc.returncode != 0 or not out.exists():
        tail = log.read_text(errors="replace")[-4000:]
        raise RuntimeError(f"the {n:,}-recipient run failed (log {log}):\n{tail}")
    result: dict[str, Any] = json.loads(out.read_text())
    result["emulator"] = requests.get(url + "/_emulator/stats", timeout=60).json()
    result["ledger_bytes"] = sum(p.stat().st_size for p in (home / "ledgers").rglob("*")
                                 if p.is_file())  # fmt: skip
    result["cost"] = cost
    if cost:
        assert result["send_summary"]["suppressed"] == -(-n // SUPPRESSED_SHARE), result
    check(result, n - (-(-n // SUPPRESSED_SHARE) if cost else 0))
    return result


def check(result: dict[str, Any], n: int) -> None:
    """The run did what a campaign must: every phone accepted once, every message final,
    the report complete. A benchmark of a broken run measures nothing."""
    assert result["states"] == {"send": "success", "wait": "success"}, result["states"]
    ref = result["send_return"]
    assert (ref["accepted"], ref["rejected"], ref["untracked"]) == (n, 0, 0), ref
    counters = result["emulator"]["counters"]
    assert result["emulator"]["messages"] == n, result["emulator"]
    assert counters.get("recipients_accepted") == n, counters
    assert not counters.get("duplicates_refused"), counters  # nobody sent twice
    report = result["wait_return"]
    assert report["total"] == report["final"] == n, report
    assert sum(result["state_counts"].values()) == n, result["state_counts"]
    assert float(result["price_totals"]["total"]) > 0, result["price_totals"]


# -- the child: one DAG run, measured from inside ---------------------------------------------
def child(csv: str, out: str, suppress: str | None = None) -> None:
    from airflow_provider_cascade.operators.cascade import CascadeSendMessageOperator
    from airflow_provider_cascade.sensors.cascade import CascadeMessageStateSensor
    from airflow_provider_cascade.testing.dagruns import load_dag, task_states, xcom
    from airflow_provider_cascade.triggers.cascade import CascadeMessageStateTrigger

    marks: dict[str, float] = {}
    _mark(CascadeSendMessageOperator, "execute", "send", marks)
    _mark(CascadeMessageStateSensor, "execute", "sensor", marks)
    _mark(CascadeMessageStateSensor, "execute_complete", "resumed", marks)
    _mark(CascadeMessageStateTrigger, "run", "trigger", marks)
    dag = load_dag(str(DAG_FILE), COST_DAG_ID if suppress else DAG_ID)
    rss_before = _peak_rss_mib()
    t0 = time.perf_counter()
    dr = dag.test(run_conf={"recipients": csv, **({"suppress": suppress} if suppress else {})})
    total = time.perf_counter() - t0
    peak = _peak_rss_mib()
    end = marks.get("resumed_end", marks.get("sensor_end", float("nan")))
    written = _db_bytes(Path(os.environ["AIRFLOW_HOME"]) / "airflow.db")
    result = {
        "states": task_states(dr),
        "total_s": total,
        "send_s": marks["send_end"] - marks["send_start"],
        "wait_s": end - marks["send_end"],
        "deferred": "trigger_start" in marks,
        "peak_rss_mib": peak,
        "rss_before_run_mib": rss_before,
        "db_bytes": written,
        "db_bytes_total": sum(written.values()),
        "send_return": xcom(dr, "send"),
        "wait_return": xcom(dr, "wait"),
        "state_counts": xcom(dr, "wait", "state_counts"),
        "price_totals": xcom(dr, "wait", "price_totals"),
        "send_summary": xcom(dr, "send", "send_summary"),
    }
    Path(out).write_text(json.dumps(result, default=str))


def _peak_rss_mib() -> float:
    """Peak resident memory of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _mark(cls: type, name: str, key: str, marks: dict[str, float]) -> None:
    """Note when a method is first entered and last left (timing only: it calls through).
    The task instance's start date would include Airflow starting its in-process API."""
    original = getattr(cls, name)
    if name == "run":  # the trigger's async generator

        async def agen(self: Any, *args: Any, **kwargs: Any) -> Any:
            marks.setdefault(f"{key}_start", time.perf_counter())
            async for event in original(self, *args, **kwargs):
                marks[f"{key}_end"] = time.perf_counter()
                yield event

        setattr(cls, name, functools.wraps(original)(agen))
        return

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        marks.setdefault(f"{key}_start", time.perf_counter())
        try:
            return original(self, *args, **kwargs)
        finally:
            marks[f"{key}_end"] = time.perf_counter()

    setattr(cls, name, functools.wraps(original)(method))


def _db_bytes(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT what, SUM(bytes) FROM bench_bytes GROUP BY what").fetchall()
    return {what: int(size) for what, size in rows}


# -- the table --------------------------------------------------------------------------------
def rows(
    results: dict[Any, dict[str, Any]], time_scale: float = TIME_SCALE
) -> list[dict[str, Any]]:
    """One row per run; ``results`` keys are recipient counts, or ``(n, "cost")`` for a run
    with the cost and timing steps (compared with the smallest plain run)."""
    cascade_s = SLOWEST_CASCADE / time_scale
    plain = [k for k in results if isinstance(k, int)]
    base = results[min(plain)] if plain else next(iter(results.values()))
    out = []

    def order(item: tuple[Any, dict[str, Any]]) -> tuple[bool, int]:
        key = item[0]
        return (not isinstance(key, int), key if isinstance(key, int) else key[0])

    for key, r in sorted(results.items(), key=order):
        n = key if isinstance(key, int) else key[0]
        out.append({
            "recipients": n,
            "cost": not isinstance(key, int),
            "suppressed": (r.get("send_summary") or {}).get("suppressed", 0),
            "send_s": round(r["send_s"], 2),
            "wait_s": round(r["wait_s"], 2),
            "cascade_s": cascade_s,
            "wait_over_cascade_s": round(r["wait_s"] - cascade_s, 2),
            "deferred": r["deferred"],
            "total_s": round(r["total_s"], 2),
            "send_per_s": round(n / r["send_s"]),
            "peak_rss_mib": round(r["peak_rss_mib"], 1),
            "rss_over_baseline_mib": round(r["peak_rss_mib"] - base["peak_rss_mib"], 1),
            "db_bytes": r["db_bytes_total"],
            "db_bytes_detail": r["db_bytes"],
            "ledger_mib": round(r["ledger_bytes"] / 2**20, 1),
            "requests": r["emulator"]["requests"],
        })  # fmt: skip
    return out


def table(items: list[dict[str, Any]]) -> str:
    lines = [
        "| recipients | send | wait (over the slowest cascade) | total | send rate | peak RSS | "
        "over the smallest run | XCom + trigger bytes | ledger on disk |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in items:
        label = (f"{r['recipients']:,} (suppression file, window; {r['suppressed']:,} suppressed)"
                 if r.get("cost") else f"{r['recipients']:,}")  # fmt: skip
        lines.append(
            f"| {label} | {r['send_s']:.1f} s | {r['wait_s']:.1f} s "
            f"({r['wait_over_cascade_s']:+.1f} s{'' if r['deferred'] else ', not deferred'}) | "
            f"{r['total_s']:.1f} s | {r['send_per_s']:,}/s | {r['peak_rss_mib']:.0f} MiB | "
            f"{r['rss_over_baseline_mib']:+.0f} MiB | {r['db_bytes']:,} B | "
            f"{r['ledger_mib']:.1f} MiB |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", help="comma-separated recipient counts (default 300,10000,100000)"
    )
    parser.add_argument("--million", action="store_true", help="add the 1,000,000 run")
    parser.add_argument("--time-scale", type=float, default=TIME_SCALE,
                        help=f"gateway seconds per real second (default {TIME_SCALE:g})")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the homes, ledgers and logs")
    parser.add_argument("--cost", type=int, metavar="N",
                        help="add a run of N recipients with a suppression file of N phones, "
                             "a send window, prices and a cap")  # fmt: skip
    parser.add_argument("--child", nargs=2, metavar=("CSV", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--child-suppress", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child, suppress=args.child_suppress)
        return []
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else list(SIZES)
    if args.million:
        sizes.append(MILLION)
    base = Path(tempfile.mkdtemp(prefix="cascade-campaign-scale-"))
    print(f"# {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; work folder {base}", flush=True)  # fmt: skip
    try:
        db = migrated_db(base)
        results: dict[Any, dict[str, Any]] = {}
        runs: list[Any] = sorted(set(sizes))
        if args.cost:
            runs.append((args.cost, "cost"))
        with emulator_process(args.time_scale, repeat_window=REPEAT_WINDOW) as url:
            for key in runs:
                n, cost = (key, False) if isinstance(key, int) else (key[0], True)
                results[key] = run_size(base, db, url, n, cost)
                print(json.dumps({"recipients": n, "cost": cost, **{k: results[key][k] for k in (
                    "send_s", "wait_s", "total_s", "peak_rss_mib", "db_bytes_total")}}),
                      flush=True)  # fmt: skip
        items = rows(results, args.time_scale)
        print(table(items))
        return items
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
