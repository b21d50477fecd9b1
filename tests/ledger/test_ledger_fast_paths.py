"""The ledger's fast paths (direct formatting, a hashed client-id prefix, a plain CSV reader)
must write and read exactly what the plain ones do: a resumed try compares fingerprints and
client ids with what an earlier try (or an earlier release) wrote."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest

from airflow_provider_cascade.gateway import CascadeValidationError
from airflow_provider_cascade.ledger import Fate, Plan, read_recipients, stable_client_id
from airflow_provider_cascade.ledger._client_ids import client_id_maker
from airflow_provider_cascade.ledger._records import (
    Entry,
    Row,
    accepted_lines,
    digest,
    entry_line,
    intent_lines,
    outcome_lines,
)

rng = random.Random(16)


def plain(obj: dict[str, object]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def test_client_id_maker_gives_the_stable_ids() -> None:
    for _ in range(300):
        prefix = ("dag", f"run {rng.random()}", "task", rng.choice([-1, 0, 7]), rng.randrange(5))
        make = client_id_maker(*prefix)
        phone, nth = f"79{rng.randrange(10**9):09d}", rng.randrange(3)
        assert make(phone, nth) == stable_client_id(*prefix, phone, nth)


ENTRIES = [
    Entry(0, "79000000001", "123"),
    Entry(3, "79000000002"),
    Entry(1, base="55"),
    Entry(2, "79000000003", 'x"y'),  # not digits: the generic encoder
]


@pytest.mark.parametrize("entry", ENTRIES)
def test_entry_lines_are_the_plain_json(entry: Entry) -> None:
    assert entry_line(9, entry) == plain(entry.to_json(9))


def test_digest_is_the_one_earlier_tries_wrote() -> None:
    h = hashlib.sha256()
    for e in ENTRIES:
        h.update(f"{e.message}\x1f{e.phone}\x1f{e.cid}\x1f{e.base}\x1e".encode())
    assert digest(ENTRIES) == h.hexdigest()[:32]


def test_intent_with_preformatted_lines_equals_the_plain_one() -> None:
    lines = [entry_line(i, e) for i, e in enumerate(ENTRIES)]
    indexes = list(range(len(ENTRIES)))
    with_lines = list(intent_lines(1, 1, 5.0, ENTRIES, indexes, digest(ENTRIES), lines))
    without = list(intent_lines(1, 1, 5.0, ENTRIES, indexes))
    assert with_lines == without
    assert json.loads(without[0])["digest"] == digest(ENTRIES)


def test_outcome_fast_rows_equal_the_plain_json() -> None:
    rows = [
        (0, Row(Fate.ACCEPTED, "777")),
        (1, Row(Fate.IN_FLIGHT)),
        (2, Row(Fate.ACCEPTED, "778", already=True)),
        (3, Row(Fate.REJECTED, None, "стоп-лист")),
        (4, Row(Fate.ACCEPTED, "id-not-digits")),
    ]
    body = list(outcome_lines(1, 1, 5.0, "answered", rows))[1:-1]
    expected = [
        {"i": 0, "fate": "accepted", "id": "777"},
        {"i": 1, "fate": "in_flight"},
        {"i": 2, "fate": "accepted", "id": "778", "already": True},
        {"i": 3, "fate": "rejected", "error": "стоп-лист"},
        {"i": 4, "fate": "accepted", "id": "id-not-digits"},
    ]
    assert body == [plain(x) for x in expected]


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


def test_the_accepted_outcome_equals_the_plain_one() -> None:
    rows = [(0, Row(Fate.ACCEPTED, "777")), (5, Row(Fate.ACCEPTED, "9001234567"))]
    plain_lines = list(outcome_lines(3, 2, 5.0, "answered", rows))
    fast = accepted_lines(3, 2, 5.0, "answered", [(0, "777"), (5, "9001234567")])
    assert fast == plain_lines
    assert accepted_lines(3, 2, 5.0, "answered", []) == list(
        outcome_lines(3, 2, 5.0, "answered", [])
    )
