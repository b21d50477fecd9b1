"""A send worker for the kill -9 test: the operator's path (recipients file -> plan -> ledger
sender) in a process of its own. Usage: python -m tests.ledger._worker CSV LEDGER."""

from __future__ import annotations

import logging
import sys

from airflow_provider_cascade.gateway import SMS, Message
from airflow_provider_cascade.hooks.cascade import CascadeHook
from airflow_provider_cascade.ledger import Ledger, LedgerSender, Plan, read_recipients


def main(csv_url: str, ledger_url: str) -> int:
    logging.basicConfig(level=logging.WARNING)
    hook = CascadeHook()
    settings = hook.settings
    run_key = ("kill9", "run", "send", -1)
    plan = Plan(run_key, settings.codec.max_recipients)
    rows = plan.recipients(0, read_recipients(csv_url), "recipients_file")
    first = next(rows)
    template = Message([SMS("Sale", "Shop")], [first])

    def chain():  # type: ignore[no-untyped-def]
        yield first
        yield from rows

    ledger = Ledger(ledger_url)
    ledger.start()
    sender = LedgerSender(ledger, hook.client, repeat_window=settings.repeat_window,
                          log=logging.getLogger("worker"), run_key=run_key)  # fmt: skip
    print("sending", flush=True)
    totals = sender.run(plan.chunks([(0, template, chain())]))
    print(f"done accepted={totals.accepted} untracked={totals.untracked}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
