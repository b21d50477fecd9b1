"""All benchmarks, each side by side with its baseline in the same process.

    .venv/bin/python -m benchmarks.run            # full size (a few minutes)
    .venv/bin/python -m benchmarks.run --small    # smoke size (CI)

Prints a JSON line per figure and a markdown table for docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import time
from typing import Any

import requests

from airflow_provider_cascade.gateway import SMS, LoginPassword, Message, Recipient, Viber
from airflow_provider_cascade.gateway.codec import CodecSettings, HttpResponse, make_codec
from benchmarks._common import (
    best_of,
    conn_env,
    emulator_process,
    pair_ratio,
    paired,
    peak_memory_mb,
    timed,
)

ROWS: list[dict[str, Any]] = []
PAIRS = 5
"""Back-to-back floor and provider runs per send benchmark (2 with --small)."""


def row(name: str, value: float, unit: str, baseline: float | None = None, note: str = "",
        ratio: float | None = None) -> None:  # fmt: skip
    if ratio is None and baseline:
        ratio = value / baseline
    item = {"benchmark": name, "value": round(value, 4), "unit": unit,
            "baseline": None if baseline is None else round(baseline, 4),
            "ratio": None if ratio is None else round(ratio, 3), "note": note}  # fmt: skip
    ROWS.append(item)
    print(json.dumps(item, ensure_ascii=False), flush=True)


def phones(n: int, prefix: str) -> list[str]:
    return [f"7{prefix}{i:07d}"[:11] for i in range(n)]


def campaign(n: int, prefix: str, per_message: int = 1000) -> list[Message]:
    channels = (Viber("Ваш заказ готов", "Shop"), SMS("Заказ готов", "Shop"))
    numbers = phones(n, prefix)
    return [
        Message(channels, tuple(Recipient(p) for p in numbers[i : i + per_message]))
        for i in range(0, n, per_message)
    ]


# -- 1. bulk send --------------------------------------------------------------------------
def reset(url: str) -> None:
    """Every timed run meets an emulator with the same (empty) memory."""
    requests.post(url + "/_emulator/reset", timeout=30).raise_for_status()


def bulk_send(url: str, n: int, protocol: str, prefixes: list[str]) -> None:
    from airflow_provider_cascade.hooks.cascade import CascadeHook

    conn_env(url, protocol)
    hook = CascadeHook()
    hook.client  # noqa: B018  (read the connection outside the timing)
    floor_batches = hook.client.codec.send_batches(campaign(n, prefixes[0]))
    session = requests.Session()
    messages = campaign(n, prefixes[1])  # built beforehand; model cost is measured on its own

    def floor() -> None:
        for b in floor_batches:
            _ = session.post(
                b.request.url, data=b.request.body, headers=dict(b.request.headers)
            ).content

    floors, providers, results = paired(
        floor, lambda: hook.send(messages), PAIRS, lambda: reset(url)
    )
    assert len(results) == n and all(r.accepted for r in results)
    ratio, spread = pair_ratio(floors, providers)
    provider_s, floor_s = statistics.median(providers), statistics.median(floors)
    row(f"bulk send {n:,} recipients ({protocol.upper()})", provider_s, "s", floor_s,
        f"{n / provider_s:,.0f} recipients/s, {len(floor_batches)} requests; floor: bare requests.Session "
        f"posting the same pre-encoded bodies; {spread}, emulator reset before each run",
        ratio=ratio)  # fmt: skip
    reset(url)
    mem = peak_memory_mb(lambda: hook.send(campaign(n, prefixes[2])))
    row(
        f"peak Python memory, send of {n:,} ({protocol.upper()})",
        mem,
        "MB",
        note="tracemalloc peak, message building included",
    )


class _TaskInstance:
    """What the send operator reads of its task instance, outside an Airflow run: the ledger's
    key and an XCom sink (the benchmark measures the provider's path, not Airflow's)."""

    def __init__(self, run_id: str) -> None:
        self.dag_id, self.run_id, self.task_id = "bench", run_id, "send"
        self.map_index, self.try_number = -1, 1
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


def ledger_send(
    url: str, n: int, prefix: str, protocol: str = "json", ledger_root: str | None = None,
    where: str = "",
) -> None:  # fmt: skip
    """The send operator's whole path for a file (CSV read, duplicate check, client ids, the
    dry run that plans every request before the first leaves, the ledger written before and
    after each request, the report) against the floor: a bare ``requests.Session`` posting
    the very same bodies (same client ids), encoded beforehand. ``ledger_root``: where the
    ledgers go (a local folder by default; an object-storage URL)."""
    import logging
    import tempfile
    from pathlib import Path

    from airflow_provider_cascade.hooks.cascade import CascadeHook
    from airflow_provider_cascade.ledger import Plan
    from airflow_provider_cascade.operators.cascade import CascadeSendMessageOperator

    conn_env(url, protocol)
    work = Path(tempfile.mkdtemp(prefix="cascade-bench-ledger-"))
    csv = work / "recipients.csv"
    csv.write_text("phone\n" + "".join(p + "\n" for p in phones(n, prefix)))
    channels = [{"channel": "viber", "sender": "Shop", "text": "Ваш заказ готов"},
                {"channel": "sms", "sender": "Shop", "text": "Заказ готов"}]  # fmt: skip
    logging.getLogger("airflow.task.operators").setLevel(logging.WARNING)

    def operator(run: int) -> CascadeSendMessageOperator:
        return CascadeSendMessageOperator(
            task_id="send", channels=channels, recipients_file=str(csv),
            ledger=f"{ledger_root or work}/ledger-{run}",
        )  # fmt: skip

    hook = CascadeHook()
    codec = hook.client.codec
    plan = Plan(("bench", "run-0", "send", -1), hook.settings.codec.max_recipients)
    requests_ = [b.request for chunk in plan.chunks(operator(0)._checked(operator(0).feed(plan), codec))
                 for b in codec.send_batches([m for _, m in chunk])]  # fmt: skip
    session = requests.Session()

    def floor() -> None:
        for r in requests_:
            _ = session.post(r.url, data=r.body, headers=dict(r.headers)).content

    runs = iter(range(1, 1000))
    cpus: list[float] = []

    def provider() -> dict[str, Any]:  # a fresh ledger each time
        op, context = operator(next(runs)), {"ti": _TaskInstance("run-0")}
        cpu0 = time.process_time()
        out = op.execute(context)  # type: ignore[arg-type]
        cpus.append(time.process_time() - cpu0)
        return out  # type: ignore[no-any-return]

    floors, providers, ref = paired(floor, provider, PAIRS, lambda: reset(url))
    assert ref["accepted"] == n and ref["requests"] == len(requests_), ref
    ratio, spread = pair_ratio(floors, providers)
    provider_s, floor_s = statistics.median(providers), statistics.median(floors)
    row(f"ledger send {n:,} recipients from a CSV ({protocol.upper()}){where}", provider_s, "s",
        floor_s,
        f"{n / provider_s:,.0f} recipients/s, {len(requests_)} requests, client CPU "
        f"{statistics.median(cpus) / n * 1e6:.1f} µs per recipient; the operator's execute() "
        "(file, client ids, dry run, ledger, report); floor: bare requests.Session posting the "
        f"same bodies; {spread}, emulator reset before each run", ratio=ratio)  # fmt: skip


def per_phone_get(url: str, n_get: int, n_bulk: int) -> None:
    """What users write without the provider: one GET per phone (small N, per recipient)."""
    from airflow_provider_cascade.hooks.cascade import CascadeHook

    session = requests.Session()
    numbers = phones(n_get, "97")

    def loop() -> None:
        for p in numbers:
            _ = session.get(url + "/sendmessage.php", params={
                "login": "demo", "password": "demo-secret", "phone": p, "send_sms": "1",
                "sender_sms": "Shop", "text_sms": "Заказ готов"}).content  # fmt: skip

    loop_s, _ = timed(loop)
    conn_env(url, "json")
    hook = CascadeHook()
    messages = campaign(n_bulk, "98")
    reset(url)
    provider_s, _ = timed(lambda: hook.send(messages))
    per_loop, per_provider = loop_s / n_get, provider_s / n_bulk
    row("per-recipient time: provider JSON vs a GET per phone", per_provider * 1e6, "µs",
        per_loop * 1e6, f"GET loop measured on {n_get} phones, provider on {n_bulk:,}; "
        f"provider is {per_loop / per_provider:,.0f}x faster per recipient")  # fmt: skip


# -- 2. codec cost --------------------------------------------------------------------------
def codec_cost(n: int) -> None:
    settings = CodecSettings("http://127.0.0.1:1", LoginPassword("demo", "demo-secret"),
                             max_recipients=n)  # fmt: skip
    messages = campaign(n, "91", per_message=n)
    for protocol in ("json", "xml"):
        provider, floor = _codec_pair(protocol, settings, messages, phones(n, "91"))
        row(f"codec encode+decode per recipient ({protocol.upper()})", provider / n * 1e6, "µs",
            floor / n * 1e6, "floor: " + ("json.dumps + json.loads" if protocol == "json"
                                          else "lxml build + serialise + parse") + " of the plain structures")  # fmt: skip
    build = best_of(3, lambda: campaign(n, "92", per_message=n))
    row(
        "message model: build and validate per recipient",
        build / n * 1e6,
        "µs",
        note="Recipient construction (phone rule) and Message checks",
    )


def _codec_pair(protocol: str, settings: CodecSettings, messages: list[Message],
                numbers: list[str]) -> tuple[float, float]:  # fmt: skip
    from lxml import etree

    from airflow_provider_cascade.testing.emulator import _render

    rows = [{"id_message": str(1000000 + i), "phone": p, "count_message": "1", "id_viber": "5",
             "id_whatsapp": "0", "id_vk": "0", "id_sms": "0"} for i, p in enumerate(numbers)]  # fmt: skip
    codec = make_codec(protocol, settings)
    render = _render.json_send if protocol == "json" else _render.xml_send
    answer = HttpResponse(200, render([rows]))
    provider = best_of(3, lambda: codec.parse_send(codec.send_batches(messages)[0], answer))
    head = {"send_viber": "1", "send_sms": "2", "sender_viber": "Shop", "text_viber": "Ваш заказ готов",
            "sender_sms": "Shop", "text_sms": "Заказ готов"}  # fmt: skip
    plain = {"login": "demo", "password": "demo-secret",
             "message": [{**head, "phones": [{"phone": p} for p in numbers]}]}  # fmt: skip

    def json_floor() -> None:
        json.dumps(plain, ensure_ascii=False).encode()
        json.loads(answer.body)

    def xml_floor() -> None:
        root = etree.Element("request")
        m = etree.SubElement(root, "message")
        for k, v in head.items():
            etree.SubElement(m, k).text = v
        for p in numbers:
            etree.SubElement(m, "abonent", phone=p)
        etree.tostring(root, encoding="utf-8")
        [dict(e.attrib) for e in etree.fromstring(answer.body).iter("information")]

    return provider, best_of(3, json_floor if protocol == "json" else xml_floor)


# -- 3. status polling --------------------------------------------------------------------
def status_polling(url: str, n: int) -> None:
    from airflow_provider_cascade.hooks.cascade import CascadeHook

    conn_env(url, "json", max_state_ids=500)
    hook = CascadeHook()
    ids = [r.id_message or "" for r in hook.send(campaign(n, "93"))]
    time.sleep(0.5)
    batches = hook.client.codec.state_batches(ids)
    session = requests.Session()

    def floor() -> None:
        for b in batches:
            _ = session.post(
                b.request.url, data=b.request.body, headers=dict(b.request.headers)
            ).content

    floor_s = best_of(3, floor)
    provider_s = best_of(1, lambda: hook.get_states(ids))  # warm
    before = hook.client.requests_made
    provider_s = best_of(3, lambda: hook.get_states(ids))
    floor_s = min(floor_s, best_of(3, floor))
    per_poll = (hook.client.requests_made - before) // 3
    row(f"status poll of {n:,} ids (JSON)", provider_s, "s", floor_s,
        f"{per_poll} requests per poll (500 ids each); floor: raw POSTs of the same bodies")  # fmt: skip


# -- 4. trigger scale -----------------------------------------------------------------------
def trigger_scale(url: str, n_triggers: int, ids_per_trigger: int) -> None:
    import logging
    import resource
    import tracemalloc

    from airflow_provider_cascade.hooks.cascade import CascadeHook
    from airflow_provider_cascade.triggers.cascade import CascadeMessageStateTrigger

    conn_env(url, "json")
    ids = [
        r.id_message or "" for r in CascadeHook().send(campaign(n_triggers * ids_per_trigger, "94"))
    ]

    def make() -> list[CascadeMessageStateTrigger]:
        return [
            CascadeMessageStateTrigger(
                ids[i * ids_per_trigger : (i + 1) * ids_per_trigger],
                end_time=time.time() + 600,
                poll_interval=5.0,
            )
            for i in range(n_triggers)
        ]

    async def run_all(triggers: list[CascadeMessageStateTrigger]) -> float:
        """Runs every trigger to its event; returns the longest delay of a 10 ms ticker."""
        lag = 0.0
        done = 0

        async def ticker() -> None:
            nonlocal lag
            while done < len(triggers):
                t0 = time.perf_counter()
                await asyncio.sleep(0.01)
                lag = max(lag, time.perf_counter() - t0 - 0.01)

        async def one(t: CascadeMessageStateTrigger) -> None:
            nonlocal done
            async for event in t.run():
                assert event.payload["status"] == "success", event.payload
            done += 1

        await asyncio.gather(ticker(), *(one(t) for t in triggers))
        return lag

    # A triggerer pays first imports and the TLS context once: warm up with one trigger.
    asyncio.run(run_all(make()[:1]))
    logging.getLogger("airflow_provider_cascade").setLevel(logging.WARNING)  # progress lines off
    # Lag and CPU without tracemalloc (it slows every allocation) ...
    cpu0 = time.process_time()
    wall, lag = timed(lambda: asyncio.run(run_all(make())))
    cpu = time.process_time() - cpu0
    row(f"{n_triggers:,} triggers in one event loop: max loop lag", lag * 1000, "ms",
        note=f"{ids_per_trigger} ids each, poll interval 5 s (jittered start), all final on the "
        f"first poll; wall {wall:.1f} s, CPU {cpu:.2f} s ({cpu / n_triggers * 1000:.2f} ms per "
        "trigger: connection, client, one poll)")  # fmt: skip
    # ... and memory in a second, identical run with tracemalloc on.
    tracemalloc.start()
    asyncio.run(run_all(make()))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    row("memory per running trigger", peak / n_triggers / 1024, "KiB",
        note=f"tracemalloc peak {peak / 1e6:.1f} MB for {n_triggers:,}; process ru_maxrss "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (Airflow imported)")  # fmt: skip


def table() -> str:
    lines = ["| benchmark | provider | baseline | ratio | note |", "|---|---|---|---|---|"]
    for r in ROWS:
        base = "" if r["baseline"] is None else f"{r['baseline']} {r['unit']}"
        ratio = "" if r["ratio"] is None else f"{r['ratio']}"
        lines.append(
            f"| {r['benchmark']} | {r['value']} {r['unit']} | {base} | {ratio} | {r['note']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true", help="smoke sizes for CI")
    args = parser.parse_args(argv)
    import os
    import tempfile

    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="cascade-bench-"))
    n_bulk, n_get, n_codec, n_poll, n_trig = (
        (2_000, 20, 500, 1_000, 20) if args.small else (100_000, 300, 10_000, 10_000, 1_000)
    )
    ROWS.clear()
    global PAIRS
    PAIRS = 2 if args.small else 5
    print(f"# {platform.node()} {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}")  # fmt: skip
    codec_cost(n_codec)
    with emulator_process() as url:
        bulk_send(url, n_bulk, "json", ["81", "82", "83"])
        bulk_send(url, n_bulk, "xml", ["84", "85", "86"])
        ledger_send(url, n_bulk, "87")
        ledger_send(url, n_bulk, "88", "xml")
        per_phone_get(url, n_get, n_bulk)
        status_polling(url, n_poll)
        trigger_scale(url, n_trig, 10)
    print(table())
    return ROWS


if __name__ == "__main__":
    main()
