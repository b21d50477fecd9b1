"""Suppression files: phones never to message (opt-outs, complaints, staff), removed before
sending. Exact: the phones are kept as a sorted array of 8-byte integers (8 MB for a million),
looked up by bisection, not in a probabilistic filter that would drop innocent recipients."""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ..gateway import CascadeValidationError, Message, Recipient
from ..gateway._privacy import mask_phone
from ._sources import recipient_items

SAMPLE = 5
RUN = 100_000


def suppress_urls(value: str | Sequence[str] | None) -> list[str]:
    if value is None or value == "":
        return []
    urls = [value] if isinstance(value, str) else list(value)
    if not all(isinstance(u, str) and u for u in urls):
        raise CascadeValidationError("suppress_file", "must be a path or URL, or a list of them")
    return urls


class Suppression:
    """The phones of one or several CSV (``phone`` column) or JSON Lines files."""

    def __init__(self, urls: Iterable[str]) -> None:
        self.urls = list(urls)
        self._phones = _load(self.urls)
        self.suppressed = 0
        self.sample: list[str] = []

    def __len__(self) -> int:
        return len(self._phones)

    def __contains__(self, phone: str) -> bool:
        key = int(phone)
        phones = self._phones
        at = bisect_left(phones, key)
        return at < len(phones) and phones[at] == key

    def drop(
        self, feed: Iterable[tuple[int, Message, Iterable[Recipient]]]
    ) -> Iterator[tuple[int, Message, Iterable[Recipient]]]:
        """The feed without suppressed recipients, counted (``suppressed``) and sampled
        (masked) as they go. Counts start afresh for each pass."""
        self.suppressed, self.sample = 0, []
        for index, message, recipients in feed:
            yield index, message, self._kept(recipients)

    def _kept(self, recipients: Iterable[Recipient]) -> Iterator[Recipient]:
        phones, n = self._phones, len(self._phones)
        for r in recipients:
            key = int(r.phone)
            at = bisect_left(phones, key)
            if at < n and phones[at] == key:
                self.suppressed += 1
                if len(self.sample) < SAMPLE:
                    self.sample.append(mask_phone(r.phone))
                continue
            yield r

    def summary(self) -> dict[str, Any]:
        return {"suppressed": self.suppressed, "suppressed_sample": list(self.sample)}


def _load(urls: list[str]) -> array[int]:
    """Every phone of the files, sorted, each once. Phones are checked like recipients' (a
    bad one is an error naming the file and item: a typo must not let someone through).
    Sorted in runs of :data:`RUN` merged into one array: a million phones never sit in memory
    as a million Python integers."""
    runs: list[array[int]] = []
    run: list[int] = []
    for url in urls:
        for n, item in enumerate(recipient_items(url, "suppress_file"), start=1):
            phone = item if isinstance(item, str) else item.get("phone")
            try:
                phone = Recipient("" if phone is None else phone).phone
            except CascadeValidationError as exc:
                raise CascadeValidationError(
                    "suppress_file", f"{url}: item {n}: {exc.rule}"
                ) from None
            run.append(int(phone))
            if len(run) >= RUN:
                runs.append(array("q", sorted(run)))
                run = []
    runs.append(array("q", sorted(run)))
    del run
    phones = array("q")
    last = -1
    for key in heapq.merge(*runs) if len(runs) > 1 else runs[0]:
        if key != last:
            phones.append(key)
            last = key
    return phones
