"""A Cascade gateway emulator: a real HTTP server on loopback speaking GET, JSON and XML.

Use it as a context manager::

    with CascadeEmulator(time_scale=3600) as gw:
        os.environ["AIRFLOW_CONN_CASCADE_DEFAULT"] = gw.conn_uri("json")
        ...
        gw.requests          # what arrived
        gw.deliveries        # what was accepted, per recipient

The once-a-minute rule is always on unless ``repeat_window=0`` is asked for: by default its
window is one gateway minute on the emulator's clock, never shorter than one real second
(:func:`scaled_repeat_window`). ``conn_uri`` tells the provider the same window.
"""

from __future__ import annotations

import copy
import json
import threading
from collections import Counter
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

from ._behaviour import (
    DEFAULT_PRICES,
    DUPLICATE_ANSWERS,
    LAST_DIGIT,
    MIN_REPEAT_WINDOW,
    Behaviour,
    Outcome,
    scaled_repeat_window,
    sms_parts,
)
from ._faults import Faults
from ._gateway import Delivery, Gateway
from ._server import EmulatorServer, RecordedRequest

DEFAULT_LOGIN = "demo"
DEFAULT_PASSWORD = "demo-secret"
DEFAULT_TOKEN = "demo-token"
EXAMPLE_BASES = Path(__file__).with_name("example_bases.json")
"""The recipient bases the example DAGs send to (1001, 1002 and the stop list 1003)."""

__all__ = [
    "DEFAULT_LOGIN",
    "DEFAULT_PASSWORD",
    "DEFAULT_PRICES",
    "DEFAULT_TOKEN",
    "DUPLICATE_ANSWERS",
    "EXAMPLE_BASES",
    "LAST_DIGIT",
    "MIN_REPEAT_WINDOW",
    "CascadeEmulator",
    "Delivery",
    "Outcome",
    "RecordedRequest",
    "scaled_repeat_window",
    "sms_parts",
]


