"""The waiting policy without I/O: when to ask, what an answer or a failure means, what to log."""

from __future__ import annotations

from decimal import Decimal

import pytest

from airflow_provider_cascade.gateway import (
    CascadeAuthError,
    CascadeDuplicateRequestError,
    CascadeError,
    CascadeGatewayError,
    CascadeResponseError,
    CascadeServerError,
    CascadeTransportError,
    CascadeValidationError,
    Channel,
    MessageState,
    MessageStatus,
    summarize,
)
from airflow_provider_cascade.triggers.cascade import CascadeWaitEvent
from airflow_provider_cascade.waiting import (
    StatusWait,
    WaitSettings,
    check_wait_args,
    describe_event,
    event_payload,
    final_line,
)


def st(id_message: str, state: str, **prices: str) -> MessageState:
    return MessageState(
        id_message,
        state,
        MessageStatus.from_text(state),
        prices={Channel(c): Decimal(p) for c, p in prices.items()},
    )


def test_interval_raised_to_the_window_and_said_once() -> None:
    assert WaitSettings(0.2, 60.0).period == 60.0
    assert WaitSettings(90.0, 60.0).period == 90.0
    assert WaitSettings(90.0, 60.0).raised_note() is None
    note = WaitSettings(1.0, 60.0).raised_note()
    assert note is not None and "polling every 60 s" in note
    # no interval asked for: as often as the gateway allows, nothing to say
    assert WaitSettings(None, 60.0).period == 60.0 and WaitSettings(None, 0.5).period == 0.5
    assert WaitSettings(None, 60.0).raised_note() is None
    check_wait_args("poll_interval", None, 5)


def test_next_query_waits_out_the_period_from_the_last_answer() -> None:
    wait = StatusWait(["1", "2"], WaitSettings(10.0, 60.0))
    assert wait.delay(now=1000.0) == 0.0  # nobody asked yet
    assert wait.outstanding() == ["1", "2"]  # the first query asks about every id
    wait.record_answer(["1", "2"], {"1": st("1", "deliver"), "2": st("2", "send")}, now=1000.0)
    assert wait.outstanding() == ["2"]  # then only about those not final
    assert wait.next_query_at() == 1060.0 and wait.delay(now=1030.0) == 30.0
    handed = StatusWait(["1"], WaitSettings(10.0, 60.0), last_query_at=1000.0)
    assert handed.delay(now=1001.0) == 59.0  # a trigger does not repeat the task's query


def test_ids_left_out_were_refused_not_failed() -> None:
    wait = StatusWait(["1", "2", "3"], WaitSettings(0.0, 60.0, max_transient_failures=0))
    wait.record_answer(["1", "2", "3"], {"1": st("1", "send")}, now=5.0)
    assert wait.refused == 2 and wait.failures == 0 and not wait.done
    assert "refused a status query for 2 id(s)" in wait.refusal_note()
    assert wait.next_query_at() == 65.0
    note = wait.record_failure(CascadeDuplicateRequestError("repeat"), now=70.0)  # not counted
    assert wait.failures == 0 and "as a repeat" in note and wait.next_query_at() == 130.0


@pytest.mark.parametrize(
    "error",
    [
        CascadeServerError(503),
        CascadeTransportError("reset", may_have_sent=True),
        CascadeResponseError("unreadable"),
    ],
)
def test_transient_failures_counted_in_a_row_then_fatal(error: CascadeError) -> None:
    wait = StatusWait(["1"], WaitSettings(1.0, 0.0, max_transient_failures=2))
    assert "1 of at most 2" in wait.record_failure(error, now=1.0)
    wait.record_failure(error, now=2.0)
    wait.record_answer(["1"], {"1": st("1", "send")}, now=3.0)  # an answer resets the count
    wait.record_failure(error, now=4.0)
    wait.record_failure(error, now=5.0)
    with pytest.raises(CascadeError, match=r"keeps failing \(3 times in a row"):
        wait.record_failure(error, now=6.0)


@pytest.mark.parametrize(
    "error", [CascadeAuthError("Неправильный логин или пароль"), CascadeGatewayError("Ошибка")]
)
def test_other_errors_end_the_wait_at_once(error: CascadeError) -> None:
    wait = StatusWait(["1"], WaitSettings(1.0, 0.0, max_transient_failures=5))
    with pytest.raises(type(error)):
        wait.record_failure(error, now=1.0)


def test_zero_tolerance_fails_on_the_first_transient_failure() -> None:
    wait = StatusWait(["1"], WaitSettings(1.0, 0.0, max_transient_failures=0))
    with pytest.raises(CascadeError, match="keeps failing"):
        wait.record_failure(CascadeServerError(500), now=1.0)


