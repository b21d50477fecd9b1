"""The first hour: the CLI's defaults run the examples quickly, clear of Airflow's port,
with the examples' bases shipped in the package (issue 15 item 4)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from airflow_provider_cascade.testing import cli
from airflow_provider_cascade.testing.emulator import EXAMPLE_BASES, CascadeEmulator
from tests.emulator._http import JSON, creds, post, post_json

ROOT = Path(__file__).resolve().parents[2]


def final_after(gw: CascadeEmulator) -> float:
    """Real seconds from now until every accepted message is final at the emulator's clock."""
    now = gw.gateway.now()
    ends = [d.start_at + timedelta(minutes=d.attempts[-1].end) - now for d in gw.deliveries]
    return max(e.total_seconds() for e in ends) / gw.behaviour.time_scale


def test_defaults_clear_of_airflow_and_fast() -> None:
    args = cli.parser().parse_args([])
    assert args.port == cli.DEFAULT_PORT == 8765  # Airflow's api-server listens on 8080
    assert args.time_scale == cli.DEFAULT_TIME_SCALE == 600
    assert args.repeat_window is None  # scaled: one gateway minute, at least 1 s


def test_default_clock_runs_the_examples_well_under_a_minute() -> None:
    """The notification example (Viber first, SMS after the Viber hour) and the base
    campaign (sent 10 gateway minutes after the run starts) at the CLI's clock."""
    with CascadeEmulator(time_scale=cli.DEFAULT_TIME_SCALE) as gw:
        gw.load_example_bases()
        viber_sms = {"send_viber": "1", "sender_viber": "DataTeam", "text_viber": "done",
                     "send_sms": "2", "sender_sms": "DataTeam", "text_sms": "done"}  # fmt: skip
        phones = [{"phone": "79000000001"}, {"phone": "79000000005"}]
        post_json(gw, {**creds(gw), "message": [{**viber_sms, "phones": phones}]})
        notification = final_after(gw)
        assert 5 < notification < 10  # 61 gateway minutes at x600
        at = (gw.gateway.now() + timedelta(minutes=10)).astimezone()
        post_json(gw, {**creds(gw), "message": [{**viber_sms, "stop_base": [{"base": "1003"}],
            "base": [{"base": "1001", "time_send": at.strftime("%Y-%m-%d %H:%M")},
                     {"base": "1002"}]}]})  # fmt: skip
        assert final_after(gw) < 20


def test_cli_serves_the_example_bases_and_prints_the_connection() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_cascade.testing.cli", "--port", "0",
         "--example-bases"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first, second = proc.stdout.readline(), proc.stdout.readline()
        url = re.search(r"(http://\S+)", first)
        assert url and "repeat window 1 s" in first and "clock x600" in first
        conn = json.loads(second.split("AIRFLOW_CONN_CASCADE_DEFAULT=", 1)[1].strip().strip("'"))
        assert conn["extra"] == {"protocol": "json", "repeat_window": 1.0}

        message = {"send_sms": "1", "sender_sms": "Shop", "text_sms": "#name#",
                   "base": [{"base": "1001"}]}  # fmt: skip
        document = {"login": conn["login"], "password": conn["password"], "message": [message]}
        answer = post(url[1] + "/sendmessagejson.php", json.dumps(document).encode(), JSON)
        (rows,) = json.loads(answer)["message"]
        assert len(rows) == 5 and all(r["id_message"].isdigit() for r in rows)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_example_bases_ship_in_the_package() -> None:
    assert EXAMPLE_BASES.parent == Path(cli.__file__).parent / "emulator"
    bases = json.loads(EXAMPLE_BASES.read_text(encoding="utf-8"))
    assert sorted(bases) == ["1001", "1002", "1003"]
    # the examples' folder points at the same file: one home for the data
    assert (ROOT / "example_dags" / "bases.json").resolve() == EXAMPLE_BASES.resolve()


def test_latency_holds_every_gateway_call_back_by_the_time_given() -> None:
    """A gateway 50 ms away, for tests and benchmarks that measure where users pay."""
    import time as clock

    from airflow_provider_cascade.testing.emulator import CascadeEmulator

    with CascadeEmulator(latency=0.2) as gw:
        url = gw.url
        import urllib.request

        started = clock.monotonic()
        with urllib.request.urlopen(f"{url}/sendmessage.php?login=x&password=y") as r:
            r.read()
        assert clock.monotonic() - started >= 0.2


def test_extra_send_fields_come_in_every_accepted_row_and_the_provider_reads_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A newer gateway's answer (fields the document does not name) reads as the usual one."""
    import json as _json

    import requests

    from airflow_provider_cascade.gateway import SMS, Message
    from airflow_provider_cascade.gateway.codec import HttpResponse
    from airflow_provider_cascade.hooks.cascade import CascadeHook
    from airflow_provider_cascade.testing.emulator import CascadeEmulator

    with CascadeEmulator(extra_send_fields={"route": "7"}) as gw:
        monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", _json.dumps(gw.conn_dict("json")))
        codec = CascadeHook().client.codec
        (batch,) = codec.send_batches([Message([SMS("Hi", "Shop")], ["79000000001"])])
        r = batch.request
        answer = requests.post(r.url, data=r.body, headers=dict(r.headers), timeout=10)
        (row,) = answer.json()["message"][0]
        assert row["route"] == "7"
        (result,) = codec.parse_send(batch, HttpResponse(answer.status_code, answer.content))
        assert result.accepted and result.id_message == row["id_message"]
