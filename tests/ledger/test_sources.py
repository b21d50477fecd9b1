"""What goes into a send, checked before any request: files of recipients and messages,
repeats, and a time_send in the past. Operators run with a small context (no Airflow process)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pendulum
import pytest

from airflow_provider_cascade.gateway import CascadeValidationError
from airflow_provider_cascade.ledger import read_recipients, split_recipients_file
from airflow_provider_cascade.operators.cascade import CascadeSendMessageOperator
from airflow_provider_cascade.testing.emulator import CascadeEmulator

from .conftest import make_hook

SMS = [{"channel": "sms", "sender": "Shop", "text": "Hi"}]


def context(pushed: dict[str, Any], run_id: str = "r") -> dict[str, Any]:
    ti = SimpleNamespace(dag_id="d", run_id=run_id, task_id="t", map_index=-1, try_number=1,
                         xcom_push=lambda key, value: pushed.__setitem__(key, value))  # fmt: skip
    return {"ti": ti}


def run(op: CascadeSendMessageOperator) -> tuple[Any, dict[str, Any]]:
    pushed: dict[str, Any] = {}
    return op.execute(context(pushed)), pushed  # type: ignore[arg-type]


def test_csv_and_json_lines_recipients(tmp_path: Path) -> None:
    csv = tmp_path / "r.csv"
    csv.write_text("name,phone,client_id_message\nAnna,79000000001,17\nBoris, 79000000002 ,\n\n")
    assert list(read_recipients(str(csv))) == [
        {"phone": "79000000001", "client_id_message": "17"},
        {"phone": "79000000002"},
    ]
    jsonl = tmp_path / "r.jsonl"
    jsonl.write_text('{"phone": "79000000003"}\n\n{"phone": 79000000004}\n')
    assert [r["phone"] for r in read_recipients(str(jsonl))] == ["79000000003", 79000000004]


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        ("no_phone.csv", "name\nAnna\n", "needs a 'phone' column"),
        ("bad.jsonl", '{"phone": "79000000001"}\nnot json\n', "line 2 is not JSON"),
        ("list.jsonl", "[1, 2]\n", "line 1 must be an object"),
    ],
)
def test_bad_recipient_files_name_the_line(
    tmp_path: Path, name: str, text: str, match: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(CascadeValidationError, match=match):
        list(read_recipients(str(path)))


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(CascadeValidationError, match="does not exist"):
        list(read_recipients(str(tmp_path / "nope.csv")))


def test_bad_phone_deep_in_a_file_sends_nothing(
    strict_emulator: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    gw = strict_emulator
    gw.reset()
    make_hook(monkeypatch, gw, "json")
    csv = tmp_path / "r.csv"
    csv.write_text("phone\n" + "".join(f"7960{i:07d}\n" for i in range(2500)) + "12ab\n")
    op = CascadeSendMessageOperator(task_id="t", channels=SMS, recipients_file=str(csv),
                                    ledger=str(tmp_path / "ledger"))  # fmt: skip
    with pytest.raises(CascadeValidationError, match=r"r\.csv line 2502: phone: must be 7 to 15"):
        run(op)
    assert gw.requests == []


@pytest.mark.parametrize(
    "time_send",
    [
        pendulum.now("UTC").subtract(hours=2),
        pendulum.now("Europe/Moscow").subtract(minutes=30).strftime("%Y-%m-%d %H:%M"),
    ],
)
def test_a_time_send_in_the_past_is_refused_before_sending(
    strict_emulator: CascadeEmulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    time_send: Any,
) -> None:
    gw = strict_emulator
    gw.reset()
    make_hook(monkeypatch, gw, "json")
    op = CascadeSendMessageOperator(task_id="t", channels=SMS, phones=["79000000001"],
                                    time_send=time_send, ledger=str(tmp_path))  # fmt: skip
    with pytest.raises(CascadeValidationError, match="in the past"):
        run(op)
    assert gw.requests == []


def test_a_time_send_just_now_or_later_is_sent(
    strict_emulator: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    gw = strict_emulator
    gw.reset()
    make_hook(monkeypatch, gw, "json")
    for n, when in enumerate(
        [pendulum.now("UTC").subtract(minutes=2), pendulum.now("UTC").add(days=1)]
    ):
        op = CascadeSendMessageOperator(task_id="t", channels=SMS, phones=[f"7900000000{n}"],
                                        time_send=when, ledger=str(tmp_path / str(n)))  # fmt: skip
        ids, _ = run(op)
        assert len(ids) == 1


def test_messages_file_with_a_past_time_send_names_its_line(
    strict_emulator: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    gw = strict_emulator
    gw.reset()
    make_hook(monkeypatch, gw, "json")
    lines = [
        {"send_sms": 1, "sender_sms": "S", "text_sms": "a", "phones": [{"phone": "79000000001"}]},
        {"send_sms": 1, "sender_sms": "S", "text_sms": "b", "phones": [{"phone": "79000000002"}],
         "time_send": "2020-01-01 10:00"},
    ]  # fmt: skip
    path = tmp_path / "m.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines))
    op = CascadeSendMessageOperator(task_id="t", messages_file=str(path), ledger=str(tmp_path))
    with pytest.raises(
        CascadeValidationError, match=r"message\[1\]\.time_send.*in the past"
    ) as err:
        run(op)
    assert "m.jsonl line 2: " in err.value.rule
    assert gw.requests == []


def test_messages_file_sends_and_returns_a_reference(
    strict_emulator: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    gw = strict_emulator
    gw.reset()
    make_hook(monkeypatch, gw, "xml")
    path = tmp_path / "m.jsonl"
    path.write_text("\n".join(
        json.dumps({"send_sms": 1, "sender_sms": "S", "text_sms": f"Hi {i}",
                    "phones": [{"phone": f"7961{i:07d}"}, {"phone": f"7961{i:07d}"}]})
        for i in range(1500)
    ))  # fmt: skip
    ref, pushed = run(CascadeSendMessageOperator(task_id="t", messages_file=str(path),
                                                 ledger=str(tmp_path / "ledger")))  # fmt: skip
    assert ref["accepted"] == 1500 and ref["total"] == 1500  # each line's repeat sent once
    assert "send_results" not in pushed and pushed["send_summary"]["accepted"] == 1500
    assert len(gw.accepted_per_phone()) == 1500


def test_shards_keep_a_phone_in_one_shard(tmp_path: Path) -> None:
    csv = tmp_path / "r.csv"
    phones = [f"7962{i:07d}" for i in range(1000)]
    csv.write_text("phone\n" + "\n".join(phones + phones[:10]) + "\n")
    urls = split_recipients_file(str(csv), 4, str(tmp_path / "shards"))
    seen: dict[str, set[int]] = {}
    for n, url in enumerate(urls):
        for row in read_recipients(url):
            seen.setdefault(row["phone"], set()).add(n)
    assert set(seen) == set(phones) and all(len(s) == 1 for s in seen.values())
    assert all(len(list(read_recipients(u))) > 150 for u in urls)  # spread, not lumped
    with pytest.raises(CascadeValidationError, match="shards"):
        split_recipients_file(str(csv), 0)


def test_waiting_inside_a_file_send_is_refused_when_the_dag_is_built() -> None:
    with pytest.raises(
        CascadeValidationError, match=r"wait_for_completion.*CascadeMessageStateSensor"
    ):
        CascadeSendMessageOperator(task_id="t", channels=SMS, recipients_file="r.csv",
                                   wait_for_completion=True)  # fmt: skip
