"""Mutation run over the fast tiers: each mutant is one realistic one-line bug (an exact text
replaced in one source file), and the fast tests named beside it must fail with it.

Run: ``.venv/bin/python -m tests.mutants [-j N] [NAME...]`` (with NAMEs, only the mutants whose
name or file contains one). It prints one line per mutant (file, bug, the test that killed it)
and the wall time; the exit code is 1 if any mutant survived or no longer applies.

How it stays fast: the source is never edited in place. Each worker (``-j``, default: twice the
CPU count) mutates its own copy of the tree in a temporary folder, restored after every mutant and
deleted at the end (also on Ctrl-C), so the checkout is never left mutated. The heavy
third-party imports (Airflow, httpx, lxml, hypothesis) happen once, before the workers fork;
each mutant's tests then run in a forked child that imports the provider afresh from the
mutated copy, without bytecode caches (a same-size edit within a second would otherwise load
a stale ``.pyc``). Not part of the default test run; ``tests/test_mutants.py`` checks that
every mutant still applies to the current source. ``--list`` lists the mutants; ``--tests PATH...``
runs other tests against every selected mutant (to find which existing test kills a new one).
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import pathlib
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass

ROOT = pathlib.Path(__file__).resolve().parents[1]
P = "airflow_provider_cascade/"
G = P + "gateway/"
L = P + "ledger/"
C = P + "clients/"
E = P + "testing/emulator/"


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]
    """Fast tests most likely to kill it (paths or node ids, run with ``-x``)."""
    more: tuple[tuple[str, str], ...] = ()
    """Further (text, replacement) pairs in the same file, for a bug that moves a line."""

    @property
    def edits(self) -> tuple[tuple[str, str], ...]:
        return ((self.old, self.new), *self.more)

    def apply(self, src: str) -> str:
        for old, new in self.edits:
            src = src.replace(old, new, 1)
        return src


def m(name: str, file: str, old: str, new: str, *tests: str) -> Mutant:
    return Mutant(name, file, old, new, tests)


MUTANTS: list[Mutant] = [
    # -- gateway/: the protocol core ----------------------------------------------------------
    m(
        "GET URL limit off by 2 (smaller)",
        G + "_get_codec.py",
        "room = limit - 1 - (",
        "room = limit - 3 - (",
        "tests/gateway/test_answers.py::test_get_urls_are_under_the_limit_and_as_full_as_it_allows",
    ),
    m(
        "GET URL limit off by 2 (larger)",
        G + "_get_codec.py",
        "room = limit - 1 - (",
        "room = limit + 1 - (",
        "tests/gateway/test_answers.py::test_get_urls_are_under_the_limit_and_as_full_as_it_allows",
    ),
    m(
        "JSON state batch one id too large",
        G + "_json_codec.py",
        "self.settings.max_state_ids)",
        "self.settings.max_state_ids + 1)",
        "tests/gateway/test_answers.py::test_state_batches_hold_at_most_max_state_ids",
    ),
    m(
        "XML state batch one id too large",
        G + "_xml_codec.py",
        "self.settings.max_state_ids)",
        "self.settings.max_state_ids + 1)",
        "tests/gateway/test_answers.py::test_state_batches_hold_at_most_max_state_ids",
    ),
    m(
        "quick read of a send answer skips the client id check",
        G + "_decode.py",
        "            or list(client_id_col) != list(map(_CLIENT_ID, recipients))\n",
        "",
        "tests/gateway/test_fast_decode.py",
    ),
    m(
        "quick read of a send answer skips the phone check",
        G + "_decode.py",
        "            or list(phone_col) != list(map(_PHONE, recipients))\n",
        "",
        "tests/gateway/test_fast_decode.py",
    ),
    m(
        "quick read of a send answer takes id 0 as an id",
        G + "_decode.py",
        'or "" in ids or "0" in ids:',
        'or "" in ids:',
        "tests/gateway/test_fast_decode.py",
    ),
    m(
        "quick read of a send answer skips the channel ids",
        G + "_decode.py",
        "    if channel_ids and not (channel_ids.isdigit() and channel_ids.isascii()):",
        "    if False:",
        "tests/gateway/test_fast_decode.py",
    ),
    m(
        "quick read of a send answer forgets stored bases",
        G + "_decode.py",
        "            part.message.bases\n            or len(id_col)",
        "            len(id_col)",
        "tests/gateway/test_fast_decode.py",
    ),
    m(
        "quick read of a send answer takes any HTTP status",
        G + "_json_codec.py",
        "    if response.status != 200:\n        return None\n    try:\n        return _read_usual",
        "    try:\n        return _read_usual",
        "tests/gateway/test_fast_decode.py",
    ),
    m(
        "quick read of a send answer skips the part counts",
        G + "_decode.py",
        "            or not all(map(_COUNTS.__contains__, count_col))\n",
        "",
        "tests/gateway/test_fast_decode.py",
    ),
    m(
        "quick XML read takes whitespace past libxml2's limits",
        G + "_xml_codec.py",
        '_WS = "[ \\t\\r\\n]{0,4096}"',
        '_WS = "[ \\t\\r\\n]*"',
        "tests/gateway/test_fast_decode.py",
    ),
    m(
        "quick XML read takes values past libxml2's limits",
        G + "_xml_codec.py",
        '_DIGITS = "[0-9]{0,64}"',
        '_DIGITS = "[0-9]*"',
        "tests/gateway/test_fast_decode.py",
    ),
    m(
        "quick XML read takes a repeated attribute",
        G + "_xml_codec.py",
        "    if len(set(names)) != len(names) or not set(names) <= set(SEND_FIELDS):",
        "    if not set(names) <= set(SEND_FIELDS):",
        "tests/gateway/test_fast_decode.py",
    ),
    m(
        "quick XML read takes attributes beyond the usual row",
        G + "_xml_codec.py",
        "    if len(set(names)) != len(names) or not set(names) <= set(SEND_FIELDS):",
        "    if len(set(names)) != len(names):",
        "tests/gateway/test_fast_decode.py",
    ),
    m(
        "quick XML read takes any row text",
        G + "_xml_codec.py",
        '>(?:{texts})?</information>"',
        '>[^<]*</information>"',
        "tests/gateway/test_fast_decode.py",
    ),
    m(
        "quick XML read takes a declaration with mismatched quotes",
        G + "_xml_codec.py",
        "1\\\\.0\\\\1 encoding",
        "1\\\\.0[\\\"'] encoding",
        "tests/gateway/test_fast_decode.py",
    ),
    m(
        "in-order rows skip the phone check",
        G + "_decode.py",
        "            or (row.phone is not None and row.phone != recipient.phone)\n",
        "",
        "tests/gateway/test_matching.py::test_a_client_id_answered_for_another_phone_is_refused",
    ),
    m(
        "HTTP 403 not an auth error",
        G + "_decode.py",
        "if status in (401, 403):",
        "if status in (401,):",
        "tests/gateway/test_answers.py::test_401_and_403_are_auth_errors",
    ),
    m(
        "partly_deliver not final",
        G + "_results.py",
        "return self is not MessageStatus.SEND",
        "return self not in (MessageStatus.SEND, MessageStatus.PARTLY_DELIVER)",
        "tests/gateway/test_answers.py::test_every_state_word_and_its_finality",
    ),
    m(
        "prices summed as float",
        G + "_summary.py",
        "by_channel.get(channel, Decimal(0)) + price",
        "Decimal(float(by_channel.get(channel, Decimal(0))) + float(price))",
        "tests/gateway/test_answers.py::test_prices_are_summed_exactly",
    ),
    m(
        "secrets not scrubbed",
        G + "_codec_base.py",
        "return scrub_secrets(text, self._secrets)",
        "return text",
        "tests/gateway/test_answers.py::test_a_gateway_echoing_the_password_does_not_leak_it",
    ),
    m(
        "padded state not stripped",
        G + "_decode.py",
        "state = state.strip()\n        status",
        "status",
        "tests/gateway/test_answers.py::test_padded_state_is_the_state_in_every_variant",
    ),
    m(
        "JSON prices parsed as float",
        G + "_decode.py",
        "json.loads(text, parse_float=Decimal)",
        "json.loads(text)",
        "tests/gateway/test_answers.py::test_json_prices_as_numbers_are_exact_decimals",
    ),
    m(
        "non-ASCII digits taken as ids",
        G + "_checks.py",
        "return value.isascii() and value.isdigit()",
        "return value.isdigit()",
        "tests/gateway/test_answers.py::test_ids_asked_about_are_ascii_digits",
    ),
    m(
        "GET id 0 taken as an id",
        G + "_decode.py",
        'if i != "0"',
        "if True",
        "tests/gateway/test_matching.py::test_get_ids_in_phone_order_and_zero_is_not_an_id",
    ),
    m(
        "GET answer accepts Unicode digits",
        G + "_get_codec.py",
        'r"[0-9]+(?:,[0-9]+)*"',
        'r"\\d+(?:,\\d+)*"',
        "tests/gateway/test_matching.py::test_get_non_ascii_digits_are_not_ids",
    ),
    m(
        "recipient missing from the answer dropped",
        G + "_decode.py",
        "            append(_missing(index, phone, client_id))\n",
        "            pass\n",
        "tests/gateway/test_matching.py::test_empty_row_list_gives_three_missing_answers_not_success",
    ),
    m(
        "unknown answer rows ignored",
        G + "_decode.py",
        "    if unknown:\n        first",
        "    if False:\n        first",
        "tests/gateway/test_matching.py::test_a_row_for_a_recipient_never_sent_is_never_counted",
    ),
    m(
        "batch client id not carried to the result",
        G + "_decode.py",
        "found.client_id_message = None if client_id is None else str(client_id)",
        "pass",
        "tests/gateway/test_matching.py::test_a_row_without_its_client_id_is_matched_by_phone",
    ),
    m(
        "template_data control characters pass",
        G + "_checks.py",
        "        text(field, out, required=False)",
        "        pass",
        "tests/gateway/test_validation.py::test_invalid_input_names_field_and_rule",
    ),
    m(
        "GET identical requests in one send allowed",
        G + "_get_codec.py",
        "        if earlier is not None:\n            raise",
        "        if False:\n            raise",
        "tests/gateway/test_matching.py::test_get_identical_requests_in_one_call_are_refused_before_sending",
    ),
    m(
        "'already sent' without id not recognised",
        G + "_decode.py",
        "already = error is not None and DUPLICATE_MARK in error.lower()",
        "already = False",
        "tests/gateway/test_matching.py::test_repeated_client_id_with_and_without_the_earlier_id",
    ),
    m(
        "XML status word taken as an error",
        G + "_decode.py",
        "if text and text not in STATUS_WORDS:",
        "if text:",
        "tests/gateway/test_golden_xml.py::test_send_response_document_example",
        "tests/gateway/test_matching.py::test_xml_status_text_is_not_an_error_but_a_missing_id_is",
    ),
    m(
        "field mapping button_url",
        G + "_fields.py",
        '"button_url": "button_url",',
        '"button_link": "button_url",',
        "tests/gateway/test_golden_get.py::test_send_request_equals_document",
    ),
    m(
        "finale_viber_read written as true",
        G + "_fields.py",
        'return "1"  # finale_viber_read',
        'return "true"',
        "tests/gateway/test_golden_json.py::test_send_request_equals_document",
    ),
    m(
        "whatsapp validity sent over GET",
        G + "_fields.py",
        '"validity_period_whatsapp": _JSON_XML,',
        '"validity_period_whatsapp": frozenset(Variant),',
        "tests/gateway/test_validation.py::test_invalid_input_names_field_and_rule",
    ),
    m(
        "batch planning overfills a request",
        G + "_batches.py",
        "if len(phones) + bases <= max_recipients - load:",
        "if len(phones) + bases <= max_recipients - load + 1:",
        "tests/gateway/test_answers.py::test_json_batches_hold_at_most_max_recipients",
    ),
    m(
        "channel id 0 kept as an id",
        G + "_decode.py",
        'if value and value != "0":\n            if value.__class__',
        "if value:\n            if value.__class__",
        "tests/gateway/test_golden_json.py::test_send_response_document_example",
        "tests/gateway/test_fast_decode.py::test_channel_id_0_is_no_id_on_either_path",
    ),
    m(
        "usual rows keep channel id 0",
        G + "_decode.py",
        'if viber != "0" and viber:',
        "if viber:",
        "tests/gateway/test_fast_decode.py",
    ),
    m(
        "usual rows skip the phone check",
        G + "_decode.py",
        "                or phone != recipient.phone\n",
        "",
        "tests/gateway/test_fast_decode.py",
    ),
    m(
        "usual rows take id 0",
        G + "_decode.py",
        '                or id_message == "0"\n',
        "",
        "tests/gateway/test_fast_decode.py",
    ),
    m(
        "usual rows take non-ASCII digits",
        G + "_decode.py",
        "                not (id_message.isdigit() and id_message.isascii())\n",
        "                not id_message.isdigit()\n",
        "tests/gateway/test_fast_decode.py",
    ),
    m(
        "usual rows take another client id",
        G + "_decode.py",
        "            elif client_id != expected:\n                break\n",
        "",
        "tests/gateway/test_fast_decode.py",
    ),
    m(
        "JSON usual rows ignore extra keys (error, base)",
        G + "_json_codec.py",
        'if row.__class__ is not dict or "error" in row or "base" in row:',
        "if row.__class__ is not dict:",
        "tests/gateway/test_fast_decode.py",
    ),
    m(
        "XML usual rows take an error text for a status",
        G + "_xml_codec.py",
        'if child.tag != "information" or child.text not in _USUAL_TEXTS:',
        'if child.tag != "information":',
        "tests/gateway/test_fast_decode.py",
    ),
    m(
        "XML usual rows ignore an error attribute",
        G + "_xml_codec.py",
        'if "error" in keys or "base" in keys:',
        'if "base" in keys:',
        "tests/gateway/test_fast_decode.py",
    ),
    m(
        "the fast read's results not matched when rows remain",
        G + "_decode.py",
        "if not rest and len(done) == len(part.message.recipients) and not part.message.bases:",
        "if not rest:",
        "tests/gateway/test_fast_decode.py",
    ),
    m(
        "state answer missing ids accepted",
        G + "_decode.py",
        "    if missing:\n        raise",
        "    if False:\n        raise",
        "tests/gateway/test_answers.py::test_a_status_answer_lacking_an_asked_id_is_unreadable",
    ),
    m(
        "id 0 pollable",
        G + "_codec_base.py",
        "or int(text) == 0:",
        ":",
        "tests/gateway/test_answers.py::test_ids_asked_about_are_ascii_digits",
    ),
    m(
        "Retry-After not read from a 5xx answer",
        G + "_decode.py",
        'raise CascadeServerError(status, _retry_after(response.header("Retry-After")))',
        "raise CascadeServerError(status, None)",
        "tests/gateway/test_answers.py::test_429_and_5xx_are_transient",
    ),
    # -- clients/: transport and retries --------------------------------------------------------
    m(
        "Retry-After ignored by the retry policy",
        C + "_policy.py",
        "delay = min(error.retry_after, self.policy.max_delay)",
        "pass",
        "tests/hooks/test_kills_clients.py::test_retry_after_sets_the_wait",
    ),
    m(
        "status 429 not retried for a send",
        C + "_policy.py",
        "(error.http_status == 429 or self.resend)",
        "(self.resend)",
        "tests/hooks/test_kills_clients.py::test_a_429_send_is_retried_a_5xx_send_is_not",
    ),
    m(
        "a send that may have arrived is resent at once",
        C + "_policy.py",
        "ok = failure.retryable and (self.resend or not failure.may_have_sent)",
        "ok = failure.retryable",
        "tests/hooks/test_hook.py::test_a_send_that_may_have_arrived_is_never_resent",
    ),
    m(
        "retry_limit allows one try too many",
        C + "_policy.py",
        "if self.retries >= self.policy.retry_limit:",
        "if self.retries > self.policy.retry_limit:",
        "tests/hooks/test_kills_clients.py::test_backoff_doubles_up_to_max_delay",
        "tests/hooks/test_hook.py::test_retry_limit_is_honoured",
    ),
    m(
        "backoff does not double",
        C + "_policy.py",
        "self.retry_delay * 2 ** (retry - 1)",
        "self.retry_delay * retry",
        "tests/hooks/test_kills_clients.py::test_backoff_doubles_up_to_max_delay",
    ),
    m(
        "retried 5xx status query ignores the repeat window",
        C + "_policy.py",
        "if delay is not None and error.http_status != 429:\n                    delay = max(",
        "if False:\n                    delay = max(",
        "tests/hooks/test_kills_clients.py::test_a_retried_5xx_status_query_waits_out_the_repeat_window",
    ),
    # -- hooks/ ---------------------------------------------------------------------------------
    m(
        "connection timezone extra ignored",
        P + "hooks/connection.py",
        'timezone=str(extra.get("timezone") or _defaults.TIMEZONE),',
        "timezone=_defaults.TIMEZONE,",
        "tests/hooks/test_kills_clients.py::test_the_connection_time_zone_reaches_the_request",
    ),
    m(
        "hook retry_limit argument ignored",
        P + "hooks/connection.py",
        "retry_limit=settings.retry_limit\n        if retry_limit is None",
        "retry_limit=settings.retry_limit\n        if True",
        "tests/hooks/test_hook.py::test_get_conn_is_the_cached_blocking_client",
    ),
    # -- ledger/ ----------------------------------------------------------------------------------
    m(
        "client ids ignore a phone's repeat index",
        L + "_sources.py",
        "make_cid(phone, nth) if make_cid and cid is None else cid",
        "make_cid(phone, 0) if make_cid and cid is None else cid",
        "tests/ledger/test_ledger_send.py::test_repeated_phones_are_sent_once_unless_allowed",
    ),
    m(
        "duplicate phones not skipped",
        L + "_sources.py",
        "if nth and not self.allow_repeats:",
        "if False:",
        "tests/ledger/test_ledger_send.py::test_repeated_phones_are_sent_once_unless_allowed",
    ),
    m(
        "time_send in the past check off by sign",
        L + "_sources.py",
        "if when is not None and when < now - PAST_TOLERANCE:",
        "if when is not None and when < now + PAST_TOLERANCE:",
        "tests/ledger/test_kills_ledger.py::test_time_send_tolerance_is_in_the_past_only",
    ),
    m(
        "a chunk one recipient too large",
        L + "_sources.py",
        "if size + len(piece) >= self.max_recipients:",
        "if size + len(piece) > self.max_recipients:",
        "tests/ledger/test_kills_ledger.py::test_the_intent_is_on_disk_before_the_request_leaves",
        "tests/ledger/test_ledger_send.py::test_lost_answer_is_resent_after_the_window_with_the_same_client_ids",
    ),
    m(
        "resend before the repeat window",
        L + "_send.py",
        "not_before = record.last_sent_at + self.window + self._margin",
        "not_before = record.last_sent_at",
        "tests/ledger/test_ledger_send.py::test_lost_answer_is_resent_after_the_window_with_the_same_client_ids",
    ),
    m(
        "a lost answer recorded as accepted",
        L + "_send.py",
        "rows = dict.fromkeys(sent, Fate.IN_FLIGHT if exc.may_have_sent else Fate.UNSENT)",
        "rows = dict.fromkeys(sent, Fate.ACCEPTED if exc.may_have_sent else Fate.UNSENT)",
        "tests/ledger/test_ledger_send.py::test_lost_answer_is_resent_after_the_window_with_the_same_client_ids",
    ),
    m(
        "untracked (already sent, no id) recorded as accepted",
        L + "_send.py",
        "return Row(Fate.UNTRACKED, None, UNTRACKED_NO_ID, already=True)",
        "return Row(Fate.ACCEPTED, None, None, already=True)",
        "tests/ledger/test_kills_ledger.py::test_already_sent_without_an_id_is_untracked_not_accepted",
    ),
    m(
        "a recipient missing from the answer counted as rejected",
        L + "_send.py",
        'return Row(Fate.IN_FLIGHT, None, "the answer has no row for this recipient")',
        'return Row(Fate.REJECTED, None, "the answer has no row for this recipient")',
        "tests/ledger/test_kills_ledger.py::test_a_recipient_missing_from_the_answer_is_resent_not_rejected",
    ),
    Mutant(
        "intent written after the request left",
        L + "_send.py",
        "            self._write_intent(record.batch, attempt, record.entries, sent, record.digest, "
        "lines)\n",
        "            pass\n",
        (
            "tests/ledger/test_kills_ledger.py::test_the_intent_is_on_disk_before_the_request_leaves",
        ),
        more=(
            (
                "                if batch.retry_safe and number not in recorded:\n",
                "                if False:\n",
            ),
            (
                "            response = self.client.send_request(batch, on_sent)\n",
                "            response = self.client.send_request(batch, on_sent)\n"
                "            self._write_intent(record.batch, attempt, record.entries, sent, "
                "record.digest, lines)\n",
            ),
        ),
    ),
    m(
        "an answer about an earlier copy taken for a plain acceptance",
        G + "_decode.py",
        "if not ident or a.error is not None or a.already_sent or a.answer_missing or a.base:",
        "if not ident or a.answer_missing or a.base:",
        "tests/ledger/test_ledger_send.py::test_a_second_ledger_for_the_same_run_is_saved_by_the_client_ids",
        "tests/ledger/test_kills_ledger.py::test_already_sent_without_an_id_is_untracked_not_accepted",
    ),
    m(
        "on_sent never called: nothing planned while the gateway works",
        "airflow_provider_cascade/clients/_deadline.py",
        "        if guard is not None:\n            guard.sent()",
        "        pass",
        "tests/hooks/test_hook.py::test_on_sent_runs_once_after_the_request_left_and_never_when_it_did_not",
    ),
    m(
        "an intent planned ahead kept however late its request leaves",
        L + "_send.py",
        "if attempt > 1 or written is None or now - written > self._margin / 2:",
        "if attempt > 1 or written is None:",
        "tests/ledger/test_ledger_send.py::test_an_intent_planned_ahead_is_rewritten_when_its_request_leaves_late",
    ),
    m(
        "a batch planned ahead but never sent left looking in flight",
        L + "_records.py",
        'elif head.get("result") == NOT_SENT_RESULT:',
        'elif head.get("result") == "never":',
        "tests/ledger/test_ledger_send.py::test_a_try_stopped_by_a_refusal_records_the_batch_planned_ahead_as_not_sent",
    ),
    m(
        "a 5xx during a send treated as refused (resent blindly)",
        L + "_send.py",
        "        except (CascadeServerError, CascadeResponseError) as exc:\n"
        '            result, error = "lost", str(exc)\n'
        "            rows = dict.fromkeys(sent, Fate.IN_FLIGHT)",
        "        except (CascadeServerError, CascadeResponseError) as exc:\n"
        '            result, error = "lost", str(exc)\n'
        "            rows = dict.fromkeys(sent, Fate.UNSENT)",
        "tests/ledger/test_kills_ledger.py::test_a_5xx_send_without_client_ids_is_untracked_never_resent",
    ),
    m(
        "crash between intent and outcome forgotten",
        L + "_records.py",
        '        record.rows[i] = Row(Fate.IN_FLIGHT, None, "no answer recorded (crash or lost '
        'answer)")',
        "        pass",
        "tests/ledger/test_kills_ledger.py::test_an_intent_without_its_outcome_folds_to_in_flight",
        "tests/ledger/test_kills_ledger.py::test_get_crash_after_the_request_resumes_without_a_second_copy",
    ),
    # -- operators/, sensors/, notifications/ --------------------------------------------------
    m(
        "max_failure_ratio > turned into >=",
        P + "operators/cascade.py",
        "limit is not None and ratio > limit",
        "limit is not None and ratio >= limit",
        "tests/dagruns/test_kills_operators.py::test_a_failure_ratio_equal_to_the_limit_passes",
    ),
    m(
        "no recipient accepted does not fail the send",
        P + "operators/cascade.py",
        "(limit is None and totals.accepted + totals.untracked == 0)",
        "(limit is None and totals.accepted == 0 and totals.untracked < 0)",
        "tests/dagruns/test_failure_policy.py::test_every_recipient_failing_fails_the_task",
    ),
    m(
        "mapped sends share client ids (run key without map index)",
        P + "operators/cascade.py",
        'return (ti.dag_id, ti.run_id, ti.task_id, getattr(ti, "map_index", -1))',
        "return (ti.dag_id, ti.run_id, ti.task_id)",
        "tests/dagruns/test_kills_operators.py::test_mapped_sends_to_the_same_phone_are_not_deduplicated",
    ),
    m(
        "the notifier sends without client ids",
        P + "notifications/cascade.py",
        "            messages = with_client_ids(messages, key)\n",
        "",
        "tests/dagruns/test_kills_operators.py::test_the_notifier_is_deduplicated_per_task_try",
    ),
    m(
        "the notifier's client ids ignore the try number",
        P + "notifications/cascade.py",
        '                getattr(ti, "try_number", None),\n',
        "",
        "tests/dagruns/test_kills_operators.py::test_the_notifier_is_deduplicated_per_task_try",
    ),
    m(
        "sensor: undelivered does not fail with fail_on_undelivered",
        P + "waiting.py",
        "UNDELIVERED = frozenset({MessageStatus.NOT_DELIVER, MessageStatus.EXPIRED})",
        "UNDELIVERED = frozenset({MessageStatus.NOT_DELIVER})",
        "tests/dagruns/test_failure_policy.py::test_fail_on_undelivered",
    ),
    # -- waiting.py, triggers/ ------------------------------------------------------------------
    m(
        "max_transient_failures off by one",
        P + "waiting.py",
        "if self.failures > limit:",
        "if self.failures >= limit:",
        "tests/triggers/test_waiting_policy.py::test_transient_failures_counted_in_a_row_then_fatal",
    ),
    m(
        "a success does not reset the failure count",
        P + "waiting.py",
        "        self.failures = 0\n        self.states.update(got)\n",
        "        self.states.update(got)\n",
        "tests/triggers/test_waiting_policy.py::test_transient_failures_counted_in_a_row_then_fatal",
    ),
    m(
        "poll interval below the window not raised",
        P + "waiting.py",
        "return self.window if self.interval is None else max(self.interval, self.window)",
        "return self.window if self.interval is None else self.interval",
        "tests/triggers/test_waiting_policy.py::test_interval_raised_to_the_window_and_said_once",
    ),
    m(
        "a failed query does not start the window",
        P + "waiting.py",
        "        self.last_query_at = now  # it may have reached the gateway: its window runs too\n",
        "",
        "tests/triggers/test_waiting_policy.py::test_ids_left_out_were_refused_not_failed",
    ),
    m(
        "credentials error retried as transient",
        P + "waiting.py",
        "TRANSIENT = (CascadeServerError, CascadeTransportError, CascadeResponseError)",
        "TRANSIENT = (CascadeError,)",
        "tests/triggers/test_waiting_policy.py::test_other_errors_end_the_wait_at_once",
    ),
    m(
        "final ids asked again",
        P + "waiting.py",
        "return [i for i in self.ids if not (i in self.states and self.states[i].is_final)]",
        "return list(self.ids)",
        "tests/triggers/test_waiting_policy.py::test_next_query_waits_out_the_period_from_the_last_answer",
    ),
    m(
        "price totals not pushed to XCom",
        P + "waiting.py",
        '    ti.xcom_push(key="price_totals", value=summary.totals())\n',
        "",
        "tests/triggers/test_kills_waiting.py::test_finish_pushes_exact_prices_and_totals",
    ),
    m(
        "sensor: poke interval left below the window",
        P + "sensors/cascade.py",
        "            self.poke_interval = settings.period  # Airflow's poke/reschedule loop uses it\n",
        "",
        "tests/triggers/test_kills_waiting.py::test_the_sensor_raises_its_poke_interval_to_the_window",
    ),
    m(
        "sensor poke: fail_on_undelivered dropped",
        P + "sensors/cascade.py",
        "            value = finish(\n"
        "                context, wait.states, self.log, fail_on_undelivered=self.fail_on_undelivered\n",
        "            value = finish(\n                context, wait.states, self.log\n",
        "tests/triggers/test_kills_waiting.py::test_the_sensor_poke_fails_on_undelivered",
    ),
    m(
        "trigger: handed-over query time not serialized",
        P + "triggers/cascade.py",
        '"last_polled_at": self.last_polled_at,',
        '"last_polled_at": None,',
        "tests/triggers/test_kills_waiting.py::test_the_trigger_keeps_the_handed_over_query_time",
    ),
    m(
        "trigger: first query ignores the task's last one",
        P + "triggers/cascade.py",
        "wake = max(time.time(), wait.next_query_at()) + jitter",
        "wake = time.time() + jitter",
        "tests/triggers/test_kills_waiting.py::test_the_trigger_reports_its_deadline_instead_of_asking_past_it",
    ),
    m(
        "sync client: a bulk send encodes every request up front",
        C + "sync.py",
        "        batches = Ahead(self.codec.iter_send_batches(messages))",
        "        batches = Ahead(iter(self.codec.send_batches(messages)))",
        "tests/hooks/test_hook.py::test_a_bulk_send_encodes_each_request_while_the_one_before_is_away",
    ),
    m(
        "sync client: status queries not retried",
        C + "sync.py",
        "response = self._fetch(request, resend=True)",
        "response = self._fetch(request, resend=False)",
        "tests/hooks/test_hook.py::test_status_queries_retry_5xx",
    ),
    m(
        "async client: status queries not retried",
        C + "aio.py",
        "response = await self._fetch(batch.request, resend=True)",
        "response = await self._fetch(batch.request, resend=False)",
        "tests/hooks/test_async_client.py",
    ),
    m(
        "GET status throttle forgets the window",
        C + "_throttle.py",
        "if last is not None and now - last < self.window:",
        "if False:",
        "tests/hooks/test_kills_clients.py::test_get_status_queries_skip_ids_asked_inside_the_window",
    ),
    # -- testing/emulator: the peer the tests trust ------------------------------------------
    m(
        "emulator: identical requests within the window taken",
        E + "_gateway.py",
        "if last is not None and now - last < window:",
        "if last is not None and now - last < 0:",
        "tests/emulator/test_rules.py::test_status_query_repeated_at_once_is_refused",
    ),
    m(
        "client ids checked within one request only",
        L + "_sources.py",
        "        if not repeated:\n            return\n",
        "        if True:\n            return\n",
        "tests/ledger/test_whole_input.py",
    ),
    m(
        "a CSV row's line counted from its end",
        L + "_sources.py",
        "n, start = start, reader.line_num + 1",
        "n, start = reader.line_num, reader.line_num + 1",
        "tests/ledger/test_user_files.py::test_errors_count_physical_lines",
    ),
    m(
        "undecodable bytes pass as text",
        L + "_files.py",
        "        if _UNDECODABLE in line:\n",
        "        if False:\n",
        "tests/ledger/test_user_files.py",
    ),
    m(
        "the split writes shards before checking",
        L + "_shards.py",
        "    check_recipients_file(url, encoding)\n",
        "",
        "tests/ledger/test_whole_input.py",
    ),
    m(
        "a file changed between tries goes unnoticed",
        P + "operators/cascade.py",
        "        elif recorded != identity:",
        "        elif False:",
        "tests/ledger/test_user_files.py::test_rows_appended_between_tries_stop_the_send",
    ),
    m(
        "texts cut before they are scrubbed",
        G + "_secrets.py",
        "    return scrub(text, _IN_FORCE.get())[:limit]",
        "    return text[:limit]",
        "tests/reliability/test_secret_cuts.py",
    ),
    m(
        "phones shown whole with mask_phones",
        P + "operators/cascade.py",
        "        if masked:\n            _mask_totals(totals)\n",
        "",
        "tests/reliability/test_personal_data.py",
    ),
    m(
        "emulator: a repeated client id sent again",
        E + "_gateway.py",
        '            if earlier is not None:\n                self.counters["duplicates_refused"]',
        '            if False:\n                self.counters["duplicates_refused"]',
        "tests/emulator/test_rules.py::test_send_resent_at_once_is_refused_and_not_sent",
    ),
    m(
        "emulator: stop-listed phones delivered",
        E + "_gateway.py",
        "        if phone in stop:\n",
        "        if False:\n",
        "tests/dagruns/test_failure_policy.py::test_max_failure_ratio",
    ),
    # -- ledger/_campaigns.py and ui/: the campaigns pages ----------------------------------------
    m(
        "campaigns list: DAGs the user may not read listed",
        L + "_campaigns.py",
        "allowed = {d for d in {c[0] for c in groups} if readable(d)}",
        "allowed = {c[0] for c in groups}",
        "tests/ui/test_campaign_summaries.py::test_the_list_reads_only_summaries_newest_first_of_readable_dags",
    ),
    m(
        "campaign page: sample phones shown whole with masking on",
        P + "ui/_render.py",
        "        head = shown_phone(head, masked)\n",
        "        head = head\n",
        "tests/ui/test_campaign_summaries.py::test_pages_mask_phones_and_show_no_credentials",
    ),
    m(
        "campaign summaries: a cached s3 listing read",
        L + "_campaigns.py",
        "        self.folder.fs.invalidate_cache(self.folder.path)\n",
        "        pass\n",
        "tests/ui/test_campaign_summaries_s3.py",
    ),
    m(
        "the wait keeps no campaign summary",
        L + "_wait.py",
        "        campaign_waited(self.ledger, progress.to_json())\n",
        "",
        "tests/ui/test_campaign_progress.py",
    ),
    m(
        "final states by channel: channels never tried counted",
        L + "_wait.py",
        'if own and own != "send":',
        "if own:",
        "tests/ui/test_campaign_progress.py",
    ),
]


# -- checking the list against the source ------------------------------------------------------
def problems(root: pathlib.Path = ROOT) -> list[str]:
    """Mutants whose text no longer occurs exactly once, or whose tests are missing."""
    out = []
    for mu in MUTANTS:
        path = root / mu.file
        if not path.exists():
            out.append(f"{mu.name}: {mu.file} does not exist")
            continue
        src = path.read_text(encoding="utf-8")
        for old, _new in mu.edits:
            count = src.count(old)
            if count != 1:
                out.append(f"{mu.name}: its text occurs {count} times in {mu.file}: {old[:60]!r}")
        if mu.apply(src) == src:
            out.append(f"{mu.name}: the replacement changes nothing")
        for test in mu.tests:
            file, sep, func = test.partition("::")
            if sep and not func:
                out.append(f"{mu.name}: test {test} names no test")
            elif not (root / file).exists():
                out.append(f"{mu.name}: test file {file} does not exist")
            elif func and f"def {func}(" not in (root / file).read_text(encoding="utf-8"):
                out.append(f"{mu.name}: test {test} does not exist")
    names = [mu.name for mu in MUTANTS]
    out += [f"{n}: name used twice" for n in sorted({n for n in names if names.count(n) > 1})]
    return out


# -- running ---------------------------------------------------------------------------------
_COPY = ("airflow_provider_cascade", "tests", "benchmarks", "example_dags", "docs",
         "pyproject.toml", "README.md")  # fmt: skip
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".pytest_cache")
TEST_TIMEOUT = 60  # seconds for one mutant's tests; a hang counts as killed, and is shown


OLD_MTIME = 1_000_000_000
"""Every copied file's mtime. A mutated file gets the current time, so a cached ``.pyc`` of
the original (which records the source's mtime) can never be taken for the mutant; restoring
the original also restores this mtime, so the original's cache stays valid."""


def _copy_tree(dest: pathlib.Path) -> None:
    dest.mkdir(parents=True)
    for name in _COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=_IGNORE, symlinks=True)
        elif src.exists():
            shutil.copy2(src, dest / name)
    for path in dest.rglob("*"):
        if path.is_file() and not path.is_symlink():
            os.utime(path, (OLD_MTIME, OLD_MTIME))


