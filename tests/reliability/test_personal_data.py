"""Phone numbers are personal data: with ``mask_phones`` (connection extra, or the operator's
argument) they are shown as ``79*****0001`` in the task log, XCom ``send_summary``,
``summary.json`` and error texts; credentials in a ledger URL are never logged or pushed."""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_cascade.gateway import CascadeValidationError
from airflow_provider_cascade.gateway._privacy import mask_phone
from airflow_provider_cascade.gateway.codec import redact_url
from airflow_provider_cascade.operators.cascade import CascadeSendMessageOperator
from airflow_provider_cascade.testing.emulator import CascadeEmulator

A, B, C = "79001112233", "79004445566", "79007778899"
SMS = [{"channel": "sms", "sender": "Shop", "text": "hi"}]


def conn(gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, protocol: str, **extra: Any) -> None:
    c = gw.conn_dict(protocol, retry_limit=0, repeat_window=0, **extra)
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(c))


def execute(op: CascadeSendMessageOperator, run_id: str = "r") -> tuple[Any, dict[str, Any]]:
    pushed: dict[str, Any] = {}

    def push(key: str, value: Any) -> None:
        pushed[key] = value

    ti = SimpleNamespace(dag_id="d", run_id=run_id, task_id="t", map_index=-1, try_number=1,
                         xcom_push=push)  # fmt: skip
    return op.execute({"ti": ti}), pushed  # type: ignore[arg-type]


class Seen:
    def __init__(self, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]):
        caplog.set_level(logging.INFO)
        self.caplog, self.capsys = caplog, capsys

    def text(self) -> str:
        out = self.capsys.readouterr()
        return self.caplog.text + out.out + out.err


