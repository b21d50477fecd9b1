"""The delivery report's memory: a synthetic campaign ledger (N recipients, every one
accepted and final, with states and prices beside the ledger as a wait leaves them), then
``write_report`` for each format in a fresh process, its peak RSS over the process's RSS
before the report. Flat means the 1,000,000-row figure is the 100,000-row one.

    .venv/bin/python -m benchmarks.report_memory                    # 100,000 and 1,000,000
    .venv/bin/python -m benchmarks.report_memory --sizes 2000 --formats csv
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BATCH = 1000
FORMATS = ("csv", "csv.gz", "jsonl", "parquet")


def build_ledger(root: Path, n: int) -> str:
    """Records as a send writes them (intent, outcome) and states as a wait writes them."""
    from airflow_provider_cascade.gateway import MessageState
    from airflow_provider_cascade.ledger import Fate, Ledger, LedgerWatch
    from airflow_provider_cascade.ledger._records import (
        Entry,
        RecordName,
        Row,
        intent_lines,
        outcome_lines,
    )

    url = str(root / f"ledger-{n}")
    ledger = Ledger(url)
    ledger.start(dag_id="bench", run_id="run", task_id="send", map_index=-1, variant="json",
                 campaign="Benchmark")  # fmt: skip
    watch = LedgerWatch(url)
    claim = str(ledger.claim(try_number=1))
    for b, start in enumerate(range(0, n, BATCH), 1):
        count = min(BATCH, n - start)
        entries = [Entry(0, f"79{start + i:09d}", f"{start + i}") for i in range(count)]
        ledger.write_record(RecordName(b, 1, claim, "intent"),
                            intent_lines(b, 1, 0.0, entries, range(count)))  # fmt: skip
        rows = [(i, Row(Fate.ACCEPTED, str(10_000_000 + start + i))) for i in range(count)]
        ledger.write_record(RecordName(b, 1, claim, "outcome"),
                            outcome_lines(b, 1, 0.0, "answered", rows))  # fmt: skip
        states = {}
        for i in range(count):
            ident = str(10_000_000 + start + i)
            states[ident] = MessageState.from_dict({
                "id_message": ident, "state": "deliver", "time_change_state": "2026-12-01 10:00:00",
                "channel_states": {"viber": "not_deliver", "sms": "deliver"},
                "prices": {"viber": "0.55", "sms": "2.05"}, "num_parts_sms": 1,
            })  # fmt: skip
        watch.save(b, states)
    return url


def measure(url: str, out: str) -> dict[str, Any]:
    """In this (fresh) process: the report's time and its peak RSS over the RSS before."""
    from airflow_provider_cascade.ledger import LedgerWatch
    from airflow_provider_cascade.ledger._report import check_report_path, ledger_rows, write_report

    check_report_path(out)  # imports pyarrow for Parquet before the baseline
    import pyarrow.parquet  # noqa: F401  (the same baseline for every format)

    watch = LedgerWatch(url)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    summary = write_report(out, ledger_rows(watch.ledger, watch.known, mask_phones=False))
    seconds = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"rows": summary.rows, "seconds": round(seconds, 1), "rss_before_mib": before // 1024,
            "peak_over_mib": (peak - before) / 1024, "bytes": Path(out).stat().st_size}  # fmt: skip


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--formats", default=",".join(FORMATS))
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="cascade-report-bench-") as tmp:
        for n in [int(x) for x in args.sizes.split(",")]:
            url = build_ledger(Path(tmp), n)
            for fmt in args.formats.split(","):
                out = str(Path(tmp) / f"report-{n}.{fmt}")
                code = f"import json,sys; from benchmarks.report_memory import measure; print(json.dumps(measure({url!r}, {out!r})))"
                done = subprocess.run([sys.executable, "-c", code], capture_output=True,
                                      text=True, check=True)  # fmt: skip
                row = {"recipients": n, "format": fmt, **json.loads(done.stdout.splitlines()[-1])}
                assert row["rows"] == n, row
                results.append(row)
                print(f"| {n:,} | {fmt} | {row['seconds']} s | {row['peak_over_mib']:.1f} MiB | "
                      f"{row['bytes'] / 2**20:.1f} MiB |", flush=True)  # fmt: skip
    return results


if __name__ == "__main__":
    main()
