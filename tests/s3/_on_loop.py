"""Opens a ledger the way the triggerer does, in a fresh process (Airflow caches a
connection's filesystem per process, so a test process that already made it proves nothing).

``python -m tests.s3._on_loop batches URL``: builds the ledger on a running event loop, reads
it in a thread; ``python -m tests.s3._on_loop trigger URL``: runs the sensor's trigger on the
ledger. Prints one JSON line."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from airflow_provider_cascade.ledger import Ledger
from airflow_provider_cascade.triggers.cascade import CascadeMessageStateTrigger


async def batches(url: str) -> Any:
    ledger = Ledger(url)  # on the loop, as a trigger's code may do
    found = await asyncio.to_thread(ledger.batches)
    return {"batches": len(found)}


async def trigger(url: str) -> Any:
    waiting = CascadeMessageStateTrigger([], end_time=time.time() + 60, ledgers=[url])
    async for event in waiting.run():
        return dict(event.payload)
    return None


def main(what: str, url: str) -> int:
    run = {"batches": batches, "trigger": trigger}[what]
    print(json.dumps(asyncio.run(run(url))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