class CascadeEmulator:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        prefix: str = "",
        login: str = DEFAULT_LOGIN,
        password: str = DEFAULT_PASSWORD,
        token: str = DEFAULT_TOKEN,
        time_scale: float = 1.0,
        repeat_window: float | None = None,
        duplicate_answer: str = "with_id",
        prices: dict[str, Decimal] | None = None,
        bases: dict[str, list[tuple[str, str]]] | None = None,
        latency: float = 0.0,
        extra_send_fields: dict[str, str] | None = None,
    ) -> None:
        """The arguments the ``cascade-emulator`` options set, and what only Python sets.

        :param host: address to listen on.
        :param port: port to listen on; 0 picks a free one.
        :param prefix: serve under a path prefix, e.g. ``/api``.
        :param login: the one account's login.
        :param password: the one account's password.
        :param token: the one account's Bearer token (``Authorization: Bearer ...``).
        :param time_scale: gateway seconds per real second; 1 is real time.
        :param repeat_window: real seconds within which an identical request is refused;
            None: one gateway minute at ``time_scale``, at least 1 s; 0: the rule off.
        :param duplicate_answer: a repeated ``client_id_message`` is answered with the earlier
            ``id_message`` (``with_id``) or with the error text only (``without_id``).
        :param prices: prices per channel replacing the defaults, e.g.
            ``{"sms": Decimal("2.05")}``.
        :param bases: recipient bases, ``{base id: [(phone, name), ...]}``.
        :param latency: real seconds each gateway call takes before its answer (0: at once),
            to measure and test as a gateway across the internet behaves.
        :param extra_send_fields: fields every accepted send row carries besides the
            document's, as a newer gateway's answer might.
        """
        if repeat_window is None:
            repeat_window = scaled_repeat_window(time_scale)
        behaviour = Behaviour(
            time_scale=time_scale,
            repeat_window=repeat_window,
            duplicate_answer=duplicate_answer,
            latency=latency,
            extra_send_fields=dict(extra_send_fields or {}),
        )
        if prices:
            behaviour.prices.update(prices)
        self._initial = copy.deepcopy(behaviour)
        self.gateway = Gateway(behaviour)
        self.gateway.add_account(login, password, (token,))
        self.login, self.password, self.token = login, password, token
        for base, numbers in (bases or {}).items():
            self.gateway.add_base(base, numbers)
        self._server = EmulatorServer((host, port), self.gateway, prefix)
        self._thread: threading.Thread | None = None

    # -- life cycle -------------------------------------------------------------------
    def start(self) -> CascadeEmulator:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="cascade-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() would wait forever for a loop never run
            self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> CascadeEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- where and who ------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        prefix = f"/{self._server.prefix}" if self._server.prefix else ""
        return f"http://{host!s}:{port}{prefix}"

    def conn_uri(self, protocol: str = "json", *, auth: str = "password", **extra: Any) -> str:
        """An Airflow connection (JSON, for ``AIRFLOW_CONN_...``) pointing at this emulator;
        its extra ``repeat_window`` is the emulator's window, so the provider waits as long."""
        return json.dumps(self.conn_dict(protocol, auth=auth, **extra))

    def conn_dict(
        self, protocol: str = "json", *, auth: str = "password", **extra: Any
    ) -> dict[str, Any]:
        host, port = self._server.server_address[:2]
        prefix = f"/{self._server.prefix}" if self._server.prefix else ""
        extras: dict[str, Any] = {
            "protocol": protocol,
            "repeat_window": self.behaviour.repeat_window,
            **extra,
        }
        conn: dict[str, Any] = {
            "conn_type": "cascade",
            "host": f"http://{host!s}{prefix}",
            "port": port,
        }
        if auth == "token":
            extras["token"] = self.token
        else:
            conn.update(login=self.login, password=self.password)
        conn["extra"] = extras
        return conn

    def conn_url(self, protocol: str = "json") -> str:
        """The same as a URI string with login and password (no token)."""
        host, port = self._server.server_address[:2]
        return (
            f"cascade://{quote(self.login, safe='')}:{quote(self.password, safe='')}"
            f"@{host!s}:{port}/?protocol={protocol}&scheme=http"
            f"&repeat_window={self.behaviour.repeat_window:g}"
        )

    # -- steering -----------------------------------------------------------------------
    @property
    def behaviour(self) -> Behaviour:
        return self.gateway.behaviour

    @property
    def faults(self) -> Faults:
        return self._server.faults

    def steer(self, pattern: str, outcome: Outcome | str) -> None:
        self.gateway.behaviour.steer(pattern, outcome)

    def set_time_scale(self, scale: float) -> None:
        self.gateway.set_time_scale(scale)

    def add_base(self, base: str | int, numbers: list[tuple[str, str]]) -> None:
        self.gateway.add_base(str(base), numbers)

    def load_example_bases(self) -> None:
        """The bases the example DAGs use (shipped with the package: :data:`EXAMPLE_BASES`)."""
        self.load_bases(EXAMPLE_BASES)

    def load_bases(self, path: str | Path) -> None:
        """Bases from JSON ``{"4": [{"phone": .., "name": ..}]}`` or CSV ``base,phone,name``."""
        text = Path(path).read_text(encoding="utf-8")
        if str(path).endswith(".csv"):
            import csv

            grouped: dict[str, list[tuple[str, str]]] = {}
            for row in csv.DictReader(text.splitlines()):
                grouped.setdefault(row["base"], []).append((row["phone"], row.get("name") or ""))
            for base, numbers in grouped.items():
                self.add_base(base, numbers)
            return
        for base, numbers in json.loads(text).items():
            self.add_base(base, [(n["phone"], n.get("name", "")) for n in numbers])

    def reset(self) -> None:
        """Forget messages, requests, counters, faults and recorded errors; restore the
        account and every behaviour setting (clock scale, repeat window, duplicate answer,
        prices, outcome rules) this emulator was made with. Bases stay."""
        self.gateway.reset()
        self.gateway.accounts.clear()
        self.gateway.add_account(self.login, self.password, (self.token,))
        self.faults.clear()
        with self._server.requests_lock:
            self._server.requests.clear()
            self._server.internal_errors.clear()
        initial = copy.deepcopy(self._initial)
        if initial.time_scale != self.behaviour.time_scale:
            self.gateway.set_time_scale(initial.time_scale)
        initial.time_scale = self.behaviour.time_scale
        self.gateway.behaviour = initial

    # -- inspection ---------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._server.requests_lock:
            return list(self._server.requests)

    @property
    def deliveries(self) -> list[Delivery]:
        with self.gateway.lock:
            return list(self.gateway.deliveries.values())

    @property
    def counters(self) -> Counter[str]:
        with self.gateway.lock:
            return Counter(self.gateway.counters)

    def accepted_per_phone(self) -> Counter[str]:
        """How many times each phone was accepted (a message each time)."""
        return Counter(d.phone for d in self.deliveries)

    def accepted_per_client_id(self) -> Counter[str]:
        """How many times each ``client_id_message`` was accepted (the gateway's rule makes
        this at most 1; a test of the provider asserts it through this)."""
        return Counter(d.client_id_message for d in self.deliveries if d.client_id_message)

    def duplicates(self) -> dict[str, int]:
        """Phones accepted more than once, with their counts: ``{}`` when nobody was
        messaged twice."""
        return {phone: n for phone, n in self.accepted_per_phone().items() if n > 1}

    @property
    def internal_errors(self) -> list[str]:
        """Tracebacks of the emulator's own failures (each answered with HTTP 500)."""
        with self._server.requests_lock:
            return list(self._server.internal_errors)

    def state(self, id_message: str) -> dict[str, str]:
        """The state row the gateway would answer now, without counting a request."""
        with self.gateway.lock:
            return self.gateway._state_row(self.gateway.deliveries[id_message])

    def final_prices(self, id_message: str) -> dict[str, Decimal]:
        return self.gateway.final_prices(id_message)
