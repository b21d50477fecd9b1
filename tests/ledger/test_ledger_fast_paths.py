"""What a resumed try compares with an earlier try's records (fingerprints, client ids), and
the recipient input as spreadsheets write it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from airflow_provider_cascade.gateway import CascadeValidationError
from airflow_provider_cascade.ledger import Plan, read_recipients, stable_client_id
from airflow_provider_cascade.ledger._records import Entry, digest

ENTRIES = [
    Entry(0, "79000000001", "123"),
    Entry(3, "79000000002"),
    Entry(1, base="55"),
    Entry(2, "79000000003", 'x"y'),
]


def test_digest_is_the_one_earlier_tries_wrote() -> None:
    h = hashlib.sha256()
    for e in ENTRIES:
        h.update(f"{e.message}\x1f{e.phone}\x1f{e.cid}\x1f{e.base}\x1e".encode())
    assert digest(ENTRIES) == h.hexdigest()[:32]


def test_csv_reader_handles_what_spreadsheets_write(tmp_path: Path) -> None:
    csv = tmp_path / "r.csv"
    csv.write_bytes(
        "\ufeffname, phone ,client_id_message\r\n"
        '"Ivanov, I.",79000000001,15\r\n'
        "short\r\n"
        "Petrov,79000000002,\r\n"
        '"two\nlines",79000000003\r\n'.encode()
    )
    assert list(read_recipients(str(csv))) == [
        {"phone": "79000000001", "client_id_message": "15"},
        {"phone": "79000000002"},
        {"phone": "79000000003"},
    ]


def test_plan_validates_each_recipient_once_and_names_the_item() -> None:
    plan = Plan(("d", "r", "t", -1), 10)
    got = list(plan.recipients(0, ["79000000001", 79000000002, {"phone": "79000000001"}], "phones"))
    assert [r.phone for r in got] == ["79000000001", "79000000002"]
    assert got[0].client_id_message == stable_client_id("d", "r", "t", -1, 0, "79000000001", 0)
    assert plan.repeats_skipped == 1
    for bad, rule in (("7900", "7 to 15 digits"), ("７９０００００００００１", "7 to 15 digits"),
                      ({"phone": "79000000001", "name": "x"}, "unknown field")):  # fmt: skip
        with pytest.raises(CascadeValidationError, match=rule) as info:
            list(Plan(("d", "r", "t", -1), 10).recipients(0, ["79000000009", bad], "phones"))
        assert info.value.field == "phones" and "item 2" in info.value.rule
