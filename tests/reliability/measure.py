"""The time and memory figures of docs/reliability.md, measured against hostile servers:

.venv/bin/python -m tests.reliability.measure
"""

from __future__ import annotations

import asyncio
import time
import tracemalloc

from airflow_provider_cascade.clients import AsyncCascadeClient
from airflow_provider_cascade.gateway import Variant
from airflow_provider_cascade.gateway.codec import CodecSettings, make_codec

from . import test_transport_faults as faults
from .hostile import hostile, run, settings


def main() -> None:
    cases = [
        ("trickled body, deadline 2 s", faults.trickle_body, 2.0),
        ("trickled headers, deadline 2 s", faults.trickle_headers, 2.0),
        ("302 with an endless body", faults.endless_redirect, 30.0),
        ("gzip bomb (40 MiB)", faults.gzip_bomb, 30.0),
    ]
    for name, script, deadline in cases:
        for which in ("sync", "async"):
            tracemalloc.start()
            with hostile(script) as server:
                start = time.monotonic()
                result = run(which, server.url, "send", deadline=deadline)
                took = time.monotonic() - start
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            print(f"{name:32} {which:5} {took:6.2f} s  peak {peak / 2**20:6.1f} MiB  "
                  f"{type(result).__name__}")  # fmt: skip
    with hostile(faults.answer(faults.STATE)) as server:
        codec = make_codec(
            Variant.JSON, CodecSettings(base_url=server.url, auth=settings("x").auth)
        )

        async def poll() -> None:
            client = AsyncCascadeClient(codec, shared_pool=True, repeat_window=0)
            await client.get_states(["123"])

        before = faults._open_sockets()
        for _ in range(200):
            asyncio.run(poll())
        print(f"open sockets before/after 200 asyncio.run polls: {before} / "
              f"{faults._open_sockets()}")  # fmt: skip


if __name__ == "__main__":
    main()
