"""The next batch made while the current request is with the gateway."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

_T = TypeVar("_T")


class Ahead(Iterator[_T]):
    """``items``, the next one produced when :meth:`start` is called (the ledger: reading
    the file, client ids, encoding, its intent), in this thread. An error (bad input)
    surfaces at the item, not where ``start`` was called."""

    def __init__(self, items: Iterator[_T]) -> None:
        self._items = items
        self._started = False
        self._item: _T | None = None
        self._error: Exception | None = None

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        try:
            self._item = next(self._items, None)
        except Exception as exc:  # raised at __next__, outside the request
            self._error = exc

    def __next__(self) -> _T:
        self.start()
        self._started = False
        item, self._item = self._item, None
        error, self._error = self._error, None
        if error is not None:
            raise error
        if item is None:
            raise StopIteration
        return item

    def close(self) -> _T | None:
        """Close the source (its file) here and now. Returns the item produced ahead and
        never taken (the caller stopped early), if any."""
        close = getattr(self._items, "close", None)
        if close is not None:
            close()
        item, self._item = self._item, None
        return item
