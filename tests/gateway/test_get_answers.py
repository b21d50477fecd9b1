"""The GET variant's plain-text answers: ids in the order of the phones, one state per id."""

from __future__ import annotations

import pytest

from airflow_provider_cascade.gateway import SMS, CascadeGatewayError, LoginPassword, Message
from airflow_provider_cascade.gateway.codec import CodecSettings, GetCodec, HttpResponse

CODEC = GetCodec(CodecSettings("https://gw", LoginPassword("l", "p")))


def test_an_id_of_0_is_an_error_result_of_its_own_message() -> None:
    first, second = CODEC.send_batches(
        [Message([SMS("Hi", "S")], ["79000000001"]), Message([SMS("Yo", "S")], ["79000000002",
                                                                               "79000000003"])]
    )  # fmt: skip
    results = CODEC.parse_send(second, HttpResponse(200, b"0,1002"))
    assert [(r.message_index, r.phone, r.id_message, r.accepted) for r in results] == [
        (1, "79000000002", None, False), (1, "79000000003", "1002", True),
    ]  # fmt: skip
    assert results[0].error == "the gateway answered 0 for this phone: not sent"
    assert [r.message_index for r in CODEC.parse_send(first, HttpResponse(200, b"1001"))] == [0]


@pytest.mark.parametrize("body", [b"", b"  \n"])
def test_an_empty_status_answer_is_a_gateway_error_saying_so(body: bytes) -> None:
    (batch,) = CODEC.state_batches(["1001"])
    with pytest.raises(CascadeGatewayError) as err:
        CODEC.parse_state(batch, HttpResponse(200, body))
    assert err.value.text == "empty response"
