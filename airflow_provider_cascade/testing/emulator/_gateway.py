"""The emulated gateway's memory and rules, with no HTTP in sight."""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from ._behaviour import Behaviour, Outcome, sms_parts

AUTH_ERROR = "Неправильный логин или пароль"
REPEAT_ERROR = "Попытка отправки более одного одинакового запроса в течение минуты"
DUPLICATE_ERROR = "Данное сообщение уже было отправлено."
STOP_LIST_ERROR = "Номер телефона присутствует в стоп-листе."
UNKNOWN_ID = "Сообщение с таким ID не принималось"
CHANNELS = ("viber", "whatsapp", "vk", "sms")
VALIDITY_FIELD = {"viber": "validity_period_viber", "whatsapp": "validity_period_whatsapp"}
STATE_FIELDS = (
    "id_message", "time_change_state", "state", "state_sms", "state_viber", "state_whatsapp",
    "state_vk", "num_parts_sms", "price_sms", "price_viber", "price_whatsapp", "price_vk",
)  # fmt: skip
"""Every field of a status row, in the document's order."""
_PHONE = re.compile(r"[1-9][0-9]{6,14}")
_TIME_SEND = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}")
_ASCII_DIGITS = re.compile(r"[0-9]+")


class Refusal(Exception):
    """A whole-request error text, rendered in the variant's error shape."""


@dataclass
class ParsedMessage:
    """A message as the emulator's own parsers read it from any variant."""

    fields: dict[str, Any]
    phones: list[tuple[str, str | None]] = field(default_factory=list)
    bases: list[tuple[str, str | None]] = field(default_factory=list)
    stop_bases: list[str] = field(default_factory=list)


@dataclass
class Attempt:
    channel: str
    start: float  # gateway minutes after the cascade starts
    end: float
    state: str
    price: Decimal


@dataclass
class Delivery:
    """One recipient of one accepted message."""

    id_message: str
    account: str
    phone: str
    client_id_message: str | None
    base: str | None
    start_at: datetime  # gateway time (UTC) the cascade starts
    attempts: list[Attempt]
    final_state: str
    parts: int
    channel_ids: dict[str, str]
    received: dict[str, Any]  # the fields as received, placeholders filled in


