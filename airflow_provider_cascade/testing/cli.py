"""``cascade-emulator``: run the gateway emulator in the foreground.

Its defaults are for trying the example DAGs: port 8765 (Airflow's api-server has 8080), a
clock 600 times faster than real time (a gateway hour passes in 6 s) and the once-a-minute
rule on, its window scaled like the clock (one gateway minute, at least one real second).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading

from .emulator import (
    DEFAULT_LOGIN,
    DEFAULT_PASSWORD,
    DEFAULT_TOKEN,
    DUPLICATE_ANSWERS,
    CascadeEmulator,
)

DEFAULT_PORT = 8765
"""Clear of Airflow's api-server (8080), log servers (8793, 8794) and Flower (5555)."""
DEFAULT_TIME_SCALE = 600.0
"""Gateway seconds per real second: the notification example (a Viber hour, then SMS)
finishes in seconds, the base campaign (sent 10 gateway minutes later) in under 20 s."""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cascade-emulator",
        description="A Cascade gateway emulator speaking the GET, JSON and XML variants.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument(
        "--port", type=int, default=DEFAULT_PORT,
        help=f"default {DEFAULT_PORT}; 0 picks a free port",
    )  # fmt: skip
    p.add_argument("--prefix", default="", help="path prefix, e.g. /api")
    p.add_argument("--login", default=DEFAULT_LOGIN, help="the one account's login")
    p.add_argument("--password", default=DEFAULT_PASSWORD, help="the one account's password")
    p.add_argument(
        "--token", default=DEFAULT_TOKEN,
        help="the one account's Bearer token (Authorization: Bearer ...)",
    )  # fmt: skip
    p.add_argument(
        "--time-scale", type=float, default=DEFAULT_TIME_SCALE,
        help=f"gateway seconds per real second (default {DEFAULT_TIME_SCALE:g}: a 60-minute "
        "validity passes in 6 s; 1: real time)",
    )  # fmt: skip
    p.add_argument(
        "--repeat-window", type=float, default=None,
        help="real seconds within which an identical request is refused (default: one "
        "gateway minute at --time-scale, at least 1 s; 0: rule off)",
    )  # fmt: skip
    p.add_argument(
        "--duplicate-answer", choices=DUPLICATE_ANSWERS, default="with_id",
        help="a repeated client_id_message is answered with the earlier id_message, or "
        "with the error text only",
    )  # fmt: skip
    p.add_argument(
        "--latency", type=float, default=0.0,
        help="real seconds each gateway call takes before its answer (default 0; 0.05 is a "
        "gateway 50 ms away)",
    )  # fmt: skip
    p.add_argument(
        "--extra-send-field", metavar="NAME=VALUE", action="append", default=[],
        help="a field every accepted send row carries besides the document's (repeatable)",
    )  # fmt: skip
    p.add_argument("--bases", metavar="FILE", help="a JSON or CSV file of recipient bases")
    p.add_argument(
        "--example-bases", action="store_true",
        help="load the bases the example DAGs use (shipped with the package)",
    )  # fmt: skip
    p.add_argument(
        "--print-conn", metavar="PROTOCOL", choices=("json", "xml", "get"),
        help="print the Airflow connection (JSON) for these options and exit",
    )  # fmt: skip
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    emulator = CascadeEmulator(
        host=args.host,
        port=0 if args.print_conn else args.port,
        prefix=args.prefix,
        login=args.login,
        password=args.password,
        token=args.token,
        time_scale=args.time_scale,
        repeat_window=args.repeat_window,
        duplicate_answer=args.duplicate_answer,
        latency=args.latency,
        extra_send_fields=dict(item.split("=", 1) for item in args.extra_send_field),
    )
    if args.print_conn:
        conn = emulator.conn_dict(args.print_conn)
        conn["port"] = args.port
        emulator.stop()
        print(json.dumps(conn))
        return 0
    if args.bases:
        emulator.load_bases(args.bases)
    if args.example_bases:
        emulator.load_example_bases()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    emulator.start()
    window = emulator.behaviour.repeat_window
    print(
        f"cascade-emulator listening on {emulator.url} (login {args.login}; clock x"
        f"{args.time_scale:g}; repeat window {window:g} s)",
        flush=True,
    )
    print(
        "Airflow connection: export AIRFLOW_CONN_CASCADE_DEFAULT="
        f"'{json.dumps(emulator.conn_dict('json'))}'",
        flush=True,
    )
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
