"""Recipient files as users export them: Excel's code page, UTF-16, gzip, blank lines and
quoted newlines, ambiguous headers, huge lines; and files that change under a send."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_cascade.gateway import CascadeValidationError
from airflow_provider_cascade.ledger import LedgerInputChanged, read_messages, read_recipients
from airflow_provider_cascade.operators.cascade import CascadeSendMessageOperator
from airflow_provider_cascade.testing.emulator import CascadeEmulator

from .conftest import make_hook
from .test_sources import SMS, run

EXCEL = "Имя;Фамилия,phone\r\nАнна,79000000001\r\nБорис,79000000002\r\n"


def send_file(path: Path, tmp_path: Path, **kw: Any) -> CascadeSendMessageOperator:
    return CascadeSendMessageOperator(task_id="t", channels=SMS, recipients_file=str(path),
                                      ledger=str(tmp_path / "ledger"), **kw)  # fmt: skip


@pytest.mark.parametrize("encoding", ["cp1251", "utf-16", "utf-8-sig", "utf-8"])
def test_a_file_in_the_encoding_named_is_read(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(EXCEL.encode(encoding))
    rows = list(read_recipients(str(path), encoding=encoding))
    assert rows == [{"phone": "79000000001"}, {"phone": "79000000002"}]


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (EXCEL.encode("cp1251"), 1),  # Excel in a Russian locale, read as UTF-8
        (b"phone,name\n79000000001,a\n\n79000000002,\xff\xfe\n", 4),
        (EXCEL.encode("utf-16"), 1),
    ],
)
def test_a_file_that_does_not_decode_is_a_validation_error_naming_file_and_line(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: bytes, line: int
) -> None:
    """Was: a raw UnicodeDecodeError, no file, no line, and retried as if transient."""
    make_hook(monkeypatch, gw, "json")
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    with pytest.raises(CascadeValidationError) as err:
        run(send_file(path, tmp_path))
    assert f"export.csv line {line}: does not decode as utf-8" in err.value.rule
    assert "encoding='cp1251'" in err.value.rule
    assert gw.requests == []


def test_an_unknown_encoding_is_refused_when_the_dag_is_built(tmp_path: Path) -> None:
    with pytest.raises(CascadeValidationError, match="encoding: 'latin-9' is not a text encoding"):
        send_file(tmp_path / "r.csv", tmp_path, encoding="latin-9")


def test_gzip_files_are_read_by_their_extension(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    make_hook(monkeypatch, gw, "json")
    csv = tmp_path / "r.csv.gz"
    csv.write_bytes(gzip.compress(b"phone\n79000000001\n79000000002\n"))
    ref, _ = run(send_file(csv, tmp_path))
    assert ref["accepted"] == 2
    jsonl = tmp_path / "r.jsonl.gz"
    jsonl.write_bytes(gzip.compress(b'{"phone": "79000000003"}\n'))
    assert list(read_recipients(str(jsonl))) == [{"phone": "79000000003"}]
    messages = tmp_path / "m.jsonl.gz"
    line = {"send_sms": 1, "sender_sms": "S", "text_sms": "a", "phones": [{"phone": "79000000004"}]}
    messages.write_bytes(gzip.compress(json.dumps(line).encode("utf-16"), 1))
    assert [m.recipients[0].phone for _, m in read_messages(str(messages), "utf-16")] == [
        "79000000004"
    ]


def test_a_damaged_gzip_file_is_a_validation_error(tmp_path: Path) -> None:
    path = tmp_path / "r.csv.gz"
    path.write_bytes(gzip.compress(b"phone\n" + b"79000000001\n" * 50_000)[:-20])
    with pytest.raises(CascadeValidationError, match=r"r\.csv\.gz line \d+: the gzip data"):
        list(read_recipients(str(path)))


def test_errors_count_physical_lines(tmp_path: Path) -> None:
    """Was: "item 3", counting data rows (wrong after blank lines and quoted newlines)."""
    path = tmp_path / "r.csv"
    path.write_text('name,phone\n"two\nlines",79000000001\n\n\nAnna,79000000002\n"x",7900\n')
    with pytest.raises(CascadeValidationError) as err:
        list(_plan_rows(path))
    assert f"{path} line 7: phone: must be 7 to 15 digits" in err.value.rule
    path.write_text('name,phone\n\n"Anna\nand Boris",7900\n')  # the row's first line is named
    with pytest.raises(CascadeValidationError, match=r"r\.csv line 3: phone: must be 7 to 15"):
        list(_plan_rows(path))
    jsonl = tmp_path / "r.jsonl"
    jsonl.write_text('{"phone": "79000000001"}\n\n\n{"phone": "12"}\n')
    with pytest.raises(CascadeValidationError, match=r"r\.jsonl line 4: phone: must be 7"):
        list(_plan_rows(jsonl))


def _plan_rows(path: Path) -> Any:
    from airflow_provider_cascade.ledger import Plan, recipient_items

    plan = Plan(("d", "r", "t", -1), 1000, derive_ids=False)
    return plan.recipients(0, recipient_items(str(path)), "recipients_file")


@pytest.mark.parametrize(
    "header",
    ["phone,phone", "phone, phone", "Phone,phone", "phone,client_id_message,Client_Id_Message"],
)
def test_ambiguous_headers_are_refused(tmp_path: Path, header: str) -> None:
    """Was: ``phone,phone`` silently dropped the second column."""
    path = tmp_path / "r.csv"
    path.write_text(f"{header}\n79000000001,79000000002,1\n")
    with pytest.raises(CascadeValidationError, match=r"r\.csv line 1: the header names '\w+' 2"):
        list(read_recipients(str(path)))


def test_a_json_line_past_the_cap_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    from airflow_provider_cascade.ledger import recipient_items

    path = tmp_path / "r.jsonl"
    path.write_text('{"phone": "79000000001"}\n{"phone": "' + "7" * 5000 + '"}\n')
    with pytest.raises(CascadeValidationError, match=r"r\.jsonl line 2: longer than 4,096 char"):
        list(recipient_items(str(path), max_line=4096))
    with pytest.raises(CascadeValidationError, match=r"m\.jsonl line 1: longer than 4,096 char"):
        (tmp_path / "m.jsonl").write_text("{" + " " * 5000 + "}\n")
        list(read_messages(str(tmp_path / "m.jsonl"), max_line=4096))


def test_the_default_line_cap_holds_for_the_send(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    make_hook(monkeypatch, gw, "json")
    path = tmp_path / "r.jsonl"
    path.write_text('{"phone": "79000000001"}\n{"phone": "' + " " * (17 << 20) + '"}\n')
    with pytest.raises(CascadeValidationError, match=r"line 2: longer than 16,777,216"):
        run(send_file(path, tmp_path))
    assert gw.requests == []


# -- a file that changes --------------------------------------------------------------------
def test_rows_appended_between_tries_stop_the_send(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Was: the next try sent the appended rows without a word."""
    make_hook(monkeypatch, gw, "json")
    path = tmp_path / "r.csv"
    path.write_text("phone\n79000000001\n79000000002\n")
    ref, _ = run(send_file(path, tmp_path))
    assert ref["accepted"] == 2
    assert json.loads((Path(ref["cascade_ledger"]) / "input.json").read_text())["size"] == 30
    with path.open("a") as f:
        f.write("79000000003\n")
    sent = len(gw.requests)
    with pytest.raises(LedgerInputChanged, match=r"r\.csv is not the file an earlier try"):
        run(send_file(path, tmp_path))
    assert len(gw.requests) == sent


