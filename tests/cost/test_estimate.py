"""The estimate before sending: units per channel times prices, three figures, and a dry run
that sends nothing."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from airflow_provider_cascade.gateway import (
    CascadeBudgetExceeded,
    CascadeValidationError,
    MessageState,
    MessageStatus,
)
from airflow_provider_cascade.gateway._channels import Channel
from airflow_provider_cascade.ledger._prices import PriceHistory, observe
from airflow_provider_cascade.operators.cascade import CascadeSendMessageOperator
from airflow_provider_cascade.testing.emulator import CascadeEmulator

from .conftest import context

PRICES = {"viber": "1.10", "sms": "2.50", "whatsapp": "0.90", "vk": "0.75"}
MIXED = [
    {  # 10 recipients, Viber then a 200-character SMS (2 parts)
        "send_viber": 1, "sender_viber": "Shop", "text_viber": "Sale",
        "send_sms": 2, "sender_sms": "Shop", "text_sms": "a" * 200,
        "phones": [{"phone": f"7902000{i:04d}"} for i in range(10)],
    },
    {  # 5 recipients, a 72-character Cyrillic SMS alone (2 parts)
        "send_sms": 1, "sender_sms": "Shop", "text_sms": "Привет" * 12,
        "phones": [{"phone": f"7902100{i:04d}"} for i in range(5)],
    },
    {  # 3 recipients, WhatsApp then VK (one unit each)
        "send_whatsapp": 1, "text_whatsapp": "Hi", "send_vk": 2, "templateId": "7",
        "phones": [{"phone": f"7902200{i:04d}"} for i in range(3)],
    },
]  # fmt: skip
# by hand: worst 10*(1.10 + 2*2.50) + 5*(2*2.50) + 3*(0.90 + 0.75) = 61 + 25 + 4.95
WORST = Decimal("90.95")
# first channels only: 10*1.10 + 5*5.00 + 3*0.90
FIRST = Decimal("38.70")


@pytest.fixture
def env(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> CascadeEmulator:
    monkeypatch.setenv(
        "AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(cascade_gateway.conn_dict("json"))
    )
    monkeypatch.setenv("AIRFLOW__CASCADE__LEDGER_PATH", str(tmp_path / "ledgers"))
    return cascade_gateway


def test_dry_run_of_a_mixed_campaign_equals_the_hand_computation(
    env: CascadeEmulator, tmp_path: Path
) -> None:
    op = CascadeSendMessageOperator(task_id="t", messages=MIXED, prices=PRICES, dry_run=True)
    pushed: dict[str, object] = {}
    value = op.execute(context(pushed))
    assert env.requests == []  # nothing sent
    assert Decimal(value["worst_case"]) == WORST
    assert Decimal(value["first_channel"]) == FIRST
    assert value["expected"] is None  # no history yet
    assert value["units"] == {"viber": 10, "sms": 30, "whatsapp": 3, "vk": 3}
    assert value["by_message"] == {"0": 10, "1": 5, "2": 3}
    assert value["recipients"] == 18 and value["messages"] == 3
    assert pushed["estimate"] == value
    written = json.loads(Path(value["estimate_file"]).read_text())
    assert Decimal(written["worst_case"]) == WORST
    assert not list((tmp_path / "ledgers").rglob("ledger.json"))  # no ledger was started


def test_expected_figure_from_the_history(env: CascadeEmulator, tmp_path: Path) -> None:
    # two earlier campaigns: 4 messages, all charged on their first channel, 2 fell through to
    # a second one; SMS parts cost 2.00 each, Viber 1.00
    def state(i: int, prices: dict[Channel, str], parts: int | None = None) -> MessageState:
        return MessageState(str(i), "deliver", MessageStatus.DELIVER,
                            prices={c: Decimal(p) for c, p in prices.items()},
                            num_parts_sms=parts)  # fmt: skip

    history = PriceHistory(str(tmp_path / "ledgers"), "cascade_default")
    history.add(observe([state(1, {Channel.VIBER: "1.00"}),
                         state(2, {Channel.VIBER: "1.00", Channel.SMS: "4.00"}, 2)]))  # fmt: skip
    history.add(observe([state(3, {Channel.VIBER: "1.00"}),
                         state(4, {Channel.VIBER: "1.00", Channel.SMS: "2.00"}, 1)]))  # fmt: skip
    op = CascadeSendMessageOperator(task_id="t", messages=MIXED[:1], dry_run=True)
    value = op.execute(context())
    # learned: viber 1.00, sms 6.00/3 parts = 2.00; reach: 1st place 4/4, 2nd place 2/4
    assert value["prices"] == {"viber": {"price": "1.0000", "source": "history"},
                               "sms": {"price": "2.0000", "source": "history"}}  # fmt: skip
    assert Decimal(value["worst_case"]) == 10 * (1 + 2 * 2)
    assert Decimal(value["expected"]) == 10 * (1 + Decimal("0.5") * 2 * 2)


def test_prices_of_the_task_then_the_connection(
    cascade_gateway: CascadeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    conn = cascade_gateway.conn_dict("json", prices={"sms": "3.00", "viber": "0.50"})
    monkeypatch.setenv("AIRFLOW_CONN_CASCADE_DEFAULT", json.dumps(conn))
    op = CascadeSendMessageOperator(
        task_id="t", messages=MIXED[:1], prices={"sms": "2.50"}, dry_run=True, ledger=str(tmp_path)
    )
    value = op.execute(context())
    assert value["prices"]["sms"] == {"price": "2.50", "source": "argument"}
    assert value["prices"]["viber"] == {"price": "0.50", "source": "connection"}
    assert Decimal(value["worst_case"]) == 10 * (Decimal("0.50") + 2 * Decimal("2.50"))


def test_over_the_cap_sends_nothing(env: CascadeEmulator) -> None:
    op = CascadeSendMessageOperator(task_id="t", messages=MIXED, prices=PRICES, max_cost="90.94")
    with pytest.raises(
        CascadeBudgetExceeded, match=r"90\.95 \(worst case\) exceeds max_cost 90\.94"
    ):
        op.execute(context())
    assert env.requests == []


def test_the_cap_on_the_first_channel_basis(env: CascadeEmulator) -> None:
    op = CascadeSendMessageOperator(task_id="t", messages=MIXED, prices=PRICES, max_cost="40",
                                    max_cost_basis="first_channel")  # fmt: skip
    pushed: dict[str, object] = {}
    op.execute(context(pushed))
    assert len(env.deliveries) == 18
    assert Decimal(pushed["estimate"]["first_channel"]) == FIRST  # type: ignore[index]


def test_unknown_prices_with_a_cap_fail_rather_than_guess(env: CascadeEmulator) -> None:
    op = CascadeSendMessageOperator(task_id="t", messages=MIXED, prices={"sms": "1"},
                                    max_cost="1000")  # fmt: skip
    with pytest.raises(CascadeValidationError, match=r"price of viber.*cannot be checked"):
        op.execute(context())
    assert env.requests == []


def test_unknown_prices_without_a_cap_are_said(env: CascadeEmulator) -> None:
    op = CascadeSendMessageOperator(task_id="t", messages=MIXED[1:2], dry_run=True)
    value = op.execute(context())
    assert value["worst_case"] is None and value["unknown"] == ["price of sms"]
    assert value["units"] == {"sms": 10}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"max_cost": "ten"}, "max_cost"), ({"max_cost": -1}, "max_cost"),
     ({"max_cost_basis": "average"}, "max_cost_basis"), ({"prices": {"fax": 1}}, "prices.fax"),
     ({"prices": {"sms": "free"}}, "prices.sms"), ({"default_timezone": "Moon/Base"},
                                                    "default_timezone")],
)  # fmt: skip
def test_bad_arguments_are_refused_at_once(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(CascadeValidationError) as caught:
        CascadeSendMessageOperator(task_id="t", messages=MIXED, **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_dry_run_of_a_plain_phone_file_counts_every_line(
    env: CascadeEmulator, tmp_path: Path
) -> None:
    # a file of phones only is counted by block, without a pass over its recipients
    phones = tmp_path / "phones.csv"
    phones.write_text("phone\n" + "".join(f"7903{i:07d}\n" for i in range(2500)))
    op = CascadeSendMessageOperator(
        task_id="t", channels=MIXED_CHANNELS, recipients_file=str(phones), prices=PRICES,
        dry_run=True,
    )  # fmt: skip
    value = op.execute(context())
    assert (value["recipients"], value["by_message"], value["by_window"]) == (
        2500, {"0": 2500}, {"now": 2500})  # fmt: skip
    assert Decimal(value["worst_case"]) == 2500 * (Decimal("1.10") + 2 * Decimal("2.50"))
    assert value["requests"] == 3 and env.requests == []


MIXED_CHANNELS = [
    {"channel": "viber", "sender": "Shop", "text": "Sale"},
    {"channel": "sms", "sender": "Shop", "text": "a" * 200},
]
