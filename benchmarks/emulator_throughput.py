"""How fast the emulator answers one JSON send of N recipients (so it never bottlenecks
other benchmarks). Baseline in the same process: the emulator answering an empty-bodied
status query, i.e. the HTTP round trip alone.

    .venv/bin/python -m benchmarks.emulator_throughput [--recipients 1000] [--rounds 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import requests

from airflow_provider_cascade.testing.emulator import CascadeEmulator


def body(login: str, password: str, n: int, offset: int) -> bytes:
    phones = [{"phone": f"79{offset + i:09d}"} for i in range(n)]
    message = {"send_viber": "1", "send_sms": "2", "sender_viber": "Shop", "text_viber": "Hello",
               "sender_sms": "Shop", "text_sms": "Hello", "phones": phones}  # fmt: skip
    return json.dumps({"login": login, "password": password, "message": [message]}).encode()


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args(argv)
    headers = {"Content-Type": "application/json; charset=utf-8"}
    with CascadeEmulator(repeat_window=0) as gw, requests.Session() as session:
        url = gw.url + "/sendmessagejson.php"
        bodies = [
            body(gw.login, gw.password, args.recipients, r * args.recipients)
            for r in range(args.rounds)
        ]
        ping = json.dumps(
            {"login": gw.login, "password": gw.password, "state": [{"id_message": "1"}]}
        ).encode()
        sends, pings = [], []
        for payload in bodies:
            t0 = time.perf_counter()
            session.post(url, data=ping, headers=headers).raise_for_status()
            t1 = time.perf_counter()
            session.post(url, data=payload, headers=headers).raise_for_status()
            t2 = time.perf_counter()
            pings.append(t1 - t0)
            sends.append(t2 - t1)
    result = {
        "recipients_per_request": args.recipients,
        "send_median_s": statistics.median(sends),
        "send_max_s": max(sends),
        "round_trip_median_s": statistics.median(pings),
        "recipients_per_s": args.recipients / statistics.median(sends),
    }
    for key, value in result.items():
        print(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")
    return result


if __name__ == "__main__":
    main()