class _Plan:
    """A message's channel order, SMS parts and timelines per outcome, computed once."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = fields
        order = sorted(
            (int(fields[f"send_{c}"]), i, c)
            for i, c in enumerate(CHANNELS)
            if int(fields.get(f"send_{c}") or 0) > 0
        )
        self.channels = [c for _, _, c in order]
        self.sms = sms_parts(str(fields.get("text_sms", ""))) if "sms" in self.channels else 0
        self.timelines: dict[Outcome, tuple[list[Attempt], str]] = {}


@dataclass
class Account:
    login: str
    password: str
    tokens: set[str] = field(default_factory=set)


class Gateway:
    def __init__(self, behaviour: Behaviour | None = None) -> None:
        self.behaviour = behaviour or Behaviour()
        self.lock = threading.RLock()
        self.accounts: dict[str, Account] = {}
        self.bases: dict[str, list[tuple[str, str]]] = {}
        self.deliveries: dict[str, Delivery] = {}
        self.by_client_id: dict[tuple[str, str], str] = {}
        self.counters: Counter[str] = Counter()
        self._recent: dict[tuple[str, bytes], float] = {}
        self._ids = itertools.count(1000123)
        self._channel_ids = itertools.count(5000001)
        self._anchor_wall = datetime.now(timezone.utc)
        self._anchor_mono = time.monotonic()

    # -- clock ------------------------------------------------------------------------
    def now(self) -> datetime:
        elapsed = time.monotonic() - self._anchor_mono
        return self._anchor_wall + timedelta(seconds=elapsed * self.behaviour.time_scale)

    def set_time_scale(self, scale: float) -> None:
        with self.lock:
            self._anchor_wall, self._anchor_mono = self.now(), time.monotonic()
            self.behaviour.time_scale = scale

    # -- accounts and bases -----------------------------------------------------------
    def add_account(self, login: str, password: str, tokens: tuple[str, ...] = ()) -> None:
        with self.lock:
            self.accounts[login] = Account(login, password, set(tokens))

    def add_base(self, base: str, numbers: list[tuple[str, str]]) -> None:
        """``numbers`` are (phone, name) pairs for ``#number#`` and ``#name#``."""
        with self.lock:
            self.bases[str(base)] = [(str(p), str(n)) for p, n in numbers]

    def authenticate(self, login: str | None, password: str | None, token: str | None) -> str:
        with self.lock:
            if token is not None:
                for account in self.accounts.values():
                    if token in account.tokens:
                        return account.login
                raise Refusal(AUTH_ERROR)
            found = self.accounts.get(login or "")
            if found is None or found.password != password:
                raise Refusal(AUTH_ERROR)
            return found.login

    def check_repeat(self, account: str, request_key: bytes) -> None:
        window = self.behaviour.repeat_window
        if window <= 0:
            return
        now = time.monotonic()
        with self.lock:
            key = (account, request_key)
            last = self._recent.get(key)
            if last is not None and now - last < window:
                self.counters["repeat_refused"] += 1
                raise Refusal(REPEAT_ERROR)
            self._recent[key] = now
            if len(self._recent) > 100_000:
                self._recent = {k: v for k, v in self._recent.items() if now - v < window}

    # -- sending ----------------------------------------------------------------------
    def send(self, account: str, messages: list[ParsedMessage]) -> list[list[dict[str, str]] | str]:
        """One reply per message: rows per recipient, or an error text for the message."""
        with self.lock:
            return [self._send_one(account, m) for m in messages]

    def _send_one(self, account: str, message: ParsedMessage) -> list[dict[str, str]] | str:
        error = message_error(message.fields, message.bases, self.behaviour.timezone)
        if error is not None:
            self.counters["messages_refused"] += 1
            return error
        if not message.phones and not message.bases:
            return "Не указаны получатели (phones или base)"
        fields = message.fields
        stop = {p for b in message.stop_bases for p, _ in self.bases.get(b, [])}
        rows: list[dict[str, str]] = []
        plan = _Plan(fields)  # what every recipient without placeholders shares
        for phone, client_id in message.phones:
            rows.append(self._recipient(account, plan, phone, client_id, None, None, stop, {}))
        for base, base_time in message.bases:
            numbers = self.bases.get(base)
            if numbers is None:
                rows.append({"base": base, "phone": "", "error": f"База {base} не найдена"})
                continue
            for phone, name in numbers:
                values = {"#number#": phone, "#name#": name}
                filled = _Plan({k: _fill(v, values) for k, v in fields.items()})
                rows.append(
                    self._recipient(account, filled, phone, None, base, base_time, stop, values)
                )
        self.counters["messages_accepted"] += 1
        return rows

    def _recipient(
        self,
        account: str,
        plan: _Plan,
        phone: str,
        client_id: str | None,
        base: str | None,
        base_time: str | None,
        stop: set[str],
        values: dict[str, str],
    ) -> dict[str, str]:
        head = {"client_id_message": client_id} if client_id is not None else {}
        if base is not None:
            head = {"base": base}
        if _PHONE.fullmatch(phone) is None:
            self.counters["recipients_refused"] += 1
            return {**head, "phone": phone, "error": "Неверный формат номера телефона"}
        if phone in stop:
            self.counters["stop_listed"] += 1
            return {**head, "phone": phone, "error": STOP_LIST_ERROR}
        if client_id is not None:
            earlier = self.by_client_id.get((account, client_id))
            if earlier is not None:
                self.counters["duplicates_refused"] += 1
                row = {**head, "phone": phone, "error": DUPLICATE_ERROR}
                if self.behaviour.duplicate_answer == "with_id":
                    row = {"id_message": earlier, **row}
                return row
        delivery = self._deliver(account, plan, phone, client_id, base, base_time)
        if client_id is not None:
            self.by_client_id[(account, client_id)] = delivery.id_message
        self.counters["recipients_accepted"] += 1
        ids = {f"id_{c}": delivery.channel_ids.get(c, "0") for c in CHANNELS}
        return {
            "id_message": delivery.id_message,
            **head,
            "phone": phone,
            "count_message": str(delivery.parts),
            **ids,
            **self.behaviour.extra_send_fields,
        }

    def _deliver(
        self,
        account: str,
        plan: _Plan,
        phone: str,
        client_id: str | None,
        base: str | None,
        base_time: str | None,
    ) -> Delivery:
        fields, channels, sms = plan.fields, plan.channels, plan.sms
        outcome = self.behaviour.outcome(phone)
        timeline = plan.timelines.get(outcome)
        if timeline is None:
            timeline = plan.timelines[outcome] = self._timeline(channels, fields, outcome, sms)
        attempts, final = timeline
        start = self.now()
        wanted = base_time or fields.get("time_send")
        if wanted:  # checked by message_error: always a valid time here
            at = parse_time_send(str(wanted), self.behaviour.timezone)
            assert at is not None
            start = max(start, at.astimezone(timezone.utc))
        delivery = Delivery(
            id_message=str(next(self._ids)),
            account=account,
            phone=phone,
            client_id_message=client_id,
            base=base,
            start_at=start,
            attempts=attempts,
            final_state=final,
            parts=sms if channels[0] == "sms" else 1,
            channel_ids={a.channel: str(next(self._channel_ids)) for a in attempts},
            received=fields,
        )
        self.deliveries[delivery.id_message] = delivery
        return delivery

    def _timeline(
        self, channels: list[str], fields: dict[str, Any], outcome: Outcome, sms: int
    ) -> tuple[list[Attempt], str]:
        quick = self.behaviour.delivery_minutes
        prices = self.behaviour.prices

        def validity(channel: str) -> float:
            return float(fields.get(VALIDITY_FIELD.get(channel, ""), 0) or 60)

        def price(channel: str) -> Decimal:
            return prices[channel] * (sms if channel == "sms" else 1)

        attempts: list[Attempt] = []
        clock = 0.0

        def attempt(channel: str, minutes: float, state: str) -> None:
            nonlocal clock
            attempts.append(Attempt(channel, clock, clock + minutes, state, price(channel)))
            clock += minutes

        first = channels[0]
        if outcome in (Outcome.FIRST, Outcome.READ, Outcome.LINK, Outcome.UNSUBSCRIBE):
            viber_only = outcome is not Outcome.FIRST and first == "viber"
            state = outcome.value if viber_only else "deliver"
            attempt(first, quick, state)
            return attempts, "deliver"
        if outcome is Outcome.PARTLY:
            attempt(first, validity(first), "partly_deliver")
            return attempts, "partly_deliver"
        if outcome is Outcome.UNREAD:
            if first != "viber" or fields.get("finale_viber_read") not in ("1", 1):
                attempt(first, quick, "deliver")
                return attempts, "deliver"
            attempt(first, validity(first), "deliver")
            for channel in channels[1:]:
                attempt(channel, quick, "deliver")
                return attempts, "deliver"
            return attempts, "not_deliver"
        if outcome is Outcome.FALLTHROUGH:
            for channel in channels[:-1]:
                attempt(channel, validity(channel), "not_deliver")
            attempt(channels[-1], quick, "deliver")
            return attempts, "deliver"
        failed = "expired" if outcome is Outcome.EXPIRED else "not_deliver"
        for channel in channels:
            attempt(channel, validity(channel), failed)
        return attempts, failed

    # -- states -----------------------------------------------------------------------
    def state(self, account: str, id_message: str) -> dict[str, str]:
        """The JSON variant's state row; the other variants render the same values."""
        with self.lock:
            self.counters["state_queries"] += 1
            delivery = self.deliveries.get(id_message)
            if delivery is None or delivery.account != account:
                # the document: every field present, empty, the state being the error text
                row = dict.fromkeys(STATE_FIELDS, "")
                row.update(id_message=id_message, state=UNKNOWN_ID)
                return row
            return self._state_row(delivery)

    def _state_row(self, d: Delivery) -> dict[str, str]:
        now = self.now()
        minutes = (now - d.start_at).total_seconds() / 60
        row = {"id_message": d.id_message}
        changed = d.start_at
        states = dict.fromkeys(CHANNELS, "send")
        prices = dict.fromkeys(CHANNELS, Decimal("0"))
        for a in d.attempts:
            if minutes >= a.end:
                states[a.channel] = a.state
                prices[a.channel] = a.price
                changed = d.start_at + timedelta(minutes=a.end)
        done = minutes >= d.attempts[-1].end
        tz = ZoneInfo(self.behaviour.timezone)
        row["time_change_state"] = changed.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
        row["state"] = d.final_state if done else "send"
        for c in CHANNELS:
            row[f"state_{c}"] = states[c]
        sms_sent = states["sms"] != "send"
        row["num_parts_sms"] = str(_sms_parts(d)) if sms_sent else "0"
        for c in CHANNELS:
            row[f"price_{c}"] = str(prices[c])
        return row

    def final_prices(self, id_message: str) -> dict[str, Decimal]:
        """What the emulator charges once the message is final (for tests and reports)."""
        with self.lock:
            d = self.deliveries[id_message]
            return {a.channel: a.price for a in d.attempts}

    def reset(self) -> None:
        with self.lock:
            self.deliveries.clear()
            self.by_client_id.clear()
            self.counters.clear()
            self._recent.clear()