def _purge_modules() -> None:
    for name in list(sys.modules):
        if name.split(".")[0] in ("airflow_provider_cascade", "tests"):
            del sys.modules[name]


def _preload() -> None:
    """Import the heavy third-party modules once, in the parent (forked children share them),
    then forget the provider and the tests so that each child imports its mutated copy."""
    import importlib
    import pkgutil

    import tests.conftest  # noqa: F401  (Airflow's environment, as pytest will set it)

    for mod in ("pytest", "hypothesis", "httpx", "requests", "lxml.etree", "pytest_timeout"):
        importlib.import_module(mod)
    from importlib.metadata import entry_points

    for ep in entry_points(group="pytest11"):  # pytest's plugins (anyio's takes 0.4 s)
        if not ep.value.startswith(("airflow_provider_cascade", "tests")):
            with contextlib.suppress(Exception):
                importlib.import_module(ep.module)
                if ep.module == "anyio.pytest_plugin":
                    from anyio._core._eventloop import get_available_backends

                    get_available_backends()
    import airflow_provider_cascade

    for info in pkgutil.walk_packages(
        airflow_provider_cascade.__path__, "airflow_provider_cascade."
    ):
        if ".testing.cli" in info.name or info.name.endswith("__main__"):
            continue
        with contextlib.suppress(Exception):  # a deprecated shim may warn: not needed here
            importlib.import_module(info.name)
    _purge_modules()


