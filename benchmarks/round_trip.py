"""The ledger send where users pay: a gateway 50 ms away (the emulator in its own process
answering every call after 50 ms), the ledger on local disk and, with ``--s3``, on S3 (a moto
server on loopback). Each figure is a ratio to a bare session posting the same bodies to the
same gateway, timed back to back in one run.

    .venv/bin/python -m benchmarks.round_trip            # 100,000 recipients (a few minutes)
    .venv/bin/python -m benchmarks.round_trip --small    # smoke size
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from benchmarks import run
from benchmarks._common import emulator_process

LATENCY = 0.05


@contextmanager
def s3_ledger_root() -> Iterator[str]:
    """A moto S3 server on loopback and an ``aws`` connection pointing at it."""
    from benchmarks._s3 import moto_bucket

    with moto_bucket() as (conn_id, bucket):
        yield f"s3://{conn_id}@{bucket}/ledgers"


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true", help="smoke size")
    parser.add_argument("--s3", action="store_true", help="also with the ledger on S3 (moto)")
    parser.add_argument("--latency", type=float, default=LATENCY)
    args = parser.parse_args(argv)
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="cascade-bench-"))
    n = 2_000 if args.small else 100_000
    run.ROWS.clear()
    run.PAIRS = 2 if args.small else 5
    where = f", gateway {args.latency * 1000:.0f} ms away"
    with emulator_process(latency=args.latency) as url:
        for protocol, prefix in (("json", "71"), ("xml", "72")):
            run.ledger_send(url, n, prefix, protocol, where=where + ", ledger on local disk")
        if args.s3:
            with s3_ledger_root() as root:
                for protocol, prefix in (("json", "73"), ("xml", "74")):
                    run.ledger_send(
                        url, n, prefix, protocol, f"{root}/{protocol}", where + ", ledger on S3"
                    )
    extra = ("--extra-send-field", "route=7", "--extra-send-field", "operator=mts")
    with emulator_process(36_000, 0.0, args.latency, *extra) as url:
        run.ledger_send(url, n, "75", "json", where=where + ", ledger on local disk, every send "
                        "row with two fields the document does not name")  # fmt: skip
    print(run.table())
    return run.ROWS


if __name__ == "__main__":
    main()
