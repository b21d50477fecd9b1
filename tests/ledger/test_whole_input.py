"""Every check over the whole input before the first request: what the codec would refuse in
any request (a client id given twice anywhere included) fails with nothing sent, naming the
file, its line and the rule; the split runs the same check before any shard exists."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from airflow_provider_cascade.gateway import CascadeValidationError, Message
from airflow_provider_cascade.ledger import Plan, recipient_items, split_recipients_file
from airflow_provider_cascade.operators.cascade import (
    CascadeSendMessageOperator,
    CascadeSplitRecipientsOperator,
)
from airflow_provider_cascade.testing.emulator import CascadeEmulator

from .conftest import make_hook
from .test_sources import SMS, context, run


def cid_csv(path: Path, rows: int, same: tuple[int, int]) -> Path:
    """``rows`` recipients with their own client ids; rows ``same`` share one (row k is on
    line k + 1, after the header)."""
    lines = ["phone,client_id_message"]
    for k in range(1, rows + 1):
        cid = same[0] if k == same[1] else k
        lines.append(f"7963{k:07d},{cid}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("protocol", ["json", "xml"])
def test_client_ids_repeated_across_requests_send_nothing(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, protocol: str
) -> None:
    """Was: the check passed, 1,000 people were messaged, then request 2 was refused."""
    make_hook(monkeypatch, gw, protocol)
    path = cid_csv(tmp_path / "crm.csv", 1500, (1101, 1401))
    op = CascadeSendMessageOperator(task_id="t", channels=SMS, recipients_file=str(path),
                                    ledger=str(tmp_path / "ledger"))  # fmt: skip
    with pytest.raises(CascadeValidationError) as err:
        run(op)
    rule = err.value.rule
    assert err.value.field == "recipients_file"
    assert "crm.csv line 1402: client_id_message 1101 is also given at line 1102" in rule
    assert gw.requests == []


def test_client_ids_repeated_in_requests_one_and_two_send_nothing(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    make_hook(monkeypatch, gw, "json")
    path = cid_csv(tmp_path / "crm.csv", 1500, (7, 1200))
    op = CascadeSendMessageOperator(task_id="t", channels=SMS, recipients_file=str(path),
                                    ledger=str(tmp_path / "ledger"))  # fmt: skip
    with pytest.raises(CascadeValidationError, match=r"line 1201: client_id_message 7 .* line 8"):
        run(op)
    assert gw.requests == []


def test_a_long_message_in_a_messages_file_repeating_a_client_id_sends_nothing(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    make_hook(monkeypatch, gw, "json")
    phones = [{"phone": f"7964{k:07d}", "client_id_message": k} for k in range(1, 1501)]
    phones[1400]["client_id_message"] = 1100
    first = {
        "send_sms": 1,
        "sender_sms": "S",
        "text_sms": "a",
        "phones": [{"phone": "79000000001"}],
    }
    long = {"send_sms": 1, "sender_sms": "S", "text_sms": "b", "phones": phones}
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps(first) + "\n\n" + json.dumps(long) + "\n")
    op = CascadeSendMessageOperator(task_id="t", messages_file=str(path), ledger=str(tmp_path))
    with pytest.raises(CascadeValidationError) as err:
        run(op)
    assert "m.jsonl line 3, phones item 1401: client_id_message 1100" in err.value.rule
    assert "line 3, phones item 1100" in err.value.rule
    assert gw.requests == []


def test_messages_repeating_a_client_id_across_requests_send_nothing(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    make_hook(monkeypatch, gw, "json")
    many = [{"phone": f"7965{k:07d}", "client_id_message": k} for k in range(1, 1201)]
    messages = [
        {"send_sms": 1, "sender_sms": "S", "text_sms": "a", "phones": many},
        {"send_sms": 1, "sender_sms": "S", "text_sms": "b",
         "phones": [{"phone": "79000000009", "client_id_message": 3}]},
    ]  # fmt: skip
    op = CascadeSendMessageOperator(task_id="t", messages=messages, ledger=str(tmp_path))
    with pytest.raises(
        CascadeValidationError, match=r"message\[1\] item 1: .* message\[0\] item 3"
    ) as err:
        run(op)
    assert err.value.field == "messages[1].phones"
    assert gw.requests == []


def test_a_later_share_of_a_long_get_message_must_fit_the_url(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Over GET the URL room depends on the longest phone of each request: a 15-digit phone
    in a later share of a message could not be sent, found before the first request."""
    codec = make_hook(monkeypatch, gw, "get").client.codec
    size = codec.settings.max_url_length
    while True:  # the longest text leaving room for an 11-digit phone
        sms = [{"channel": "sms", "sender": "Shop", "text": "x" * size}]
        try:
            codec.send_batches([Message(sms, ["79000000001"])])
            break
        except CascadeValidationError:
            size -= 1
    with pytest.raises(CascadeValidationError):
        codec.send_batches([Message(sms, ["796600000012345"])])
    phones = [f"7966{k:07d}" for k in range(3000)] + ["796600000012345"]
    path = tmp_path / "r.csv"
    path.write_text("phone\n" + "\n".join(phones) + "\n")
    op = CascadeSendMessageOperator(task_id="t", channels=sms, recipients_file=str(path),
                                    ledger=str(tmp_path / "ledger"))  # fmt: skip
    with pytest.raises(CascadeValidationError, match="GET URL would exceed"):
        run(op)
    assert gw.requests == []


