"""How many failed recipients a send tolerates, and the sensor's undelivered switch."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_cascade.gateway import (
    CascadeSendRejected,
    CascadeUndelivered,
    MessageState,
    MessageStatus,
)
from airflow_provider_cascade.operators.cascade import CascadeSendBaseOperator
from airflow_provider_cascade.testing.emulator import CascadeEmulator
from airflow_provider_cascade.waiting import finish

SMS = [{"channel": "sms", "text": "hi", "sender": "Shop"}]


def context(pushed: dict[str, Any]) -> dict[str, Any]:
    ti = SimpleNamespace(dag_id="d", run_id="r", task_id="t", map_index=-1,
                         xcom_push=lambda key, value: pushed.__setitem__(key, value))  # fmt: skip
    return {"ti": ti}


@pytest.mark.parametrize(
    ("ratio", "fails"), [(None, False), (0.0, True), (0.25, True), (0.5, False)]
)
def test_max_failure_ratio(
    cascade_gateway: CascadeEmulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    ratio: float | None,
    fails: bool,
) -> None:
    # three numbers in the base, one of them stop-listed: 1/3 of the recipients fail
    cascade_gateway.add_base(
        "31", [("79000000301", "a"), ("79000000302", "b"), ("79000000303", "c")]
    )
    cascade_gateway.add_base("32", [("79000000302", "")])
    monkeypatch.setenv(
        "AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(cascade_gateway.conn_dict("json"))
    )
    op = CascadeSendBaseOperator(task_id="t", channels=SMS, bases=["31"], stop_bases=["32"],
                                 max_failure_ratio=ratio, ledger=str(tmp_path))  # fmt: skip
    pushed: dict[str, Any] = {}
    if fails:
        with pytest.raises(CascadeSendRejected, match="failed for 1/3") as info:
            op.execute(context(pushed))
        assert (info.value.rejected, info.value.total) == (1, 3)  # for retry policies, callbacks
    else:
        assert len(op.execute(context(pushed))) == 2
    assert len(pushed["send_results"]) == 3  # the per-recipient results are kept either way


def test_every_recipient_failing_fails_the_task(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cascade_gateway.add_base("33", [("79000000311", "a")])
    monkeypatch.setenv(
        "AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(cascade_gateway.conn_dict("json"))
    )
    op = CascadeSendBaseOperator(
        task_id="t", channels=SMS, bases=["33"], stop_bases=["33"], ledger=str(tmp_path)
    )
    with pytest.raises(CascadeSendRejected, match="failed for 1/1"):
        op.execute(context({}))


def test_fail_on_undelivered() -> None:
    states = {
        "1": MessageState("1", "deliver", MessageStatus.DELIVER),
        "2": MessageState("2", "expired", MessageStatus.EXPIRED),
    }
    pushed: dict[str, Any] = {}
    log = SimpleNamespace(info=lambda *a: None)
    assert set(finish(context(pushed), states, log)) == {"1", "2"}
    with pytest.raises(CascadeUndelivered, match="1 message") as info:
        finish(context(pushed), states, log, fail_on_undelivered=True)
    assert info.value.ids == ["2"]