def test_progress_logged_when_it_changes_or_once_a_minute() -> None:
    wait = StatusWait(["1", "2"], WaitSettings(1.0, 0.0))
    assert wait.progress_line(now=0.0) is None  # no states yet: nothing to say
    wait.record_answer(["1", "2"], {"1": st("1", "deliver"), "2": st("2", "send")}, now=0.0)
    assert wait.progress_line(now=0.0) == "Cascade: 1/2 final: deliver 1; 1 in progress"
    assert wait.progress_line(now=30.0) is None  # unchanged, within the minute
    assert wait.progress_line(now=61.0) is not None  # unchanged, but a minute passed
    wait.record_answer(["2"], {}, now=62.0)  # refused: states unchanged, no "none yet"
    assert wait.progress_line(now=62.0) is None
    wait.record_answer(["2"], {"2": st("2", "expired")}, now=63.0)
    assert wait.progress_line(now=63.0) == "Cascade: 2/2 final: deliver 1, expired 1"


def test_a_trigger_does_not_repeat_the_line_its_task_logged() -> None:
    line = "1/2 final: deliver 1; 1 in progress"
    wait = StatusWait(["1", "2"], WaitSettings(1.0, 0.0), last_query_at=0.0, last_progress=line)
    wait.record_answer(["1", "2"], {"1": st("1", "deliver"), "2": st("2", "send")}, now=2.0)
    assert wait.progress_line(now=2.0) is None
    assert wait.progress_line(now=61.0) == f"Cascade: {line}"


def test_final_line_is_readable_text_per_channel() -> None:
    states = {"1": st("1", "deliver", sms="2.05", viber="0.55"), "2": st("2", "not_deliver", sms="4.10"),
              "3": st("3", "expired", viber="3.30")}  # fmt: skip
    assert final_line(summarize(states)) == (
        "3 final: deliver 1, expired 1, not_deliver 1; cost sms 6.15 + viber 3.85 = 10.00"
    )
    assert final_line(summarize({"1": st("1", "deliver", sms="2.05")})) == (
        "1 final: deliver 1; cost sms 2.05"
    )
    assert final_line(summarize({"1": st("1", "deliver")})) == (
        "1 final: deliver 1; no charges reported"
    )


def test_event_is_json_with_status_and_counts_and_prints_short() -> None:
    ids = [str(1000000 + i) for i in range(10_000)]
    wait = StatusWait(ids, WaitSettings(1.0, 0.0))
    wait.record_answer(ids, {i: st(i, "deliver", sms="2.05") for i in ids}, now=1.0)
    payload = event_payload("success", wait)
    assert (payload["status"], payload["total"], payload["final"]) == ("success", 10_000, 10_000)
    assert payload["counts"] == {"deliver": 10_000} and len(payload["states"]) == 10_000
    event = CascadeWaitEvent(payload=payload)
    assert (
        repr(event) == str(event) == "CascadeWaitEvent<success: 10000/10000 final (deliver 10000)>"
    )
    assert describe_event({**payload, "status": "error", "message": "boom"}).endswith("; boom")


@pytest.mark.parametrize(
    ("interval", "failures", "field"),
    [
        (-1, 5, "poke_interval"),
        ("60", 5, "poke_interval"),
        (True, 5, "poke_interval"),
        (60, -1, "max_transient_failures"),
        (60, 2.5, "max_transient_failures"),
        (60, None, "max_transient_failures"),
    ],
)
def test_bad_wait_arguments_name_the_field(interval: object, failures: object, field: str) -> None:
    with pytest.raises(CascadeValidationError) as raised:
        check_wait_args("poke_interval", interval, failures)
    assert raised.value.field == field


def test_the_triggerers_log_line_shows_the_short_text() -> None:
    """Airflow logs ``result=event`` through structlog (JSON in task logs, console in tests)."""
    import structlog

    ids = [str(1000000 + i) for i in range(500)]
    wait = StatusWait(ids, WaitSettings(1.0, 0.0))
    wait.record_answer(ids, {i: st(i, "deliver") for i in ids}, now=1.0)
    event = CascadeWaitEvent(payload=event_payload("success", wait))
    fields = {"event": "Trigger fired event", "result": event}
    for render in (
        structlog.processors.JSONRenderer(),
        structlog.dev.ConsoleRenderer(colors=False),
    ):
        line = str(render(None, "info", dict(fields)))
        assert "500/500 final (deliver 500)" in line and ids[0] not in line