def _sms_parts(d: Delivery) -> int:
    return sms_parts(str(d.received.get("text_sms", "")))


def _fill(value: Any, values: dict[str, str]) -> Any:
    if not isinstance(value, str) or not values:
        return value
    for key, replacement in values.items():
        value = value.replace(key, replacement)
    return value


def is_digits(value: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also takes "²" and "١٢٣"."""
    return _ASCII_DIGITS.fullmatch(value) is not None


def parse_time_send(value: str, zone: str) -> datetime | None:
    """``YYYY-MM-DD hh:mm`` as a real time in ``zone``, or None (``2017-11-23 25:99``)."""
    if _TIME_SEND.fullmatch(value) is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(zone))
    except ValueError:
        return None


def message_error(
    fields: dict[str, Any],
    bases: list[tuple[str, str | None]] | None = None,
    zone: str = "Europe/Moscow",
) -> str | None:
    """The emulator's own reading of the document's rules (independent of the client)."""
    used = []
    for channel in CHANNELS:
        raw = str(fields.get(f"send_{channel}", "0") or "0")
        if not is_digits(raw) or not 0 <= int(raw) <= 9:
            return f"Неверное значение send_{channel}: допустимо от 0 до 9"
        if int(raw):
            used.append(channel)
    if not used:
        return "Не указан ни один канал отправки (send_viber, send_whatsapp, send_vk, send_sms)"
    for channel, key, limit in (("viber", "text_viber", 1000), ("whatsapp", "text_whatsapp", 1000)):
        if channel in used:
            text = str(fields.get(key) or "")
            if not text:
                return f"Не указан текст {key}"
            if len(text) > limit:
                return f"Текст {key} длиннее {limit} символов"
    if "sms" in used and not fields.get("text_sms"):
        return "Не указан текст text_sms"
    if "vk" in used and not is_digits(str(fields.get("templateId") or "")):
        return "Не указан templateId"
    for text_key, url_key in (
        ("button_text", "button_url"),
        ("button_text_whatsapp", "button_url_whatsapp"),
    ):
        if bool(fields.get(text_key)) != bool(fields.get(url_key)):
            return f"{text_key} и {url_key} указываются только вместе"
        if len(str(fields.get(text_key) or "")) > 19:
            return f"{text_key} длиннее 19 символов"
    if fields.get("image_url") and not fields.get("button_text"):
        return "Для изображения нужна кнопка (button_text и button_url)"
    for key in ("validity_period_viber", "validity_period_whatsapp"):
        value = str(fields.get(key) or "")
        if value and (not is_digits(value) or int(value) < 1):
            return f"Неверное значение {key}: ожидается число минут, например 60"
    if str(fields.get("finale_viber_read") or "") not in ("", "0", "1"):
        return "Неверное значение finale_viber_read: допустимо 0 или 1"
    times = [("time_send", fields.get("time_send"))]
    times += [(f"base {base}: time_send", when) for base, when in bases or []]
    for where, when in times:
        if when and parse_time_send(str(when), zone) is None:
            return f"Неверный формат {where}, ожидается YYYY-MM-DD hh:mm"
    return None
