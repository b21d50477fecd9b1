"""Send windows in the recipient's local time: who is outside the window now gets
``time_send`` at the next opening of their window, written in the connection's zone.

Zones are IANA names; daylight-saving changes and odd offsets (``Asia/Kathmandu``,
``Australia/Lord_Howe``) come from ``zoneinfo``. A window opening at a local time that a
clock change skips opens at the change itself."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from ._errors import CascadeValidationError
from ._message import BaseTarget, Message, Recipient
from ._timefmt import format_time_send, time_send_at, zone

GROUP_BLOCK = 10_000
"""Recipients read before those of one block are grouped by their zone: memory holds one
block, however large the file."""

Feed = Iterable[tuple[int, Message, Iterable[Recipient]]]


def _clock(field: str, value: Any) -> time:
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    try:
        hours, minutes = str(value).split(":")
        if len(minutes) != 2 or not hours.isdigit() or not minutes.isdigit():
            raise ValueError
        return time(int(hours), int(minutes))
    except ValueError:
        raise CascadeValidationError(field, f"must be 'hh:mm' (got {value!r})") from None


@dataclass(frozen=True, slots=True)
class SendWindow:
    """Local hours in which a person may be messaged: from ``start`` up to ``end``; a window
    past midnight (``("21:00", "02:00")``) is allowed."""

    start: time
    end: time

    @classmethod
    def parse(cls, value: Any) -> SendWindow | None:
        if value is None or isinstance(value, SendWindow):
            return value
        if isinstance(value, str) or not isinstance(value, Sequence) or len(value) != 2:
            raise CascadeValidationError(
                "send_window", "must be a pair of local times, e.g. ('09:00', '21:00')"
            )
        start, end = _clock("send_window.start", value[0]), _clock("send_window.end", value[1])
        if start == end:
            raise CascadeValidationError("send_window", "start and end must differ")
        return cls(start, end)

    def contains(self, local: time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_opening(self, at: datetime, tz: ZoneInfo) -> datetime | None:
        """The first moment from ``at`` on at which the window is open in ``tz``; None when it
        is open at ``at`` already."""
        local = at.astimezone(tz)
        wall = local.time().replace(tzinfo=None)
        if self.contains(wall):
            return None
        day = local.date()
        if wall >= self.start:  # past today's opening (and closed): tomorrow's
            day += timedelta(days=1)
        return opening(day, self.start, tz)


def opening(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The first instant of ``day`` whose wall clock in ``tz`` reads ``at`` or later. In a
    skipped hour (spring forward) that is the instant of the change."""
    wanted = datetime.combine(day, at)
    early = wanted.replace(tzinfo=tz, fold=1).astimezone(timezone.utc)
    late = wanted.replace(tzinfo=tz, fold=0).astimezone(timezone.utc)
    moment = min(early, late)
    if moment.astimezone(tz).replace(tzinfo=None) == wanted:
        return moment  # an existing (or the first of a repeated) wall time
    # a skipped wall time: the change lies between the two readings; find it by the minute
    while moment.astimezone(tz).replace(tzinfo=None) < wanted:
        moment += timedelta(minutes=1)
    return moment


class Zones:
    """The ``timezone`` column of a recipients file: taken off each item before the phone is
    checked, remembered for the recipient that item becomes (the plan checks items one at a
    time, so the last item read is the recipient just yielded)."""

    def __init__(self, where: str, locate: Callable[[], str] | None = None) -> None:
        self.where = where
        self.locate = locate
        """Where the current item is (a file and its line), for errors; else ``item N``."""
        self.last: ZoneInfo | None = None
        self._known: dict[str, ZoneInfo] = {}

    def strip(self, items: Iterable[Any]) -> Iterator[Any]:
        for n, item in enumerate(items, start=1):
            name = item.get("timezone") if isinstance(item, dict) else None
            if name is None:
                self.last = None
                yield item
                continue
            self.last = self._zone(str(name).strip(), n) if str(name).strip() else None
            rest = {k: v for k, v in item.items() if k != "timezone"}
            yield rest["phone"] if set(rest) == {"phone"} and isinstance(rest["phone"], str) \
                else rest  # fmt: skip

    def _zone(self, name: str, n: int) -> ZoneInfo:
        found = self._known.get(name)
        if found is None:
            try:
                found = self._known[name] = zone(name)
            except CascadeValidationError as exc:
                at = self.locate() if self.locate is not None else f"item {n}"
                raise CascadeValidationError(
                    f"{self.where}.timezone", f"{at}: {exc.rule}"
                ) from None
        return found


def in_windows(
    feed: Feed,
    window: SendWindow,
    *,
    gateway_zone: ZoneInfo,
    default_zone: ZoneInfo,
    now: datetime,
    zone_of: Callable[[], ZoneInfo | None] = lambda: None,
    block: int = GROUP_BLOCK,
) -> Iterator[tuple[int, Message, list[Recipient]]]:
    """Each message split by its recipients' zones, a block of recipients at a time, each
    group carrying the ``time_send`` its zone's window gives. A message's own ``time_send``
    (else ``now``) is the moment checked: recipients whose window is open then keep it.
    Groups follow the input, never the clock, so a later try of the same task plans the very
    same batches (the ledger's resume compares them) even when windows opened meanwhile."""
    for index, message, recipients in feed:
        at = time_send_at(message.time_send, gateway_zone) or now
        if message.bases:
            yield index, _shift_bases(message, window, gateway_zone, default_zone, now), []
            continue
        times: dict[ZoneInfo, Message] = {}
        groups: dict[ZoneInfo, list[Recipient]] = {}
        held = 0
        for r in recipients:
            tz = zone_of() or default_zone
            group = groups.get(tz)
            if group is None:
                group = groups[tz] = []
                if tz not in times:
                    opens = window.next_opening(at, tz)
                    times[tz] = (
                        message if opens is None
                        else replace(message, time_send=format_time_send(opens, gateway_zone))
                    )  # fmt: skip
            group.append(r)
            held += 1
            if held >= block:
                yield from _flush(index, groups, times)
                held = 0
        yield from _flush(index, groups, times)


def _flush(
    index: int, groups: dict[ZoneInfo, list[Recipient]], times: dict[ZoneInfo, Message]
) -> Iterator[tuple[int, Message, list[Recipient]]]:
    for tz, group in groups.items():
        yield index, times[tz], group
    groups.clear()


def _shift_bases(
    message: Message, window: SendWindow, gateway_zone: ZoneInfo, default_zone: ZoneInfo,
    now: datetime,
) -> Message:  # fmt: skip
    """A base campaign's recipients are stored at the gateway: the window is kept in the
    default zone, for the message's time and each base's own."""

    def moved(value: str | datetime | None) -> str | datetime | None:
        at = time_send_at(value, gateway_zone) or now
        opens = window.next_opening(at, default_zone)
        return value if opens is None else format_time_send(opens, gateway_zone)

    bases = tuple(
        b if b.time_send is None else BaseTarget(b.base, moved(b.time_send)) for b in message.bases
    )
    return replace(message, time_send=moved(message.time_send), bases=bases)
