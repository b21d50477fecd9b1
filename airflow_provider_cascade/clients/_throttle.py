"""The GET variant asks about one id per request, and never the same id twice within the
gateway's repeat window (the document: once a minute)."""

from __future__ import annotations

import time

from ..gateway import defaults
from ._policy import repeat_wait


class GetStateThrottle:
    def __init__(self, repeat_window: float = defaults.REPEAT_WINDOW) -> None:
        self.window = repeat_wait(repeat_window)
        self._asked: dict[str, float] = {}

    def may_ask(self, id_message: str) -> bool:
        if self.window <= 0:
            return True
        now = time.monotonic()
        last = self._asked.get(id_message)
        if last is not None and now - last < self.window:
            return False
        self._asked[id_message] = now
        if len(self._asked) > 4096:  # forget ids asked about longer ago than the window
            self._asked = {k: t for k, t in self._asked.items() if now - t < self.window}
        return True
