"""The block check of a plain phone file agrees with the exact per-row path: what it counts,
the exact path reads without an error; anything unusual is left to the exact path."""

from __future__ import annotations

import gzip
import itertools
import random
from pathlib import Path

import pytest

from airflow_provider_cascade.gateway import CascadeValidationError
from airflow_provider_cascade.ledger import Plan, count_plain_phones, recipient_items

PLAIN = [
    b"phone\n79000000001\n79000000002\n",
    b"phone\r\n79000000001\r\n79000000002\r\n",
    b"\xef\xbb\xbfphone\n79000000001\n",
    b"phone\n79000000001\n79000000002",  # no newline at the end
    b"phone\n 79000000001\t\n\t79000000002 \n   ",
    b"phone\n1234567\n123456789012345\n79000000001\n79000000001\n",  # a repeat is counted
]
UNUSUAL = [
    b"phone\n79000000001\n\n79000000002\n",  # a blank line inside
    b'phone\n"79000000001"\n',
    b"name,phone\nAnna,79000000001\n",
    b"phone,client_id_message\n79000000001,5\n",
    b"phone\n079000000001\n",
    b"phone\n123456\n",
    b"phone\n1234567890123456\n",
    b"phone\n7900000000a\n",
    b"phone\n79000000001\r79000000002\n",
    b"Phone\n79000000001\n",
    b"phone\n+79000000001\n",
    b"phone\n\xd9\xa179000000001\n",
    b"phone\n",
]


def _exact(path: Path) -> int:
    plan = Plan(("d", "r", "t", -1), 1000, allow_repeats=True, derive_ids=False)
    return sum(1 for _ in plan.recipients(0, recipient_items(str(path)), "recipients_file"))


@pytest.mark.parametrize("content", PLAIN)
def test_plain_files_are_counted_like_the_exact_path(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(content)
    assert count_plain_phones(str(path)) == _exact(path) > 0


@pytest.mark.parametrize("content", UNUSUAL)
def test_unusual_files_are_left_to_the_exact_path(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(content)
    assert count_plain_phones(str(path)) is None


def test_json_lines_and_missing_files_are_left_to_the_exact_path(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(PLAIN[0])
    assert count_plain_phones(str(path)) is None
    assert count_plain_phones(str(tmp_path / "nope.csv")) is None


def test_whatever_the_block_check_counts_the_exact_path_reads(tmp_path: Path) -> None:
    """Random files from usual and unusual pieces, across the block boundary."""
    pieces = [b"79000000001", b"79000000002", b"7900000", b" 7900000", b"123456789012345\t",
              b"79000000001", b"0790000000", b"79000000001a",
              b"", b"  ", b'"79000000003"', b"79000000004,1", b"\xd9\xa1"]  # fmt: skip
    ends = [b"\n", b"\n", b"\r\n", b"\r"]
    rng = random.Random(7)
    counted = 0
    for n in range(600):
        lines = [rng.choice(pieces) + rng.choice(ends) for _ in range(rng.randrange(1, 6))]
        path = tmp_path / f"r{n}.csv"
        path.write_bytes(b"phone\n" + b"".join(lines)[: rng.randrange(0, 200)])
        found = count_plain_phones(str(path))
        if found is None:
            continue
        counted += 1
        try:
            assert found == _exact(path), path.read_bytes()
        except CascadeValidationError as exc:
            pytest.fail(f"counted {found} but the exact path refuses: {exc} {path.read_bytes()!r}")
    assert counted >= 30  # the check was really exercised


def test_a_file_larger_than_a_block(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    phones = (f"79{i:09d}\n".encode() for i in range(120_000))  # ~1.4 MB: two blocks
    path.write_bytes(b"phone\n" + b"".join(itertools.islice(phones, 120_000)))
    assert count_plain_phones(str(path)) == 120_000
    path.write_bytes(path.read_bytes() + b"7900\n")  # a bad phone after the first block
    assert count_plain_phones(str(path)) is None


def test_a_line_longer_than_a_block_is_left_to_the_exact_path(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(b"phone\n79000000001\n" + b" " * (2 << 20) + b"79000000002\n")
    assert count_plain_phones(str(path)) is None


def test_a_csv_the_csv_reader_refuses_is_a_validation_error_naming_the_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(b"phone\n79000000001\n" + b" " * (2 << 20) + b"79000000002\n")
    plan = Plan(("d", "r", "t", -1), 1000, derive_ids=False)
    with pytest.raises(CascadeValidationError) as err:
        list(plan.recipients(0, recipient_items(str(path)), "recipients_file"))
    assert err.value.field == "recipients_file" and "line 3" in err.value.rule


@pytest.mark.parametrize(("name", "data", "encoding"), [
    ("r.csv.gz", gzip.compress(PLAIN[0]), "utf-8"),
    ("r.csv", PLAIN[0].decode().encode("utf-16"), "utf-16"),
    ("r.csv", PLAIN[0], "cp1251"),
])  # fmt: skip
def test_compressed_and_other_encodings_are_left_to_the_exact_path(
    tmp_path: Path, name: str, data: bytes, encoding: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    assert count_plain_phones(str(path), encoding) is None
    plan = Plan(("d", "r", "t", -1), 1000, derive_ids=False)
    items = recipient_items(str(path), encoding=encoding)
    assert [r.phone for r in plan.recipients(0, items, "recipients_file")] == [
        "79000000001", "79000000002",
    ]  # fmt: skip
