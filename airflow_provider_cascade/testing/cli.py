"""``cascade-emulator``: run the gateway emulator in the foreground."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading

from .emulator import DEFAULT_LOGIN, DEFAULT_PASSWORD, DEFAULT_TOKEN, CascadeEmulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="cascade-emulator",
        description="A Cascade gateway emulator speaking the GET, JSON and XML variants.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--prefix", default="", help="path prefix, e.g. /api")
    parser.add_argument("--login", default=DEFAULT_LOGIN)
    parser.add_argument("--password", default=DEFAULT_PASSWORD)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument(
        "--time-scale", type=float, default=1.0,
        help="gateway seconds per real second (3600: a 60-minute validity passes in 1 s)",
    )  # fmt: skip
    parser.add_argument(
        "--repeat-window", type=float, default=60.0,
        help="seconds within which an identical request is refused (0: off)",
    )  # fmt: skip
    parser.add_argument("--bases", help="a JSON or CSV file of recipient bases")
    args = parser.parse_args(argv)
    emulator = CascadeEmulator(
        host=args.host,
        port=args.port,
        prefix=args.prefix,
        login=args.login,
        password=args.password,
        token=args.token,
        time_scale=args.time_scale,
        repeat_window=args.repeat_window,
    )
    if args.bases:
        emulator.load_bases(args.bases)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    emulator.start()
    print(f"cascade-emulator listening on {emulator.url} (login {args.login})", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
