"""Bad input across the model, the connection, the operators, the notifier and the sensor:
each gets an error naming the field and the rule, and the gateway sees no request."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_cascade.gateway import CascadeValidationError
from airflow_provider_cascade.hooks.cascade import CascadeHook
from airflow_provider_cascade.notifications.cascade import CascadeNotifier
from airflow_provider_cascade.operators.cascade import (
    CascadeSendBaseOperator,
    CascadeSendMessageOperator,
)
from airflow_provider_cascade.sensors.cascade import CascadeMessageStateSensor
from airflow_provider_cascade.testing.emulator import CascadeEmulator
from tests.gateway.test_validation import CASES, msg

SMS = [{"channel": "sms", "text": "hi", "sender": "Shop"}]


def context() -> dict[str, Any]:
    """The slice of a task context the operators read (ids for client ids, XCom push)."""
    pushed: dict[str, Any] = {}
    ti = SimpleNamespace(dag_id="d", run_id="r", task_id="t", map_index=-1, try_number=1,
                         xcom_push=lambda key, value: pushed.__setitem__(key, value))  # fmt: skip
    return {"ti": ti}


def send_op(**kw: Any) -> Any:
    return CascadeSendMessageOperator(task_id="send", **kw)


# (connection changes, callable that must fail, field, words in the rule)
AIRFLOW_CASES: list[tuple[str, dict[str, Any], Any, str, str]] = [
    ("channels and messages", {}, lambda: send_op(channels=SMS, phones="79000000001",
                                                  messages=[msg()]).execute(context()), "messages", "not several"),
    ("neither channels nor messages", {}, lambda: send_op(phones="79000000001").execute(context()), "channels", "cascade order"),
    ("naive time_send", {}, lambda: send_op(channels=SMS, phones="79000000001",
                                            time_send=datetime(2030, 1, 1, 10, 0)).execute(context()), "time_send", "naive"),
    ("time_send words", {}, lambda: send_op(channels=SMS, phones="79000000001",
                                            time_send="tomorrow").execute(context()), "time_send", "YYYY-MM-DD"),
    ("phone with plus", {}, lambda: send_op(channels=SMS, phones="+79000000001").execute(context()), "phone", "without '+'"),
    ("phone with letters", {}, lambda: send_op(channels=SMS, phones=["7900000000x"]).execute(context()), "phone", "digits"),
    ("empty phones", {}, lambda: send_op(channels=SMS, phones=[]).execute(context()), "phones", "at least one"),
    ("phones as a dict", {}, lambda: send_op(channels=SMS, phones={"a": 1}).execute(context()), "phones", "list"),
    ("failure ratio", {}, lambda: send_op(channels=SMS, phones="79000000001", max_failure_ratio=1.5), "max_failure_ratio", "between 0 and 1"),
    ("unknown channel", {}, lambda: send_op(channels=[{"channel": "telegram", "text": "x"}],
                                            phones="79000000001").execute(context()), "channel", "one of viber"),
    ("unknown channel field", {}, lambda: send_op(channels=[{"channel": "viber", "text": "x", "sender": "S", "colour": 1}],
                                                  phones="79000000001").execute(context()), "viber.colour", "unknown field"),
    ("channel without text", {}, lambda: send_op(channels=[{"channel": "viber", "sender": "S"}],
                                                 phones="79000000001").execute(context()), "viber.text", "required"),
    ("channel twice", {}, lambda: send_op(channels=SMS * 2, phones="79000000001").execute(context()), "channels", "twice"),
    ("no channel", {}, lambda: send_op(channels=[], phones="79000000001").execute(context()), "channels", "at least one"),
    ("third message invalid", {}, lambda: send_op(messages=[msg(), msg(), msg(text_viber="")]).execute(context()), "text_viber", "required"),
    ("messages not a list", {}, lambda: send_op(messages="hello").execute(context()), "message", "mapping"),
    ("base campaign over XML", {"protocol": "xml"}, lambda: CascadeSendBaseOperator(
        task_id="b", channels=SMS, bases=["4"]).execute(context()), "protocol", "JSON variant"),
    ("base id words", {}, lambda: CascadeSendBaseOperator(task_id="b", channels=SMS, bases=["four"]).execute(context()), "base", "numeric"),
    ("stop base words", {}, lambda: CascadeSendBaseOperator(task_id="b", channels=SMS, bases=["4"],
                                                            stop_bases=["x"]).execute(context()), "stop_base.base", "numeric"),
    ("per-base naive time", {}, lambda: CascadeSendBaseOperator(task_id="b", channels=SMS, bases=[
        {"base": "4", "time_send": datetime(2030, 1, 1)}]).execute(context()), "base.time_send", "naive"),
    ("unknown protocol", {"protocol": "soap"}, lambda: send_op(channels=SMS, phones="79000000001").execute(context()), "protocol", "json, xml, get"),
    ("no credentials", {"login": None, "password": None}, lambda: CascadeHook().send([msg()]), "login", "token"),
    ("no host", {"host": None}, lambda: CascadeHook().send([msg()]), "host", "required"),
    ("unknown time zone", {"timezone": "Mars/Olympus"}, lambda: CascadeHook().send([msg()]), "timezone", "IANA"),
    ("timeout words", {"timeout": "soon"}, lambda: CascadeHook().send([msg()]), "extra.timeout", "number"),
    ("negative timeout", {"timeout": -1}, lambda: CascadeHook().send([msg()]), "extra.timeout", "positive"),
    ("recipients limit zero", {"max_recipients": 0}, lambda: CascadeHook().send([msg()]), "extra.max_recipients", "positive"),
    ("client id over GET via operator messages", {"protocol": "get"}, lambda: send_op(messages=[
        msg(phones=[{"phone": "79000000001", "client_id_message": "5"}])]).execute(context()), "client_id_message", "GET"),
    ("sensor without ids", {}, lambda: CascadeMessageStateSensor(task_id="w", id_messages=None).execute(context()), "id_messages", "required"),
    ("sensor id words", {}, lambda: CascadeMessageStateSensor(task_id="w", id_messages="abc").execute(context()), "id_message", "numeric"),
    ("hook state id words", {}, lambda: CascadeHook().get_states(["12", "x1"]), "id_message", "numeric"),
    ("notifier bad phone", {}, lambda: CascadeNotifier(phones=["12"], text="x").notify(context()), "phone", "7 to 15"),
    ("notifier without text", {}, lambda: CascadeNotifier(phones=["79000000001"], text="").notify(context()), "text_sms", "required"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "conn", "call", "field", "rule"), AIRFLOW_CASES,
                         ids=[c[0] for c in AIRFLOW_CASES])  # fmt: skip
def test_airflow_level_bad_input(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, figures: Counter[str],
    name: str, conn: dict[str, Any], call: Any, field: str, rule: str,
) -> None:  # fmt: skip
    base = cascade_gateway.conn_dict("json")
    for key, value in conn.items():
        if key in ("login", "password", "host", "port"):
            base[key] = value
        else:
            base["extra"][key] = value
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(base))
    with pytest.raises(CascadeValidationError) as err:
        call()
    assert err.value.field.endswith(field) or err.value.field == field, err.value
    assert rule in err.value.rule, err.value
    assert cascade_gateway.requests == []
    figures["bad inputs tried"] += 1


@pytest.mark.parametrize(("variant", "message", "field", "rule"), CASES)
def test_model_bad_input_sends_nothing(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, figures: Counter[str],
    variant: str, message: Any, field: str, rule: str,
) -> None:  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", cascade_gateway.conn_uri(variant))
    with pytest.raises(CascadeValidationError) as err:
        CascadeHook().send([msg(), message])
    assert (err.value.field, err.value.message_index) == (field, 1) and rule in err.value.rule
    assert cascade_gateway.requests == []
    figures["bad inputs tried"] += 1


def _crm(rows: int, same: tuple[int, int]) -> bytes:
    lines = ["phone,client_id_message"] + [
        f"7970{k:07d},{same[0] if k == same[1] else k}" for k in range(1, rows + 1)
    ]
    return ("\n".join(lines) + "\n").encode()


# (file name, bytes, encoding, words in the rule): files as users export them
FILE_CASES: list[tuple[str, bytes, str, str]] = [
    ("excel.csv", "Имя,phone\r\nАнна,79000000001\r\n".encode("cp1251"), "utf-8", "line 1: does not decode"),
    ("unicode.csv", "phone\n79000000001\n".encode("utf-16"), "utf-8", "line 1: does not decode"),
    ("twice.csv", b"phone,phone\n79000000001,79000000002\n", "utf-8", "names 'phone' 2 times"),
    ("case.csv", b"phone,Phone\n79000000001,79000000002\n", "utf-8", "names 'phone' 2 times"),
    ("ids.csv", _crm(1500, (1101, 1401)), "utf-8", "line 1402: client_id_message 1101"),
    ("cut.csv.gz", gzip.compress(b"phone\n" + b"79000000001\n" * 20_000)[:-30], "utf-8", "gzip data"),
    ("quoted.csv", b'name,phone\n"a\nb",79000000001\n\n"c",7900\n', "utf-8", "line 5: phone"),
    ("wrong-cp.csv", "phone,имя\n79000000001,Анна\n".encode(), "utf-16", "does not decode as utf-16"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "content", "encoding", "rule"), FILE_CASES,
                         ids=[c[0] for c in FILE_CASES])  # fmt: skip
def test_files_as_users_export_them_send_nothing(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, figures: Counter[str],
    tmp_path: Path, name: str, content: bytes, encoding: str, rule: str,
) -> None:  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", cascade_gateway.conn_uri("json"))
    path = tmp_path / name
    path.write_bytes(content)
    op = send_op(channels=SMS, recipients_file=str(path), encoding=encoding,
                 ledger=str(tmp_path / "ledger"))  # fmt: skip
    with pytest.raises(CascadeValidationError) as err:
        op.execute(context())
    assert err.value.field == "recipients_file" and name in err.value.rule, err.value
    assert rule in err.value.rule, err.value
    assert cascade_gateway.requests == []
    figures["bad inputs tried"] += 1
