"""Demo: start the emulator, send a cascade through CascadeHook in each protocol variant,
wait for final states and print a delivery and cost report.

(The Airflow DAG demo lands with the example DAGs; until then this exercises the same
hook an operator uses, over real HTTP.)"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="cascade-demo-"))

from airflow_provider_cascade.gateway import SMS, Message, Viber
from airflow_provider_cascade.hooks.cascade import CascadeHook
from airflow_provider_cascade.testing.emulator import CascadeEmulator


def main() -> int:
    phones = [f"7900000000{d}" for d in range(10)]  # last digit steers the outcome
    with CascadeEmulator(time_scale=36_000, repeat_window=0) as gateway:
        for protocol in ("json", "xml", "get"):
            os.environ["AIRFLOW_CONN_CASCADE_DEFAULT"] = gateway.conn_uri(protocol)
            hook = CascadeHook()
            message = Message(
                [
                    Viber("Ваш заказ готов: <b>№42</b> & ждёт вас", "Shop"),
                    SMS("Заказ №42 готов", "Shop"),
                ],
                phones,
            )
            results = hook.send([message])
            ids = [r.id_message for r in results if r.id_message]
            states = {}
            deadline = time.monotonic() + 30
            while len(states) < len(ids) and time.monotonic() < deadline:
                time.sleep(0.2)
                states.update({k: v for k, v in hook.get_states(ids).items() if v.is_final})
            by_state = Counter(s.state for s in states.values())
            totals: dict[str, Decimal] = {}
            for s in states.values():
                for channel, price in s.prices.items():
                    totals[channel.value] = totals.get(channel.value, Decimal(0)) + price
            print(
                f"[{protocol}] sent {len(results)}, accepted {len(ids)}, final {len(states)}: "
                + ", ".join(f"{k} {v}" for k, v in sorted(by_state.items()))
            )
            if totals:
                print(
                    f"[{protocol}] cost by channel: "
                    + json.dumps({k: str(v) for k, v in sorted(totals.items())}, ensure_ascii=False)
                    + f", total {sum(totals.values())}"
                )
            else:
                print(f"[{protocol}] the GET variant reports states only, no prices")
            if len(states) != len(ids) or not by_state.get("deliver"):
                print("demo failed: not every message reached a final state", file=sys.stderr)
                return 1
        print(f"emulator counters: {dict(gateway.counters)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
