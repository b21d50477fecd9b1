"""Send windows in each recipient's local time: the next opening, across clock changes and
odd offsets, written in the connection's zone; against the emulator at a frozen clock."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from airflow_provider_cascade.gateway import CascadeValidationError
from airflow_provider_cascade.gateway._windows import SendWindow, opening
from airflow_provider_cascade.operators.cascade import CascadeSendMessageOperator
from airflow_provider_cascade.testing.emulator import CascadeEmulator

from .conftest import context

UTC = timezone.utc
DAY = SendWindow(time(9), time(21))


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "zone", "expected"),
    [
        (at(2027, 3, 28, 0, 30), "Europe/Moscow", at(2027, 3, 28, 6, 0)),
        (at(2027, 3, 28, 0, 30), "Asia/Vladivostok", None),  # 10:30 there: open
        (at(2027, 3, 28, 0, 30), "Asia/Kathmandu", at(2027, 3, 28, 3, 15)),  # +05:45
        (at(2027, 3, 28, 0, 30), "Europe/Berlin", at(2027, 3, 28, 7, 0)),  # CEST after 01:00 UTC
        (at(2027, 3, 27, 20, 0), "Europe/Berlin", at(2027, 3, 28, 7, 0)),  # 21:00 CET: closed
        (at(2027, 3, 27, 20, 0), "Europe/London", None),  # 20:00 GMT: open
        (at(2027, 3, 28, 12, 0), "Asia/Vladivostok", at(2027, 3, 28, 23, 0)),  # 22:00: tomorrow
        (at(2027, 4, 4, 0, 0), "Australia/Lord_Howe", None),  # 11:00 at +11 (DST ends today)
        (at(2027, 4, 3, 11, 0), "Australia/Lord_Howe", at(2027, 4, 3, 22, 30)),  # opens at +10:30
        (at(2027, 4, 4, 11, 0), "Australia/Lord_Howe", at(2027, 4, 4, 22, 30)),  # now at +10:30
    ],
)
def test_next_opening(now: datetime, zone: str, expected: datetime | None) -> None:
    assert DAY.next_opening(now, ZoneInfo(zone)) == expected


def test_an_opening_the_clock_skips_is_the_change_itself() -> None:
    new_york = ZoneInfo("America/New_York")
    assert opening(date(2027, 3, 14), time(2, 30), new_york) == at(2027, 3, 14, 7, 0)  # 03:00 EDT
    assert opening(date(2027, 11, 7), time(1, 30), new_york) == at(2027, 11, 7, 5, 30)  # 1st 01:30


def test_a_window_past_midnight() -> None:
    night = SendWindow.parse(("22:00", "02:00"))
    assert night is not None
    moscow = ZoneInfo("Europe/Moscow")
    assert night.next_opening(at(2027, 1, 1, 20, 0), moscow) is None  # 23:00
    assert night.next_opening(at(2027, 1, 1, 10, 0), moscow) == at(2027, 1, 1, 19, 0)


@pytest.mark.parametrize("bad", ["09:00", ("9", "21:00"), ("09:00", "09:00"), ("25:00", "21:00")])
def test_bad_windows_are_refused(bad: object) -> None:
    with pytest.raises(CascadeValidationError, match="send_window"):
        SendWindow.parse(bad)


FROZEN = at(2027, 3, 28, 0, 30)  # the EU's clock change: Berlin goes from +01 to +02 at 01:00
ZONES = {
    "79010000001": ("Europe/Moscow", "2027-03-28 09:00"),  # 03:30 there
    "79010000002": ("Asia/Vladivostok", None),  # 10:30 there: at once
    "79010000003": ("Europe/Kaliningrad", "2027-03-28 10:00"),  # 02:30 there (+02)
    "79010000004": ("Asia/Kathmandu", "2027-03-28 06:15"),  # 06:15 there (+05:45)
    "79010000005": ("Europe/Berlin", "2027-03-28 10:00"),  # 01:30 CET; opens 09:00 CEST
    "79010000006": ("", "2027-03-28 09:00"),  # no zone: the connection's (Moscow)
}


def test_each_recipient_gets_their_windows_opening_at_a_frozen_clock(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(cascade_gateway.conn_dict("json"))
    )
    recipients = tmp_path / "r.csv"
    recipients.write_text(
        "phone,timezone\n" + "".join(f"{p},{z}\n" for p, (z, _) in ZONES.items()), encoding="utf-8"
    )
    op = CascadeSendMessageOperator(
        task_id="t", channels=[{"channel": "sms", "sender": "Shop", "text": "Hi"}],
        recipients_file=str(recipients), send_window=("09:00", "21:00"), ledger=str(tmp_path / "l"),
    )  # fmt: skip
    pushed: dict[str, object] = {}
    with time_machine.travel(FROZEN, tick=True):
        op.execute(context(pushed))
    received = {d.phone: d.received.get("time_send") or None for d in cascade_gateway.deliveries}
    assert received == {p: when for p, (_, when) in ZONES.items()}
    windows = pushed["estimate"]["by_window"]  # type: ignore[index]
    assert windows == {"2027-03-28 06:15": 1, "2027-03-28 09:00": 2, "2027-03-28 10:00": 2,
                       "now": 1}  # fmt: skip


def test_a_given_time_send_is_checked_against_the_window(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(cascade_gateway.conn_dict("json"))
    )
    op = CascadeSendMessageOperator(
        task_id="t", channels=[{"channel": "sms", "sender": "Shop", "text": "Hi"}],
        phones=["79010000011"], time_send="2027-03-28 23:30", send_window=("09:00", "21:00"),
        default_timezone="Asia/Vladivostok", ledger=str(tmp_path),
    )  # fmt: skip
    with time_machine.travel(FROZEN, tick=True):
        op.execute(context())
    (delivery,) = cascade_gateway.deliveries
    # 23:30 Moscow is 06:30 in Vladivostok: closed; it opens at 09:00 there, 02:00 in Moscow
    assert delivery.received["time_send"] == "2027-03-29 02:00"


def test_a_bad_zone_names_the_item(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(cascade_gateway.conn_dict("json"))
    )
    recipients = tmp_path / "r.csv"
    recipients.write_text("phone,timezone\n79010000021,Europe/Moscow\n79010000022,Mars/Olympus\n")
    op = CascadeSendMessageOperator(
        task_id="t", channels=[{"channel": "sms", "sender": "Shop", "text": "Hi"}],
        recipients_file=str(recipients), send_window=("09:00", "21:00"), ledger=str(tmp_path),
    )  # fmt: skip
    with pytest.raises(
        CascadeValidationError, match=r"recipients_file.timezone: .*r\.csv line 3: .*Mars"
    ):
        op.execute(context())
    assert cascade_gateway.requests == []


def test_over_get_a_window_that_moves_a_time_fails_before_sending(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(cascade_gateway.conn_dict("get")))
    op = CascadeSendMessageOperator(
        task_id="t", channels=[{"channel": "sms", "sender": "Shop", "text": "Hi"}],
        phones=["79010000031"], send_window=("09:00", "21:00"), ledger=str(tmp_path),
    )  # fmt: skip
    with (
        time_machine.travel(FROZEN, tick=True),
        pytest.raises(CascadeValidationError, match="time_send"),
    ):
        op.execute(context())
    assert cascade_gateway.requests == []


def test_a_retry_after_windows_opened_plans_the_same_batches(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # the first try at 00:30 UTC: Moscow, Kaliningrad, Kathmandu, Berlin closed; the retry at
    # 08:00 UTC, every window open: the ledger's batches must match, nobody is sent twice
    conn = cascade_gateway.conn_dict("json", max_recipients=4)  # several batches
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(conn))
    recipients = tmp_path / "r.csv"
    recipients.write_text("phone,timezone\n" + "".join(
        f"7901100{i:04d},{list(ZONES.values())[i % 5][0]}\n" for i in range(30)))  # fmt: skip

    def send() -> dict[str, object]:
        op = CascadeSendMessageOperator(
            task_id="t", channels=[{"channel": "sms", "sender": "Shop", "text": "Hi"}],
            recipients_file=str(recipients), send_window=("09:00", "21:00"),
            ledger=str(tmp_path / "l"),
        )  # fmt: skip
        pushed: dict[str, object] = {}
        op.execute(context(pushed))
        return pushed["send_summary"]  # type: ignore[return-value]

    with time_machine.travel(FROZEN, tick=True):
        first = send()
    with time_machine.travel(at(2027, 3, 28, 8, 0), tick=True):
        again = send()
    assert first["accepted"] == again["accepted"] == 30
    assert set(cascade_gateway.accepted_per_phone().values()) == {1}


def test_shards_keep_each_recipients_zone(tmp_path: Path) -> None:
    from airflow_provider_cascade.ledger import read_recipients, split_recipients_file

    source = tmp_path / "all.csv"
    source.write_text("phone,timezone\n79011000001,Asia/Kathmandu\n79011000002,\n")
    urls = split_recipients_file(str(source), 2, str(tmp_path / "shards"))
    rows = {r["phone"]: r.get("timezone") for u in urls for r in read_recipients(u)}
    assert rows == {"79011000001": "Asia/Kathmandu", "79011000002": None}
