"""Mutation run for the protocol core: each mutant is a realistic one-line bug, and the fast
gateway tests must kill every one. Run: ``.venv/bin/python -m tests.gateway.mutants [NAME...]``
(about 90 s; with NAMEs, only the mutants whose name contains one). Each file is restored
after its mutant, also when interrupted."""

from __future__ import annotations

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
G = "airflow_provider_cascade/gateway/"
# (name, file, text, replacement)
M = [
    ("GET URL limit -2", G + "_get_codec.py", "room = limit - 1 - (", "room = limit - 3 - ("),
    ("GET URL limit +2", G + "_get_codec.py", "room = limit - 1 - (", "room = limit + 1 - ("),
    (
        "JSON state batch +1",
        G + "_json_codec.py",
        "self.settings.max_state_ids)",
        "self.settings.max_state_ids + 1)",
    ),
    (
        "XML state batch +1",
        G + "_xml_codec.py",
        "self.settings.max_state_ids)",
        "self.settings.max_state_ids + 1)",
    ),
    (
        "in-order rows skip the phone check",
        G + "_decode.py",
        "            or (row.phone is not None and row.phone != recipient.phone)\n",
        "",
    ),
    ("403 not auth", G + "_decode.py", "if status in (401, 403):", "if status in (401,):"),
    (
        "partly_deliver not final",
        G + "_results.py",
        "return self is not MessageStatus.SEND",
        "return self not in (MessageStatus.SEND, MessageStatus.PARTLY_DELIVER)",
    ),
    (
        "prices summed as float",
        G + "_summary.py",
        "by_channel.get(channel, Decimal(0)) + price",
        "Decimal(float(by_channel.get(channel, Decimal(0))) + float(price))",
    ),
    (
        "client ids ignore repeat index",
        "airflow_provider_cascade/operators/_build.py",
        "recipient.phone, nth)",
        "recipient.phone)",
    ),
    (
        "secrets not scrubbed",
        G + "_codec_base.py",
        "return scrub_secrets(text, self._secrets)",
        "return text",
    ),
    ("padded state", G + "_decode.py", "state = state.strip()\n        status", "status"),
    ("JSON floats", G + "_decode.py", "json.loads(text, parse_float=Decimal)", "json.loads(text)"),
    (
        "isdigit ids",
        G + "_checks.py",
        "return value.isascii() and value.isdigit()",
        "return value.isdigit()",
    ),
    ("GET 0 is an id", G + "_decode.py", 'if i != "0"', "if True"),
    ("GET unicode digits", G + "_get_codec.py", 'r"[0-9]+(?:,[0-9]+)*"', 'r"\\d+(?:,\\d+)*"'),
    (
        "missing row dropped",
        G + "_decode.py",
        "            append(_missing(index, phone, client_id))\n",
        "            pass\n",
    ),
    (
        "unknown rows ignored",
        G + "_decode.py",
        "    if unknown:\n        first",
        "    if False:\n        first",
    ),
    (
        "batch cid not carried",
        G + "_decode.py",
        "found.client_id_message = None if client_id is None else str(client_id)",
        "pass",
    ),
    (
        "template control chars",
        G + "_checks.py",
        "        text(field, out, required=False)",
        "        pass",
    ),
    (
        "GET identical requests",
        G + "_get_codec.py",
        "        if earlier is not None:\n            raise",
        "        if False:\n            raise",
    ),
    (
        "duplicate without id not accepted",
        G + "_decode.py",
        "already = error is not None and DUPLICATE_MARK in error.lower()",
        "already = False",
    ),
    (
        "xml status word as error",
        G + "_decode.py",
        "if text and text not in _STATUS_WORDS:",
        "if text:",
    ),
    (
        "field mapping button_url",
        G + "_fields.py",
        '"button_url": "button_url",',
        '"button_link": "button_url",',
    ),
    (
        "finale_viber_read written",
        G + "_fields.py",
        'return "1"  # finale_viber_read',
        'return "true"',
    ),
    (
        "whatsapp validity to GET",
        G + "_fields.py",
        '"validity_period_whatsapp": _JSON_XML,',
        '"validity_period_whatsapp": frozenset(Variant),',
    ),
    (
        "plan_parts overfill",
        G + "_batches.py",
        "if len(phones) + bases <= max_recipients - load:",
        "if len(phones) + bases <= max_recipients - load + 1:",
    ),
    (
        "channel id 0 kept",
        G + "_decode.py",
        'if value and value != "0":\n            if value.__class__',
        "if value:\n            if value.__class__",
    ),
    (
        "check_state_ids lax",
        G + "_decode.py",
        "    if missing:\n        raise",
        "    if False:\n        raise",
    ),
    ("id 0 pollable", G + "_codec_base.py", "or int(text) == 0:", ":"),
    (
        "retry-after ignored",
        G + "_decode.py",
        'raise CascadeServerError(status, _retry_after(response.header("Retry-After")))',
        "raise CascadeServerError(status, None)",
    ),
]


def main(only: list[str]) -> int:
    survived = 0
    for name, path, old, new in M:
        if only and not any(o in name for o in only):
            continue
        file = ROOT / path
        src = file.read_text()
        if src.count(old) != 1:
            print(f"?? {name}: pattern found {src.count(old)} times")
            survived += 1
            continue
        file.write_text(src.replace(old, new))
        try:
            run = subprocess.run(
                [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly",
                 "-p", "no:cacheprovider", "tests/gateway"],
                capture_output=True, text=True, timeout=300, cwd=ROOT,
            )  # fmt: skip
        finally:
            file.write_text(src)
        failed = next((x for x in run.stdout.splitlines() if x.startswith("FAILED")), "")
        print(f"{'KILLED' if run.returncode else 'SURVIVED'} {name} :: {failed[:150]}")
        survived += run.returncode == 0
    return 1 if survived else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
