"""Suppression files: listed phones are never messaged, counted and sampled (masked)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_provider_cascade.gateway import CascadeValidationError
from airflow_provider_cascade.ledger._suppress import Suppression
from airflow_provider_cascade.operators.cascade import CascadeSendMessageOperator
from airflow_provider_cascade.testing.emulator import CascadeEmulator

from .conftest import context

SMS = [{"channel": "sms", "sender": "Shop", "text": "Hi"}]


@pytest.fixture
def env(cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch) -> CascadeEmulator:
    monkeypatch.setenv(
        "AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(cascade_gateway.conn_dict("json"))
    )
    return cascade_gateway


def test_suppressed_phones_are_not_messaged(env: CascadeEmulator, tmp_path: Path) -> None:
    recipients = tmp_path / "r.csv"
    recipients.write_text("phone\n" + "".join(f"7904000{i:04d}\n" for i in range(20)))
    opted_out = tmp_path / "opted_out.csv"
    opted_out.write_text("phone,reason\n79040000003,stop\n79040000007,stop\n79990000000,other\n")
    complaints = tmp_path / "complaints.jsonl"
    complaints.write_text('{"phone": "79040000011"}\n{"phone": "79040000003"}\n')
    op = CascadeSendMessageOperator(
        task_id="t", channels=SMS, recipients_file=str(recipients),
        suppress_file=[str(opted_out), str(complaints)], ledger=str(tmp_path / "l"),
    )  # fmt: skip
    pushed: dict[str, object] = {}
    ref = op.execute(context(pushed))
    sent = {d.phone for d in env.deliveries}
    assert sent == {f"7904000{i:04d}" for i in range(20)} - {
        "79040000003", "79040000007", "79040000011"}  # fmt: skip
    summary = pushed["send_summary"]
    assert summary["suppressed"] == 3 and summary["accepted"] == 17  # type: ignore[index]
    assert summary["suppressed_sample"] == ["79*****0003", "79*****0007", "79*****0011"]  # type: ignore[index]
    written = json.loads((Path(ref["cascade_ledger"]) / "summary.json").read_text())
    assert written["suppressed"] == 3


def test_a_dry_run_counts_the_suppressed(env: CascadeEmulator, tmp_path: Path) -> None:
    stop = tmp_path / "stop.csv"
    stop.write_text("phone\n79040000101\n")
    op = CascadeSendMessageOperator(
        task_id="t", channels=SMS, phones=["79040000101", "79040000102"], dry_run=True,
        suppress_file=str(stop), prices={"sms": "2"}, ledger=str(tmp_path),
    )  # fmt: skip
    value = op.execute(context())
    assert (value["suppressed"], value["recipients"], value["worst_case"]) == (1, 1, "2")
    assert env.requests == []


def test_a_bad_phone_in_a_suppression_file_names_file_and_item(
    env: CascadeEmulator, tmp_path: Path
) -> None:
    stop = tmp_path / "stop.csv"
    stop.write_text("phone\n79040000201\n+7 904 000-02-02\n")
    op = CascadeSendMessageOperator(task_id="t", channels=SMS, phones=["79040000201"],
                                    suppress_file=str(stop), ledger=str(tmp_path))  # fmt: skip
    with pytest.raises(
        CascadeValidationError, match=r"suppress_file: .*stop\.csv: item 2: must be"
    ):
        op.execute(context())
    assert env.requests == []


@pytest.mark.parametrize("run", [7, 100_000])  # sorted in runs merged, or in one
def test_lookup_is_exact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: int) -> None:
    monkeypatch.setattr("airflow_provider_cascade.ledger._suppress.RUN", run)
    stop = tmp_path / "stop.csv"
    evens = [79050000000 + 2 * i for i in range(1000)]
    stop.write_text("phone\n" + "".join(f"{p}\n" for p in reversed(evens + evens[:50])))
    found = Suppression([str(stop)])
    assert len(found) == 1000
    assert all(str(79050000000 + 2 * i) in found for i in range(1000))
    assert not any(str(79050000001 + 2 * i) in found for i in range(1000))
