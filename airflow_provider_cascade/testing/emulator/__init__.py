"""A Cascade gateway emulator: a real HTTP server on loopback speaking GET, JSON and XML.

Use it as a context manager::

    with CascadeEmulator(time_scale=3600) as gw:
        os.environ["AIRFLOW_CONN_CASCADE_DEFAULT"] = gw.conn_uri("json")
        ...
        gw.requests          # what arrived
        gw.deliveries        # what was accepted, per recipient
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

from ._behaviour import DEFAULT_PRICES, LAST_DIGIT, Behaviour, Outcome, sms_parts
from ._faults import Faults
from ._gateway import Delivery, Gateway
from ._server import EmulatorServer, RecordedRequest

DEFAULT_LOGIN = "demo"
DEFAULT_PASSWORD = "demo-secret"
DEFAULT_TOKEN = "demo-token"

__all__ = [
    "DEFAULT_LOGIN",
    "DEFAULT_PASSWORD",
    "DEFAULT_PRICES",
    "DEFAULT_TOKEN",
    "LAST_DIGIT",
    "CascadeEmulator",
    "Delivery",
    "Outcome",
    "RecordedRequest",
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
        repeat_window: float = 60.0,
        prices: dict[str, Decimal] | None = None,
        bases: dict[str, list[tuple[str, str]]] | None = None,
    ) -> None:
        behaviour = Behaviour(time_scale=time_scale, repeat_window=repeat_window)
        if prices:
            behaviour.prices.update(prices)
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
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

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
        """An Airflow connection URI (for ``AIRFLOW_CONN_...``) pointing at this emulator."""
        return json.dumps(self.conn_dict(protocol, auth=auth, **extra))

    def conn_dict(
        self, protocol: str = "json", *, auth: str = "password", **extra: Any
    ) -> dict[str, Any]:
        host, port = self._server.server_address[:2]
        prefix = f"/{self._server.prefix}" if self._server.prefix else ""
        # the provider waits out the same once-a-minute window as this emulator applies
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
        """Forget messages, requests, counters, faults and outcome rules; restore the
        account this emulator was made with (bases and other settings stay)."""
        self.gateway.reset()
        self.gateway.accounts.clear()
        self.gateway.add_account(self.login, self.password, (self.token,))
        self.faults.clear()
        with self._server.requests_lock:
            self._server.requests.clear()
        self.gateway.behaviour.outcome_rules.clear()

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
        return Counter(d.phone for d in self.deliveries)

    def state(self, id_message: str) -> dict[str, str]:
        """The state row the gateway would answer now, without counting a request."""
        with self.gateway.lock:
            return self.gateway._state_row(self.gateway.deliveries[id_message])

    def final_prices(self, id_message: str) -> dict[str, Decimal]:
        return self.gateway.final_prices(id_message)
