"""A send worker in a process of its own: the operator's path (recipients file -> plan ->
ledger sender), for the kill -9 and the two-tries tests.

    python -m tests.ledger._worker CSV LEDGER [--try N] [--stall-after K --release FILE]

``--stall-after``: after its K-th request reached the gateway the worker stops until FILE
exists (a process stopped and resumed), then takes the answer and goes on."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

from airflow_provider_cascade.gateway import SMS, Message
from airflow_provider_cascade.hooks.cascade import CascadeHook
from airflow_provider_cascade.ledger import (
    CascadeSuperseded,
    Ledger,
    LedgerSender,
    Plan,
    read_recipients,
)


class Stalling:
    def __init__(self, inner: Any, after: int, release: Path) -> None:
        self.inner, self.codec, self.after, self.release, self.calls = (
            inner,
            inner.codec,
            after,
            release,
            0,
        )

    def send_request(self, batch: Any) -> Any:
        self.calls += 1
        answer = self.inner.send_request(batch)
        if self.calls == self.after:
            print("stalled", flush=True)
            while not self.release.exists():
                time.sleep(0.05)
        return answer


def main(argv: list[str]) -> int:
    args = argparse.ArgumentParser()
    args.add_argument("csv")
    args.add_argument("ledger")
    args.add_argument("--try", dest="try_number", type=int, default=1)
    args.add_argument("--stall-after", type=int, default=0)
    args.add_argument("--release", type=Path)
    opts = args.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    hook = CascadeHook()
    settings = hook.settings
    run_key = ("kill9", "run", "send", -1)
    plan = Plan(run_key, settings.codec.max_recipients, client_ids=settings.variant.value != "get")
    rows = plan.recipients(0, read_recipients(opts.csv), "recipients_file")
    first = next(rows)
    template = Message([SMS("Sale", "Shop")], [first])

    def chain():  # type: ignore[no-untyped-def]
        yield first
        yield from rows

    client: Any = hook.client
    if opts.stall_after:
        client = Stalling(client, opts.stall_after, opts.release)
    ledger = Ledger(opts.ledger)
    ledger.start()
    sender = LedgerSender(ledger, client, repeat_window=settings.repeat_window,
                          log=logging.getLogger("worker"), run_key=run_key,
                          try_number=opts.try_number)  # fmt: skip
    print("sending", flush=True)
    try:
        totals = sender.run(plan.chunks([(0, template, chain())]))
    except CascadeSuperseded as exc:
        print(f"superseded: {exc}", flush=True)
        return 3
    print(f"done accepted={totals.accepted} untracked={totals.untracked}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