def test_given_client_ids_are_kept_in_flat_arrays(tmp_path: Path) -> None:
    """16 bytes a recipient (a million: 16 MB), not a set of strings (about 100)."""
    path = tmp_path / "big.csv"
    with path.open("w") as f:
        f.write("phone,client_id_message\n")
        f.writelines(f"79{k:09d},{k + 1}\n" for k in range(100_000))
        f.write("79999999999,5\n")
    plan = Plan(("d", "r", "t", -1), 1000, derive_ids=False, check_ids=True)
    for _ in plan.recipients(0, recipient_items(str(path)), "recipients_file"):
        pass
    ids = plan.given_ids
    assert len(ids.ids) == 100_001
    assert sys.getsizeof(ids.ids) + sys.getsizeof(ids.places) < 17 * 100_001
    with pytest.raises(CascadeValidationError, match=r"line 100002: client_id_message 5 .* line 6"):
        plan.check_client_ids()


# -- the split ------------------------------------------------------------------------------
def test_the_split_checks_the_whole_file_before_any_shard(tmp_path: Path) -> None:
    """Was: 4 shards written, 3 sent, one failing at "item 626" of its shard."""
    lines = [f"7967{k:07d}" for k in range(4000)]
    lines[2500] = "7967000x"  # line 2502 of the file, after the header
    path = tmp_path / "all.csv"
    path.write_text("phone\n" + "\n".join(lines) + "\n")
    shards = tmp_path / "shards"
    with pytest.raises(CascadeValidationError) as err:
        split_recipients_file(str(path), 4, str(shards))
    assert "all.csv line 2502: phone: must be 7 to 15 digits" in err.value.rule
    assert not shards.exists() or not list(shards.iterdir())


def test_the_split_refuses_client_ids_given_twice_in_the_file(tmp_path: Path) -> None:
    path = cid_csv(tmp_path / "crm.csv", 3000, (10, 2999))
    shards = tmp_path / "shards"
    with pytest.raises(CascadeValidationError, match=r"crm\.csv line 3000: client_id_message 10"):
        split_recipients_file(str(path), 4, str(shards))
    assert not shards.exists() or not list(shards.iterdir())


def test_the_split_operator_names_the_original_file_and_reads_its_encoding(
    tmp_path: Path,
) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("Имя,phone\r\nАнна,79000000001\r\nБорис,79000000002\r\n".encode("cp1251"))
    op = CascadeSplitRecipientsOperator(task_id="s", recipients_file=str(path), shards=2,
                                        destination=str(tmp_path / "out"), encoding="cp1251")  # fmt: skip
    urls: list[str] = op.execute(context({}))  # type: ignore[arg-type]
    assert sorted(p for u in urls for p in Path(u).read_text().split() if p[0] == "7") == [
        "79000000001,,",
        "79000000002,,",
    ]  # phone, client_id_message, timezone
    bad = CascadeSplitRecipientsOperator(task_id="s", recipients_file=str(path), shards=2,
                                         destination=str(tmp_path / "out2"))  # fmt: skip
    with pytest.raises(CascadeValidationError, match=r"excel\.csv line 1: does not decode"):
        bad.execute(context({}))  # type: ignore[arg-type]
    assert not (tmp_path / "out2").exists() or not list((tmp_path / "out2").iterdir())


def test_a_file_changed_while_it_is_split_fails_the_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_cascade.ledger import LedgerInputChanged, _shards

    path = tmp_path / "all.csv"
    path.write_text("phone\n79000000001\n79000000002\n")
    checked = _shards.check_recipients_file

    def check_then_append(url: str, encoding: str | None = None) -> int:
        out = checked(url, encoding)
        with path.open("a") as f:
            f.write("79000000003\n")
        return out

    monkeypatch.setattr(_shards, "check_recipients_file", check_then_append)
    with pytest.raises(LedgerInputChanged, match=r"all\.csv changed while it was being checked"):
        split_recipients_file(str(path), 2, str(tmp_path / "shards"))


def test_inline_phones_repeating_a_client_id_across_requests_send_nothing(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    make_hook(monkeypatch, gw, "xml")
    phones = [{"phone": f"7971{k:07d}", "client_id_message": k} for k in range(1, 1201)]
    phones[1149]["client_id_message"] = 5
    op = CascadeSendMessageOperator(task_id="t", channels=SMS, phones=phones, ledger=str(tmp_path))
    with pytest.raises(CascadeValidationError) as err:
        run(op)
    assert err.value.field == "phones"
    assert "item 1150: client_id_message 5 is also given at item 5" in err.value.rule
    assert gw.requests == []


def test_a_json_lines_file_repeating_a_client_id_names_both_lines(
    gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    make_hook(monkeypatch, gw, "json")
    rows = [{"phone": f"7972{k:07d}", "client_id_message": str(k)} for k in range(1, 1301)]
    rows[1250]["client_id_message"] = "0012"  # the same number as 12, written otherwise
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    op = CascadeSendMessageOperator(task_id="t", channels=SMS, recipients_file=str(path),
                                    ledger=str(tmp_path / "ledger"))  # fmt: skip
    with pytest.raises(
        CascadeValidationError, match=r"line 1251: client_id_message 12 .* line 12;"
    ):
        run(op)
    assert gw.requests == []
