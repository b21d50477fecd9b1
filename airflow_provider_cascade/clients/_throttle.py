"""The GET variant asks about one id per request, and never the same id twice a minute."""

from __future__ import annotations

import time


class GetStateThrottle:
    def __init__(self, window: float = 61.0) -> None:
        self.window = window
        self._asked: dict[str, float] = {}

    def may_ask(self, id_message: str) -> bool:
        now = time.monotonic()
        last = self._asked.get(id_message)
        if last is not None and now - last < self.window:
            return False
        self._asked[id_message] = now
        return True
