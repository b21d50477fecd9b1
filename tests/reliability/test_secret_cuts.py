"""Scrub before any cut: a gateway text or value echoing the password is shortened only after
the password is scrubbed from it. A secret straddling the cut, at every offset around it,
leaves no piece of four or more of its characters in the ledger, the task log or the
exception chain (cut first, 9 to 12 characters of a 23-character password were kept)."""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_cascade.gateway import SMS, CascadeError, Message
from airflow_provider_cascade.gateway._decode import MAX_ERROR_TEXT
from airflow_provider_cascade.hooks.cascade import CascadeHook
from airflow_provider_cascade.operators.cascade import CascadeSendMessageOperator
from airflow_provider_cascade.testing.emulator import CascadeEmulator

from .test_secret_forms import everything_about

SECRET = "Zq9vK3xW7mPt2RbY6nLc8Hd"  # 23 characters, no word of any message in it
PIECES = [SECRET[i : i + 4] for i in range(len(SECRET) - 3)]
VALUE_CUT = 40
"""Characters of a bad value's ``repr`` an error text quotes."""


def pieces_in(text: str) -> list[str]:
    return [p for p in PIECES if p in text]


def padded(cut: int, offset: int) -> str:
    """A text whose secret starts ``offset`` characters before ``cut``."""
    return "." * max(cut - offset, 0) + SECRET + "." * 40


def conn_with_secret(gw: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, protocol: str) -> None:
    conn = gw.conn_dict(protocol, retry_limit=0, repeat_window=0)
    conn["password"] = SECRET
    gw.gateway.add_account(gw.login, SECRET, (gw.token,))
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(conn))


def task_instance(run_id: str, pushed: dict[str, Any]) -> SimpleNamespace:
    def push(key: str, value: Any) -> None:
        pushed[key] = value

    return SimpleNamespace(dag_id="d", run_id=run_id, task_id="t", map_index=-1, try_number=1,
                           xcom_push=push)  # fmt: skip


BODIES = {
    "request error": (MAX_ERROR_TEXT, lambda t: json.dumps({"error": t})),
    "row error": (
        MAX_ERROR_TEXT,
        lambda t: json.dumps({"message": [[{"phone": "79000000001", "error": t}]]}),
    ),
    "bad id": (
        VALUE_CUT - 1,  # after the opening quote of the repr
        lambda t: json.dumps({"message": [[{"phone": "79000000001", "id_message": t}]]}),
    ),
}


@pytest.mark.parametrize("kind", list(BODIES))
def test_a_secret_straddling_the_cut_leaves_no_piece_in_ledger_log_or_exception(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str],
    figures: Counter[str], kind: str,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    conn_with_secret(cascade_gateway, monkeypatch, "json")
    cut, body = BODIES[kind]
    for offset in range(-2, len(SECRET) + 3):
        cascade_gateway.faults.reply_next(body(padded(cut, offset)).encode())
        ledger = tmp_path / f"l{offset + 2}"
        op = CascadeSendMessageOperator(task_id="t", channels=[{"channel": "sms", "sender": "S",
                                        "text": "hi"}], phones=["79000000001"], ledger=str(ledger),
                                        max_failure_ratio=1)  # fmt: skip
        pushed: dict[str, Any] = {}
        ti = task_instance(f"r{offset}", pushed)
        seen = ""
        try:
            op.execute({"ti": ti})  # type: ignore[arg-type]
        except CascadeError as exc:
            seen = everything_about(exc)
        stored = "".join(p.read_text() for p in ledger.rglob("*") if p.is_file())
        out = capsys.readouterr()
        where = {"ledger": stored, "log": caplog.text + out.out + out.err, "exception": seen,
                 "xcom": repr(pushed)}  # fmt: skip
        leaked = {name: pieces_in(text) for name, text in where.items() if pieces_in(text)}
        assert not leaked, (kind, offset, leaked)
        caplog.clear()
        figures["secret cuts straddled"] += 1


def test_a_state_error_straddling_the_cut_is_scrubbed_first(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, figures: Counter[str]
) -> None:
    conn_with_secret(cascade_gateway, monkeypatch, "json")
    hook = CascadeHook()
    for offset in range(-2, len(SECRET) + 3):
        text = padded(MAX_ERROR_TEXT, offset)
        row = {"id_message": "1000123", "time_change_state": "", "state": text}
        cascade_gateway.faults.reply_next(json.dumps({"state": [row]}).encode())
        states = hook.get_states(["1000123"])
        assert not pieces_in(repr([s.to_dict() for s in states.values()])), offset
        figures["secret cuts straddled"] += 1


def test_a_bad_value_straddling_the_cut_is_scrubbed_in_the_exception_chain(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    conn_with_secret(cascade_gateway, monkeypatch, "json")
    hook = CascadeHook()
    for offset in range(-2, len(SECRET) + 3):
        row = {"phone": "79000000001", "id_message": "1", "count_message": padded(39, offset)}
        cascade_gateway.faults.reply_next(json.dumps({"message": [[row]]}).encode())
        with pytest.raises(CascadeError) as err:
            hook.send([Message([SMS("hi", "S")], ["79000000001"])])
        assert not pieces_in(everything_about(err.value) + caplog.text), offset