def test_a_file_changed_between_the_check_and_the_send_sends_nothing(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    make_hook(monkeypatch, gw, "json")
    path = tmp_path / "r.csv"
    path.write_text("phone\n" + "".join(f"7968{k:07d}\n" for k in range(3000)))
    op = send_file(path, tmp_path)
    checked = op._dry_run

    def check_then_change(*args: Any) -> tuple[int, int]:
        out = checked(*args)
        with path.open("a") as f:
            f.write("7900\n")  # a bad row, past the rows already checked
        return out

    monkeypatch.setattr(op, "_dry_run", check_then_change)
    with pytest.raises(LedgerInputChanged, match="changed while it was being read"):
        run(op)
    assert gw.requests == []


def test_a_file_changed_during_the_send_stops_it_as_changed_input(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Was: reported as bad input after 2,000 people were messaged."""
    make_hook(monkeypatch, gw, "json")
    path = tmp_path / "r.csv"
    path.write_text("phone\n" + "".join(f"7969{k:07d}\n" for k in range(3500)))
    op = send_file(path, tmp_path)
    client = op.hook.client
    real = client.send_request

    def send_then_change(*args: Any, **kw: Any) -> Any:
        out = real(*args, **kw)
        if len(gw.requests) == 1:
            text = path.read_text().replace("79690002999", "7969000299x")
            path.write_text(text + "79000000001\n")
        return out

    monkeypatch.setattr(client, "send_request", send_then_change)
    with pytest.raises(LedgerInputChanged, match="changed while it was being read"):
        run(op)
    assert 0 < len(gw.requests) < 4
