"""Faults the emulator can inject, for reliability tests."""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    kind: str  # "status", "garbage", "slow", "drop_after_accept", "reply", "reset"
    status: int = 500
    retry_after: float | None = None
    seconds: float = 0.0
    body: bytes = b""
    content_type: str = "text/html"


class Faults:
    """A queue of faults for the next requests, plus random drops with a fixed seed."""

    def __init__(self) -> None:
        self._queue: deque[Fault] = deque()
        self._lock = threading.Lock()
        self.drop_rate = 0.0
        self.state_fail_rate = 0.0
        self._random = random.Random(0)

    def fail_next(self, n: int = 1, status: int = 500, retry_after: float | None = None) -> None:
        self._push(n, Fault("status", status=status, retry_after=retry_after))

    def garbage_next(self, n: int = 1, body: bytes = b"<html>502 Bad Gateway</html>") -> None:
        self._push(n, Fault("garbage", body=body))

    def slow_next(self, n: int = 1, seconds: float = 5.0) -> None:
        self._push(n, Fault("slow", seconds=seconds))

    def reply_next(
        self, body: bytes, *, status: int = 200, content_type: str = "text/plain", n: int = 1
    ) -> None:
        """Answer the next requests with exactly these bytes (hostile-response tests)."""
        self._push(n, Fault("reply", status=status, body=body, content_type=content_type))

    def reset_next(self, n: int = 1) -> None:
        """Close the connection without processing or answering the request."""
        self._push(n, Fault("reset"))

    def drop_after_accept_next(self, n: int = 1) -> None:
        """Process the request, then close the connection without an answer."""
        self._push(n, Fault("drop_after_accept"))

    def randomly(
        self, *, drop_rate: float = 0.0, state_fail_rate: float = 0.0, seed: int = 0
    ) -> None:
        """Drop answers to sends, or fail state queries with 500, at random (seeded)."""
        with self._lock:
            self.drop_rate, self.state_fail_rate = drop_rate, state_fail_rate
            self._random = random.Random(seed)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self.drop_rate = self.state_fail_rate = 0.0

    def take_queued(self) -> Fault | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None

    def take_random(self, *, is_state: bool) -> Fault | None:
        with self._lock:
            if is_state and self.state_fail_rate and self._random.random() < self.state_fail_rate:
                return Fault("status", status=500)
            if not is_state and self.drop_rate and self._random.random() < self.drop_rate:
                return Fault("drop_after_accept")
            return None

    def _push(self, n: int, fault: Fault) -> None:
        with self._lock:
            self._queue.extend([fault] * n)