@pytest.fixture
def seen(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> Seen:
    return Seen(caplog, capsys)


def rejected_answer(*phones: str) -> bytes:
    rows = [{"phone": p, "error": f"номер {p} в стоп-листе"} for p in phones]
    return json.dumps({"message": [rows]}).encode()


def test_masked_phones_in_log_xcom_and_summary(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    seen: Seen, figures: Counter[str],
) -> None:  # fmt: skip
    """Was: repeats, first errors and summary.json named every phone in full."""
    conn(cascade_gateway, monkeypatch, "json", mask_phones=True)
    cascade_gateway.faults.reply_next(rejected_answer(A, B))
    op = CascadeSendMessageOperator(task_id="t", channels=SMS, phones=[A, A, B],
                                    ledger=str(tmp_path), max_failure_ratio=1)  # fmt: skip
    _, pushed = execute(op)
    summary = next(tmp_path.rglob("summary.json")).read_text()
    shown = {"log": seen.text(), "xcom": json.dumps(pushed["send_summary"]), "summary": summary}
    for where, text in shown.items():
        assert A not in text and B not in text, where
        figures["places phones are masked"] += 1
    assert mask_phone(A) in shown["log"] and mask_phone(A) in summary  # still told apart
    assert "79*****2233" in shown["log"]


def test_untracked_samples_are_masked(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, seen: Seen
) -> None:
    conn(cascade_gateway, monkeypatch, "get", mask_phones="true")
    cascade_gateway.faults.reset_next()  # GET cannot resend a lost answer: untracked
    op = CascadeSendMessageOperator(task_id="t", channels=SMS, phones=[C], ledger=str(tmp_path))
    _, pushed = execute(op)
    assert pushed["send_summary"]["untracked"] == 1
    assert pushed["send_summary"]["untracked_sample"] == [mask_phone(C)]
    summary = json.loads(next(tmp_path.rglob("summary.json")).read_text())
    assert summary["untracked_sample"] == [mask_phone(C)]
    assert C not in seen.text()


def test_validation_errors_mask_the_phone(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    conn(cascade_gateway, monkeypatch, "json", mask_phones=True)
    bad = "790011122334455667"
    op = CascadeSendMessageOperator(task_id="t", channels=SMS, phones=[A, bad],
                                    ledger=str(tmp_path))  # fmt: skip
    with pytest.raises(CascadeValidationError) as err:
        execute(op)
    assert bad not in str(err.value)
    assert mask_phone(bad) in str(err.value)
    csv = tmp_path / "r.csv"
    csv.write_text(f"phone\n{A}\n{bad}\n")
    op = CascadeSendMessageOperator(task_id="t", channels=SMS, recipients_file=str(csv),
                                    ledger=str(tmp_path / "l"))  # fmt: skip
    with pytest.raises(CascadeValidationError, match=r"r\.csv line 3") as err:
        execute(op)
    assert bad not in str(err.value)
    assert cascade_gateway.requests == []


def test_the_operator_argument_overrides_the_connection(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, seen: Seen
) -> None:
    conn(cascade_gateway, monkeypatch, "json", mask_phones=True)
    op = CascadeSendMessageOperator(task_id="t", channels=SMS, phones=[A, A], mask_phones=False,
                                    ledger=str(tmp_path))  # fmt: skip
    execute(op)
    assert f"e.g. {A}" in seen.text()
    conn(cascade_gateway, monkeypatch, "json")
    op = CascadeSendMessageOperator(task_id="t", channels=SMS, phones=[B, B], mask_phones=True,
                                    ledger=str(tmp_path / "2"))  # fmt: skip
    execute(op, "r2")
    text = seen.text()
    assert B not in text and f"e.g. {mask_phone(B)}" in text


def test_a_bad_mask_phones_extra_is_refused(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    conn(cascade_gateway, monkeypatch, "json", mask_phones="sometimes")
    op = CascadeSendMessageOperator(task_id="t", channels=SMS, phones=[A], ledger=str(tmp_path))
    with pytest.raises(CascadeValidationError, match=r"extra\.mask_phones: must be true or false"):
        execute(op)


# -- credentials in ledger URLs -----------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "hidden"),
    [
        ("s3://user:Pa55word@bucket/ledgers", "Pa55word"),
        ("s3://bucket/ledgers?token=T0ken123", "T0ken123"),
        ("https://x/y?X-Amz-Signature=abc123def&X-Amz-Credential=AKIA1", "abc123def"),
    ],
)
def test_credentials_in_ledger_urls_are_hidden(url: str, hidden: str) -> None:
    assert hidden not in redact_url(url)
    assert redact_url("s3://aws_default@bucket/ledgers") == "s3://aws_default@bucket/ledgers"


def test_a_file_send_refuses_a_ledger_url_with_credentials_before_sending(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, seen: Seen
) -> None:
    """Its reference, pushed to XCom and handed to the sensor and triggerer, would carry them."""
    conn(cascade_gateway, monkeypatch, "json")
    csv = tmp_path / "r.csv"
    csv.write_text(f"phone\n{A}\n")
    op = CascadeSendMessageOperator(task_id="t", channels=SMS, recipients_file=str(csv),
                                    ledger="s3://user:Pa55word@bucket/ledgers")  # fmt: skip
    with pytest.raises(CascadeValidationError, match="ledger URL carries credentials") as err:
        execute(op)
    assert "Pa55word" not in str(err.value) + seen.text()
    assert cascade_gateway.requests == []


def test_an_inline_send_never_logs_or_pushes_ledger_credentials(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, seen: Seen
) -> None:
    """Was: the ledger URL was logged and pushed to XCom as given."""
    conn(cascade_gateway, monkeypatch, "json")
    url = f"file:///{tmp_path}/ledgers?token=T0kenT0ken"
    op = CascadeSendMessageOperator(task_id="t", channels=SMS, phones=[A], ledger=url)
    ids, pushed = execute(op)
    assert len(ids) == 1
    assert "T0kenT0ken" not in seen.text() + json.dumps(pushed)
    assert "token=***" in pushed["send_summary"]["ledger"]
