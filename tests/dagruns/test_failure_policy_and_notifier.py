"""The send operator's failure policy and the notifier: ``execute()``/``notify()`` with a small
context against the emulator, no Airflow processes (fast tier)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_cascade.notifications.cascade import CascadeNotifier
from airflow_provider_cascade.operators.cascade import (
    CascadeSendBaseOperator,
    CascadeSendMessageOperator,
)
from airflow_provider_cascade.testing.emulator import CascadeEmulator

from .test_failure_policy import SMS, context


def test_a_failure_ratio_equal_to_the_limit_passes(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``max_failure_ratio`` is the most that may fail: exactly 1 of 2 with 0.5 is fine."""
    cascade_gateway.add_base("41", [("79000000401", "a"), ("79000000402", "b")])
    cascade_gateway.add_base("42", [("79000000402", "")])
    monkeypatch.setenv(
        "AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(cascade_gateway.conn_dict("json"))
    )
    op = CascadeSendBaseOperator(task_id="t", channels=SMS, bases=["41"], stop_bases=["42"],
                                 max_failure_ratio=0.5, ledger=str(tmp_path))  # fmt: skip
    pushed: dict[str, Any] = {}
    assert len(op.execute(context(pushed))) == 1
    fates = sorted(r["fate"] for r in pushed["send_results"])
    assert fates == ["accepted", "rejected"]


def ti(try_number: int) -> SimpleNamespace:
    return SimpleNamespace(dag_id="d", run_id="r", task_id="t", map_index=-1,
                           try_number=try_number)  # fmt: skip


def test_the_notifier_is_deduplicated_per_task_try(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A callback fired twice for the same try alerts once (client ids derived from the try);
    the next try alerts again."""
    cascade_gateway.behaviour.repeat_window = 0  # only the client ids may refuse the copy
    monkeypatch.setenv(
        "AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(cascade_gateway.conn_dict("json"))
    )
    notifier = CascadeNotifier(phones=["79000000501", "79000000502"], text="d failed")
    notifier.notify({"ti": ti(1)})
    assert all(d.client_id_message for d in cascade_gateway.deliveries)
    notifier.notify({"ti": ti(1)})
    assert sorted(cascade_gateway.accepted_per_phone().values()) == [1, 1]
    notifier.notify({"ti": ti(2)})
    assert sorted(cascade_gateway.accepted_per_phone().values()) == [2, 2]


def test_mapped_sends_to_the_same_phone_are_not_deduplicated(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Two map indexes of one task are two sends: their client ids must differ, or the gateway
    drops the second as a repeat of the first."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(cascade_gateway.conn_dict("json"))
    )
    for map_index, text in ((0, "first"), (1, "second")):
        op = CascadeSendMessageOperator(task_id="t", channels=[{**SMS[0], "text": text}],
                                        phones=["79000000601"], ledger=str(tmp_path))  # fmt: skip
        pushed: dict[str, Any] = {}
        ti = SimpleNamespace(dag_id="d", run_id="r", task_id="t", map_index=map_index,
                             xcom_push=lambda key, value, p=pushed: p.__setitem__(key, value))  # fmt: skip
        assert len(op.execute({"ti": ti})) == 1
    assert cascade_gateway.accepted_per_phone()["79000000601"] == 2
    assert len(cascade_gateway.accepted_per_client_id()) == 2
