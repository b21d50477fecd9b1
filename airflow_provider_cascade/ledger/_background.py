"""The two threads a ledger send keeps beside its requests: one plans the next batch (reads
the input, encodes the request, writes its intent) and one writes outcomes in order, both while
a request is with the gateway. Neither ever sends: only the sending thread does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, TypeVar

T = TypeVar("T")
_END: Any = object()


class Ahead(Generic[T]):
    """An iterator whose next item is made on a thread of its own once ``start`` is called
    (the sender calls it as a request leaves, so planning never delays a departure); its
    errors surface when the item they stopped is taken."""

    def __init__(self, source: Iterator[T]) -> None:
        self._source = source
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="cascade-plan")
        self._next: Future[T] | None = None
        self._ended = False

    def start(self) -> None:
        """Begin making the next item, if it is not under way already."""
        if self._next is None and not self._ended:
            self._next = self._pool.submit(next, self._source, _END)

    def __iter__(self) -> Ahead[T]:
        return self

    def __next__(self) -> T:
        self.start()
        if self._next is None:
            raise StopIteration
        pending, self._next = self._next, None
        item = pending.result()
        if item is _END:
            self._ended = True
            raise StopIteration
        return item

    def close(self) -> T | None:
        """Stop; returns the item made ahead and never taken (None if there is none)."""
        pending, self._next, self._ended = self._next, None, True
        item = None
        if pending is not None:
            try:
                item = pending.result()
            except Exception:  # the error was the planner's; the caller's own one is raised
                item = None
        self._pool.shutdown(wait=True)
        close = getattr(self._source, "close", None)
        if close is not None:
            close()
        return None if item is _END else item


class InOrder:
    """Runs writes one after the other on a thread of its own. A failed write stops the
    next request: ``check`` raises it."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="cascade-record")
        self._pending: list[Future[None]] = []

    def submit(self, write: Callable[[], None]) -> None:
        self.check()
        self._pending.append(self._pool.submit(write))

    def check(self) -> None:
        """Raise the first failed write; forget the finished ones."""
        still = []
        for future in self._pending:
            if future.done():
                future.result()
            else:
                still.append(future)
        self._pending = still

    def flush(self) -> None:
        """Wait for every write; raise the first that failed."""
        pending, self._pending = self._pending, []
        errors = [f.exception() for f in pending]
        first = next((e for e in errors if e is not None), None)
        if first is not None:
            raise first

    def close(self) -> None:
        self._pool.shutdown(wait=True)
