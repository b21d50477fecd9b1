"""Faults the emulator can inject, for reliability tests.

Queued faults (``fail_next``, ``garbage_next``, ``slow_next``, ``reply_next``,
``reset_next``) replace the gateway's answer to the next requests, in order; ``on="send"``
or ``on="state"`` keeps a fault for the next request of that kind (others pass it by).
``drop_after_accept_next`` is different: the gateway does the work, then the connection is
closed before the answer, for the next requests (``on="send"``: sends) the gateway accepts.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass

KINDS = ("send", "state")


@dataclass(frozen=True)
class Fault:
    kind: str  # "status", "garbage", "slow", "reply", "reset"
    status: int = 500
    retry_after: float | None = None
    seconds: float = 0.0
    body: bytes = b""
    content_type: str = "text/html"
    on: str | None = None  # "send", "state" or None: any request


class Faults:
    """A queue of faults for the next requests, plus random drops with a fixed seed."""

    def __init__(self) -> None:
        self._queue: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._drops: deque[str | None] = deque()
        self.drop_rate = 0.0
        self.state_fail_rate = 0.0
        self._random = random.Random(0)

    def fail_next(
        self, n: int = 1, status: int = 500, retry_after: float | None = None, *,
        on: str | None = None,
    ) -> None:  # fmt: skip
        """Answer HTTP ``status`` (5xx, 429), with ``Retry-After`` when given."""
        self._push(n, Fault("status", status=status, retry_after=retry_after, on=on))

    def garbage_next(
        self, n: int = 1, body: bytes = b"<html>502 Bad Gateway</html>", *, on: str | None = None
    ) -> None:
        """Answer 200 with an HTML page instead of the protocol."""
        self._push(n, Fault("garbage", body=body, on=on))

    def slow_next(self, n: int = 1, seconds: float = 5.0, *, on: str | None = None) -> None:
        """Wait ``seconds`` without doing the work, then answer an empty 200."""
        self._push(n, Fault("slow", seconds=seconds, on=on))

    def reply_next(
        self, body: bytes, *, status: int = 200, content_type: str = "text/plain", n: int = 1,
        on: str | None = None,
    ) -> None:  # fmt: skip
        """Answer the next requests with exactly these bytes (hostile-response tests)."""
        self._push(n, Fault("reply", status=status, body=body, content_type=content_type, on=on))

    def reset_next(self, n: int = 1, *, on: str | None = None) -> None:
        """Close the connection without processing or answering the request."""
        self._push(n, Fault("reset", on=on))

    def drop_after_accept_next(self, n: int = 1, *, on: str | None = None) -> None:
        """The next ``n`` requests the gateway accepts (``on="send"``: sends only, the lost
        send answer; ``on="state"``: status queries only) are processed (a send's
        recipients accepted, ids given), then the connection is closed before the answer.
        Requests the gateway refuses (a repeat, a bad document) do not use one up."""
        if on not in (None, *KINDS):
            raise ValueError(f"on must be one of {KINDS} or None")
        with self._lock:
            self._drops.extend([on] * n)

    def randomly(
        self, *, drop_rate: float = 0.0, state_fail_rate: float = 0.0, seed: int = 0
    ) -> None:
        """Drop answers to accepted sends, or fail state queries with 500, at random (seeded)."""
        with self._lock:
            self.drop_rate, self.state_fail_rate = drop_rate, state_fail_rate
            self._random = random.Random(seed)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self._drops.clear()
            self.drop_rate = self.state_fail_rate = 0.0

    @property
    def pending(self) -> int:
        """Queued faults and drops not used yet."""
        with self._lock:
            return len(self._queue) + len(self._drops)

    def take_queued(self, kind: str | None) -> Fault | None:
        """The first queued fault for a request of ``kind`` (None: the request could not be
        read, so only faults for any request apply)."""
        with self._lock:
            for index, fault in enumerate(self._queue):
                if fault.on is None or fault.on == kind:
                    del self._queue[index]
                    return fault
            return None

    def take_random_state_failure(self) -> Fault | None:
        with self._lock:
            if self.state_fail_rate and self._random.random() < self.state_fail_rate:
                return Fault("status", status=500)
            return None

    def take_drop(self, kind: str) -> bool:
        """Whether to drop the answer to the request of ``kind`` just processed (random
        drops apply to sends only)."""
        with self._lock:
            for index, on in enumerate(self._drops):
                if on is None or on == kind:
                    del self._drops[index]
                    return True
            if kind != "send" or not self.drop_rate:
                return False
            return self._random.random() < self.drop_rate

    def _push(self, n: int, fault: Fault) -> None:
        if fault.on not in (None, *KINDS):
            raise ValueError(f"on must be one of {KINDS} or None")
        with self._lock:
            self._queue.extend([fault] * n)