class _FirstFailure:
    """A pytest plugin noting the first failing test."""

    def __init__(self) -> None:
        self.failed: str | None = None

    def pytest_runtest_logreport(self, report: object) -> None:
        if self.failed is None and getattr(report, "failed", False):
            self.failed = str(getattr(report, "nodeid", "?"))

    def pytest_collectreport(self, report: object) -> None:
        self.pytest_runtest_logreport(report)


def _run_tests(
    tree: pathlib.Path, tests: tuple[str, ...], out: pathlib.Path, *, warm_up: bool = False
) -> int:
    """Fork a child running ``tests`` in ``tree``; its exit code (or -1 on a timeout).
    ``warm_up``: only collect, writing bytecode caches of the unmutated copy (pytest's
    rewritten test modules compile in ~0.5 s otherwise, for every mutant)."""
    pid = os.fork()
    if pid == 0:  # the child
        code = 3
        try:
            sys.dont_write_bytecode = not warm_up
            os.chdir(tree)
            sys.path[:] = [str(tree) if p in ("", str(ROOT)) else p for p in sys.path]
            if str(tree) not in sys.path:
                sys.path.insert(0, str(tree))
            _purge_modules()
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            import pytest

            rec = _FirstFailure()
            args = ["-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                    "-o", f"timeout={TEST_TIMEOUT // 2}", *tests]  # fmt: skip
            if warm_up:
                args.append("--collect-only")
            code = int(pytest.main(args, plugins=[rec]))
            sys.stdout.flush()
            (out.with_suffix(".failed")).write_text(rec.failed or "")
        finally:
            os._exit(code)
    deadline = time.monotonic() + TEST_TIMEOUT
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return -1
        time.sleep(0.05)


def _worker(
    tree: pathlib.Path,
    todo: multiprocessing.Queue,
    done: multiprocessing.Queue,
    tests: tuple[str, ...],
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent cleans up
    every = sorted({t.split("::")[0] for mu in MUTANTS for t in (tests or mu.tests)})
    _run_tests(tree, tuple(every), tree / ".warm-up.log", warm_up=True)
    while True:
        index = todo.get()
        if index is None:
            return
        mu = MUTANTS[index]
        file = tree / mu.file
        src = file.read_text(encoding="utf-8")
        out = tree / f".mutant-{index}.log"
        started = time.monotonic()
        try:
            file.write_text(mu.apply(src), encoding="utf-8")
            code = _run_tests(tree, tests or mu.tests, out)
        finally:
            file.write_text(src, encoding="utf-8")
            os.utime(file, (OLD_MTIME, OLD_MTIME))
        failed_file = out.with_suffix(".failed")
        failed = failed_file.read_text() if failed_file.exists() else ""
        log = out.read_text(errors="replace") if out.exists() else ""
        done.put((index, code, failed, log[-3000:], time.monotonic() - started))


def run(selected: list[int], jobs: int, verbose: bool, tests: tuple[str, ...] = ()) -> int:
    started = time.monotonic()
    _preload()
    base = pathlib.Path(tempfile.mkdtemp(prefix="cascade-mutants-"))
    ctx = multiprocessing.get_context("fork")
    todo: multiprocessing.Queue = ctx.Queue()
    done: multiprocessing.Queue = ctx.Queue()
    workers = []
    try:
        for n in range(jobs):
            tree = base / f"w{n}"
            _copy_tree(tree)
            workers.append(ctx.Process(target=_worker, args=(tree, todo, done, tests), daemon=True))
        # the slowest first: their tests run longest
        for index in selected:
            todo.put(index)
        for _ in workers:
            todo.put(None)
        for w in workers:
            w.start()
        survived = 0
        for _ in selected:
            index, code, failed, log, took = done.get()
            mu = MUTANTS[index]
            if code == -1:
                verdict, by = "KILLED", f"(timeout after {TEST_TIMEOUT} s)"
            elif code == 1 and failed:
                verdict, by = "KILLED", failed
            elif code == 0:
                verdict, by = "SURVIVED", "no test failed: " + " ".join(mu.tests)
            else:  # an error in collection or a crash is no kill
                verdict, by = "ERROR", f"pytest exit {code} {failed}"
            survived += verdict != "KILLED"
            print(f"{verdict:8} {mu.file.removeprefix(P):26} {mu.name} :: {by} [{took:.1f} s]",
                  flush=True)  # fmt: skip
            if verdict != "KILLED" and verbose:
                print(log)
        for w in workers:
            w.join(timeout=10)
    except KeyboardInterrupt:
        print("interrupted: the checkout was never modified; removing the copies")
        return 130
    finally:
        for w in workers:
            if w.is_alive():
                w.terminate()
        shutil.rmtree(base, ignore_errors=True)
    wall = time.monotonic() - started
    print(f"{len(selected) - survived}/{len(selected)} mutants killed in {wall:.0f} s wall time "
          f"({jobs} workers)")  # fmt: skip
    return 1 if survived else 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutants", description=__doc__)
    parser.add_argument("names", nargs="*", help="only mutants whose name or file contains one")
    parser.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=2 * (os.cpu_count() or 1),
        help="workers (default: twice the CPUs; the tests mostly wait on sockets and windows)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="print survivors' logs")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--tests", nargs="+", help="run these tests for every mutant instead")
    args = parser.parse_args(argv)
    bad = problems()
    if bad:
        print("mutants that no longer apply:\n  " + "\n  ".join(bad))
        return 1
    selected = [i for i, mu in enumerate(MUTANTS)
                if not args.names or any(n in mu.name or n in mu.file for n in args.names)]  # fmt: skip
    if args.list:
        for i in selected:
            print(f"{MUTANTS[i].file.removeprefix(P):26} {MUTANTS[i].name}")
        return 0
    return run(selected, max(1, args.jobs), args.verbose, tuple(args.tests or ()))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
