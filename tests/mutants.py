"""Mutation run over the fast tiers: each mutant is one realistic one-line bug (an exact text
replaced in one source file), and the fast tests named beside it must fail with it.

Run: ``.venv/bin/python -m tests.mutants [-j N] [NAME...]`` (with NAMEs, only the mutants whose
name or file contains one). It prints one line per mutant (file, bug, the test that killed it)
and the wall time; the exit code is 1 if any mutant survived or no longer applies.

How it stays fast: the source is never edited in place. Each worker (``-j``, default: the CPU
count) mutates its own copy of the tree in a temporary folder, restored after every mutant and
deleted at the end (also on Ctrl-C), so the checkout is never left mutated. The heavy
third-party imports (Airflow, httpx, lxml, hypothesis) happen once, before the workers fork;
each mutant's tests then run in a forked child that imports the provider afresh from the
mutated copy, without bytecode caches (a same-size edit within a second would otherwise load
a stale ``.pyc``). Not part of the default test run; ``tests/test_mutants.py`` checks that
every mutant still applies to the current source.
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


T = "tests/"
GW_ANSWERS = T + "gateway/test_answers.py"
GW_GOLDEN = (T + "gateway/test_golden_get.py", T + "gateway/test_golden_json.py",
             T + "gateway/test_golden_xml.py")  # fmt: skip
GW_MATCH = T + "gateway/test_matching.py"
GW_VALID = T + "gateway/test_validation.py"
GW_PROPS = T + "gateway/test_properties.py"
KILLS_GW = T + "gateway/test_kills_fast.py"
KILLS_LEDGER = T + "ledger/test_kills_ledger.py"
KILLS_OPS = T + "dagruns/test_kills_operators.py"
KILLS_CLIENTS = T + "hooks/test_kills_clients.py"
KILLS_WAIT = T + "triggers/test_kills_waiting.py"
KILLS_EMU = T + "emulator/test_kills_emulator.py"
LEDGER = T + "ledger/test_ledger_send.py"
HOOK = T + "hooks/test_hook.py"
ASYNC = T + "hooks/test_async_client.py"
POLICY = T + "dagruns/test_failure_policy.py"
WAIT_POLICY = T + "triggers/test_waiting_policy.py"
WAIT_EMU = T + "triggers/test_waiting_emulator.py"
TRIGGER = T + "triggers/test_state_trigger.py"
EMU_RULES = T + "emulator/test_rules.py"
EMU_WIRE = T + "emulator/test_wire.py"
EMU_STRICT = T + "emulator/test_strict.py"

MUTANTS: list[Mutant] = [
    # -- gateway/: the protocol core ----------------------------------------------------------
    m(
        "GET URL limit off by 2 (smaller)",
        G + "_get_codec.py",
        "room = limit - 1 - (",
        "room = limit - 3 - (",
        *GW_GOLDEN,
        KILLS_GW,
    ),
    m(
        "GET URL limit off by 2 (larger)",
        G + "_get_codec.py",
        "room = limit - 1 - (",
        "room = limit + 1 - (",
        *GW_GOLDEN,
        KILLS_GW,
    ),
    m(
        "JSON state batch one id too large",
        G + "_json_codec.py",
        "self.settings.max_state_ids)",
        "self.settings.max_state_ids + 1)",
        KILLS_GW,
        *GW_GOLDEN,
    ),
    m(
        "XML state batch one id too large",
        G + "_xml_codec.py",
        "self.settings.max_state_ids)",
        "self.settings.max_state_ids + 1)",
        KILLS_GW,
        *GW_GOLDEN,
    ),
    m(
        "in-order rows skip the phone check",
        G + "_decode.py",
        "            or (row.phone is not None and row.phone != recipient.phone)\n",
        "",
        GW_MATCH,
        GW_ANSWERS,
    ),
    m(
        "HTTP 403 not an auth error",
        G + "_decode.py",
        "if status in (401, 403):",
        "if status in (401,):",
        GW_ANSWERS,
        KILLS_GW,
    ),
    m(
        "partly_deliver not final",
        G + "_results.py",
        "return self is not MessageStatus.SEND",
        "return self not in (MessageStatus.SEND, MessageStatus.PARTLY_DELIVER)",
        KILLS_GW,
        GW_ANSWERS,
    ),
    m(
        "prices summed as float",
        G + "_summary.py",
        "by_channel.get(channel, Decimal(0)) + price",
        "Decimal(float(by_channel.get(channel, Decimal(0))) + float(price))",
        KILLS_GW,
    ),
    m(
        "secrets not scrubbed",
        G + "_codec_base.py",
        "return scrub_secrets(text, self._secrets)",
        "return text",
        KILLS_GW,
        GW_ANSWERS,
    ),
    m(
        "padded state not stripped",
        G + "_decode.py",
        "state = state.strip()\n        status",
        "status",
        GW_ANSWERS,
        KILLS_GW,
    ),
    m(
        "JSON prices parsed as float",
        G + "_decode.py",
        "json.loads(text, parse_float=Decimal)",
        "json.loads(text)",
        GW_ANSWERS,
        KILLS_GW,
    ),
    m(
        "non-ASCII digits taken as ids",
        G + "_checks.py",
        "return value.isascii() and value.isdigit()",
        "return value.isdigit()",
        GW_VALID,
        GW_PROPS,
    ),
    m("GET id 0 taken as an id", G + "_decode.py", 'if i != "0"', "if True", GW_ANSWERS),
    m(
        "GET answer accepts Unicode digits",
        G + "_get_codec.py",
        'r"[0-9]+(?:,[0-9]+)*"',
        'r"\\d+(?:,\\d+)*"',
        GW_ANSWERS,
        KILLS_GW,
    ),
    m(
        "recipient missing from the answer dropped",
        G + "_decode.py",
        "            append(_missing(index, phone, client_id))\n",
        "            pass\n",
        GW_MATCH,
        GW_ANSWERS,
    ),
    m(
        "unknown answer rows ignored",
        G + "_decode.py",
        "    if unknown:\n        first",
        "    if False:\n        first",
        GW_MATCH,
        GW_ANSWERS,
    ),
    m(
        "batch client id not carried to the result",
        G + "_decode.py",
        "found.client_id_message = None if client_id is None else str(client_id)",
        "pass",
        GW_MATCH,
        GW_ANSWERS,
    ),
    m(
        "template_data control characters pass",
        G + "_checks.py",
        "        text(field, out, required=False)",
        "        pass",
        GW_VALID,
    ),
    m(
        "GET identical requests in one send allowed",
        G + "_get_codec.py",
        "        if earlier is not None:\n            raise",
        "        if False:\n            raise",
        *GW_GOLDEN,
        GW_VALID,
        KILLS_GW,
    ),
    m(
        "'already sent' without id not recognised",
        G + "_decode.py",
        "already = error is not None and DUPLICATE_MARK in error.lower()",
        "already = False",
        GW_ANSWERS,
        GW_MATCH,
    ),
    m(
        "XML status word taken as an error",
        G + "_decode.py",
        "if text and text not in _STATUS_WORDS:",
        "if text:",
        GW_ANSWERS,
        *GW_GOLDEN,
    ),
    m(
        "field mapping button_url",
        G + "_fields.py",
        '"button_url": "button_url",',
        '"button_link": "button_url",',
        *GW_GOLDEN,
        GW_PROPS,
    ),
    m(
        "finale_viber_read written as true",
        G + "_fields.py",
        'return "1"  # finale_viber_read',
        'return "true"',
        *GW_GOLDEN,
        GW_PROPS,
    ),
    m(
        "whatsapp validity sent over GET",
        G + "_fields.py",
        '"validity_period_whatsapp": _JSON_XML,',
        '"validity_period_whatsapp": frozenset(Variant),',
        GW_VALID,
        *GW_GOLDEN,
        GW_PROPS,
    ),
    m(
        "batch planning overfills a request",
        G + "_batches.py",
        "if len(phones) + bases <= max_recipients - load:",
        "if len(phones) + bases <= max_recipients - load + 1:",
        *GW_GOLDEN,
        GW_PROPS,
        KILLS_GW,
    ),
    m(
        "channel id 0 kept as an id",
        G + "_decode.py",
        'if value and value != "0":\n            if value.__class__',
        "if value:\n            if value.__class__",
        GW_ANSWERS,
    ),
    m(
        "state answer missing ids accepted",
        G + "_decode.py",
        "    if missing:\n        raise",
        "    if False:\n        raise",
        GW_ANSWERS,
        GW_MATCH,
    ),
    m("id 0 pollable", G + "_codec_base.py", "or int(text) == 0:", ":", GW_VALID, KILLS_GW),
    m(
        "Retry-After not read from a 5xx answer",
        G + "_decode.py",
        'raise CascadeServerError(status, _retry_after(response.header("Retry-After")))',
        "raise CascadeServerError(status, None)",
        GW_ANSWERS,
        KILLS_GW,
    ),
    # -- clients/: transport and retries --------------------------------------------------------
    m(
        "Retry-After ignored by the retry policy",
        C + "_policy.py",
        "delay = min(error.retry_after, self.policy.max_delay)",
        "pass",
        KILLS_CLIENTS,
    ),
    m(
        "status 429 not retried for a send",
        C + "_policy.py",
        "(error.http_status == 429 or self.resend)",
        "(self.resend)",
        KILLS_CLIENTS,
        HOOK,
    ),
    m(
        "a send that may have arrived is resent at once",
        C + "_policy.py",
        "ok = failure.retryable and (self.resend or not failure.may_have_sent)",
        "ok = failure.retryable",
        KILLS_CLIENTS,
        HOOK,
        ASYNC,
    ),
    m(
        "retry_limit allows one try too many",
        C + "_policy.py",
        "if self.retries >= self.policy.retry_limit:",
        "if self.retries > self.policy.retry_limit:",
        HOOK,
        KILLS_CLIENTS,
    ),
    m(
        "backoff does not double",
        C + "_policy.py",
        "self.retry_delay * 2 ** (retry - 1)",
        "self.retry_delay * retry",
        KILLS_CLIENTS,
    ),
    m(
        "retried 5xx status query ignores the repeat window",
        C + "_policy.py",
        "if delay is not None and error.http_status != 429:\n                    delay = max(",
        "if False:\n                    delay = max(",
        KILLS_CLIENTS,
        HOOK,
    ),
    # -- hooks/ ---------------------------------------------------------------------------------
    m(
        "connection timezone extra ignored",
        P + "hooks/connection.py",
        'timezone=str(extra.get("timezone") or _defaults.TIMEZONE),',
        "timezone=_defaults.TIMEZONE,",
        HOOK,
        KILLS_CLIENTS,
    ),
    m(
        "hook retry_limit argument ignored",
        P + "hooks/connection.py",
        "retry_limit=settings.retry_limit\n        if retry_limit is None",
        "retry_limit=settings.retry_limit\n        if True",
        HOOK,
        KILLS_CLIENTS,
    ),
    # -- ledger/ ----------------------------------------------------------------------------------
    m(
        "client ids ignore a phone's repeat index",
        L + "_sources.py",
        "stable_client_id(*self.run_key, index, r.phone, nth)",
        "stable_client_id(*self.run_key, index, r.phone)",
        KILLS_LEDGER,
        LEDGER,
    ),
    m(
        "duplicate phones not skipped",
        L + "_sources.py",
        "if nth and not self.allow_repeats:",
        "if False:",
        KILLS_LEDGER,
        LEDGER,
        POLICY,
    ),
    m(
        "time_send in the past check off by sign",
        L + "_sources.py",
        "if when < now - PAST_TOLERANCE:",
        "if when < now + PAST_TOLERANCE:",
        KILLS_LEDGER,
        LEDGER,
    ),
    m(
        "a chunk one recipient too large",
        L + "_sources.py",
        "if size + len(piece) >= self.max_recipients:",
        "if size + len(piece) > self.max_recipients:",
        KILLS_LEDGER,
        LEDGER,
    ),
    m(
        "resend before the repeat window",
        L + "_send.py",
        "not_before = record.last_sent_at + self.window + min(1.0, 0.1 * self.window)",
        "not_before = record.last_sent_at",
        KILLS_LEDGER,
        LEDGER,
    ),
    m(
        "a lost answer recorded as accepted",
        L + "_send.py",
        "rows = dict.fromkeys(sent, Fate.IN_FLIGHT if exc.may_have_sent else Fate.UNSENT)",
        "rows = dict.fromkeys(sent, Fate.ACCEPTED if exc.may_have_sent else Fate.UNSENT)",
        KILLS_LEDGER,
        LEDGER,
    ),
    m(
        "untracked (already sent, no id) recorded as accepted",
        L + "_send.py",
        "return Row(Fate.UNTRACKED, None, UNTRACKED_NO_ID, already=True)",
        "return Row(Fate.ACCEPTED, None, None, already=True)",
        KILLS_LEDGER,
        LEDGER,
    ),
    m(
        "a recipient missing from the answer counted as rejected",
        L + "_send.py",
        'return Row(Fate.IN_FLIGHT, None, "the answer has no row for this recipient")',
        'return Row(Fate.REJECTED, None, "the answer has no row for this recipient")',
        KILLS_LEDGER,
        LEDGER,
    ),
    Mutant(
        "intent written after the request left",
        L + "_send.py",
        '        self.ledger.write_record(\n            record.batch, attempt, "intent",\n'
        "            intent_lines(record.batch, attempt, now, record.entries, sent, "
        "try_=self.try_number),\n        )  # fmt: skip\n",
        "",
        (KILLS_LEDGER,),
        more=(
            (
                "            answers = self.client.send_batch(batch)\n",
                "            answers = self.client.send_batch(batch)\n"
                '            self.ledger.write_record(record.batch, attempt, "intent", '
                "intent_lines(record.batch, attempt, now, record.entries, sent))\n",
            ),
        ),
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
        KILLS_LEDGER,
        LEDGER,
    ),
    m(
        "crash between intent and outcome forgotten",
        L + "_records.py",
        '        record.rows[i] = Row(Fate.IN_FLIGHT, None, "no answer recorded (crash or lost '
        'answer)")',
        "        pass",
        KILLS_LEDGER,
        LEDGER,
    ),
    # -- operators/, sensors/, notifications/ --------------------------------------------------
    m(
        "max_failure_ratio > turned into >=",
        P + "operators/cascade.py",
        "limit is not None and ratio > limit",
        "limit is not None and ratio >= limit",
        KILLS_OPS,
        POLICY,
    ),
    m(
        "no recipient accepted does not fail the send",
        P + "operators/cascade.py",
        "(limit is None and totals.accepted + totals.untracked == 0)",
        "(limit is None and totals.accepted == 0 and totals.untracked < 0)",
        POLICY,
        KILLS_OPS,
    ),
    m(
        "the notifier sends without client ids",
        P + "notifications/cascade.py",
        "            messages = with_client_ids(messages, key)\n",
        "",
        KILLS_OPS,
    ),
    m(
        "the notifier's client ids ignore the try number",
        P + "notifications/cascade.py",
        '                getattr(ti, "try_number", None),\n',
        "",
        KILLS_OPS,
    ),
    m(
        "sensor: undelivered does not fail with fail_on_undelivered",
        P + "waiting.py",
        "UNDELIVERED = frozenset({MessageStatus.NOT_DELIVER, MessageStatus.EXPIRED})",
        "UNDELIVERED = frozenset({MessageStatus.NOT_DELIVER})",
        KILLS_WAIT,
        KILLS_OPS,
    ),
    # -- waiting.py, triggers/ ------------------------------------------------------------------
    m(
        "max_transient_failures off by one",
        P + "waiting.py",
        "if self.failures > limit:",
        "if self.failures >= limit:",
        WAIT_POLICY,
        WAIT_EMU,
        KILLS_WAIT,
    ),
    m(
        "a success does not reset the failure count",
        P + "waiting.py",
        "        self.failures = 0\n        self.states.update(got)\n",
        "        self.states.update(got)\n",
        WAIT_POLICY,
        KILLS_WAIT,
    ),
    m(
        "poll interval below the window not raised",
        P + "waiting.py",
        "return self.window if self.interval is None else max(self.interval, self.window)",
        "return self.window if self.interval is None else self.interval",
        WAIT_POLICY,
        WAIT_EMU,
    ),
    m(
        "a failed query does not start the window",
        P + "waiting.py",
        "        self.last_query_at = now  # it may have reached the gateway: its window runs too\n",
        "",
        WAIT_POLICY,
        KILLS_WAIT,
    ),
    m(
        "credentials error retried as transient",
        P + "waiting.py",
        "TRANSIENT = (CascadeServerError, CascadeTransportError, CascadeResponseError)",
        "TRANSIENT = (CascadeError,)",
        WAIT_POLICY,
        KILLS_WAIT,
        WAIT_EMU,
    ),
    m(
        "final ids asked again",
        P + "waiting.py",
        "return [i for i in self.ids if not (i in self.states and self.states[i].is_final)]",
        "return list(self.ids)",
        WAIT_POLICY,
        KILLS_WAIT,
    ),
    m(
        "price totals not pushed to XCom",
        P + "waiting.py",
        '    ti.xcom_push(key="price_totals", value=summary.totals())\n',
        "",
        KILLS_WAIT,
        WAIT_POLICY,
    ),
    # -- testing/emulator: the peer the tests trust ------------------------------------------
    m(
        "emulator: identical requests within the window taken",
        E + "_gateway.py",
        "if last is not None and now - last < window:",
        "if last is not None and now - last < 0:",
        EMU_RULES,
        KILLS_EMU,
    ),
    m(
        "emulator: a repeated client id sent again",
        E + "_gateway.py",
        '            if earlier is not None:\n                self.counters["duplicates_refused"]',
        '            if False:\n                self.counters["duplicates_refused"]',
        EMU_RULES,
        KILLS_EMU,
    ),
    m(
        "emulator: stop-listed phones delivered",
        E + "_gateway.py",
        "        if phone in stop:\n",
        "        if False:\n",
        EMU_RULES,
        KILLS_EMU,
        POLICY,
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
            if not (root / test.split("::")[0]).exists():
                out.append(f"{mu.name}: test {test} does not exist")
    names = [mu.name for mu in MUTANTS]
    out += [f"{n}: name used twice" for n in sorted({n for n in names if names.count(n) > 1})]
    return out


# -- running ---------------------------------------------------------------------------------
_COPY = ("airflow_provider_cascade", "tests", "example_dags", "docs", "pyproject.toml", "README.md")
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".pytest_cache")
TEST_TIMEOUT = 60  # seconds for one mutant's tests; a hang counts as killed, and is shown


def _copy_tree(dest: pathlib.Path) -> None:
    dest.mkdir(parents=True)
    for name in _COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=_IGNORE, symlinks=True)
        elif src.exists():
            shutil.copy2(src, dest / name)


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


def _run_tests(tree: pathlib.Path, tests: tuple[str, ...], out: pathlib.Path) -> int:
    """Fork a child running ``tests`` in ``tree``; its exit code (or -1 on a timeout)."""
    pid = os.fork()
    if pid == 0:  # the child
        code = 3
        try:
            sys.dont_write_bytecode = True
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
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2)
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
