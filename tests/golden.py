"""The document's examples (tests/golden/, verbatim) with placeholders filled in."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"

LOGIN, PASSWORD = "login", "password"

#: Request placeholders whose document values break the document's own rules.
REQUEST_VALUES: dict[str, str] = {
    "ВРЕМЯ_ОТПРАВКИ": "2017-11-23 13:00",
    "ВРЕМЯ_ЖИЗНИ_ВАЙБЕР_СООБЩЕНИЯ": "60",
    "ВРЕМЯ_ЖИЗНИ_WHATSAPP_СООБЩЕНИЯ": "30",
    "ФИНАЛЬНЫЙ_СТАТУС_ДОСТАВКИ_КАК_ПРОЧИТАНО": "1",
    "ТЕКСТ_КНОПКИ_WHATSAPP": "ОТКРЫТЬ",  # 21 characters in the document; the limit is 19
    "ТЕЛЕФОН": "79000000001",
    "ЛОГИН": LOGIN,
    "ПАРОЛЬ": PASSWORD,
    "логин": LOGIN,
    "пароль": PASSWORD,
    "ID_СООБЩЕНИЯ": "1000123",
}

SEND_RESPONSE_VALUES: dict[str, str | list[str]] = {
    "ID сообщения в системе для проверки статуса": ["1000123", "1000124", "1000125"],
    "ID сообщения на стороне клиента": ["111", "112", "113"],
    "Номер телефона получателя сообщения": [
        "79801234567",
        "79800000001",
        "79800000004",
        "79800000005",
        "79800000002",
    ],
    "Количество частей в сообщении": ["1", "2"],
    "ID VIBER сообщения": ["501", "502", "503"],
    "ID WhatsApp сообщения": "0",
    "ID SMS": ["0", "701", "0"],
    "ID VK сообщения": "0",
    "Ошибка в отправке сообщения на указанный номер": [
        "Данное сообщение уже было отправлено.",
        "Номер телефона присутствует в стоп-листе.",
        "Номер телефона присутствует в стоп-листе.",
    ],
    "Текст ошибки": "Такого отправителя нет.",
    "текст ошибки": "Неправильный логин или пароль",
    "Статус/сообщение об ошибке": ["send", "Номер телефона присутствует в стоп-листе.", "send"],
}

STATE_RESPONSE_VALUES: dict[str, str | list[str]] = {
    "ID сообщения в системе": ["111", "112", "113"],
    "Время последней смены состояния": "2017-11-23 13:15:25",
    "Общий статус сообщения": ["deliver", "not_deliver"],
    "Статус": ["deliver", "not_deliver", "Сообщение с таким ID не принималось"],
    "Статус SMS": ["send", "not_deliver"],
    "Статус VIBER сообщения": ["read", "expired"],
    "Статус WhatsApp сообщения": "send",
    "Статус VK сообщения": "send",
    "Количество часте SMS сообщения": ["0", "2"],
    "Цена SMS сообщение": ["0", "4.10"],
    "Цена VIBER сообщение": ["0.55", "0.55"],
    "Цена WhatsApp сообщение": "0",
    "Цена VK сообщение": "0",
    "текст ошибки": "Неправильный логин или пароль",
}


def raw(name: str) -> str:
    return (GOLDEN / name).read_text(encoding="utf-8")


def fill(
    text: str, values: Mapping[str, str | Iterable[str]], around: tuple[str, str] = ('"', '"')
) -> str:
    """Replace each delimited placeholder; a list gives successive occurrences successive values."""
    left, right = around
    for placeholder, value in values.items():
        token = f"{left}{placeholder}{right}"
        items = [value] if isinstance(value, str) else list(value)
        n = 0
        while token in text:
            text = text.replace(token, f"{left}{items[min(n, len(items) - 1)]}{right}", 1)
            n += 1
    return text


def fill_text(text: str, values: Mapping[str, str | Iterable[str]]) -> str:
    """Like fill, for XML attributes (``"placeholder"``) and element text (``>placeholder<``)."""
    return fill(fill(text, values), values, around=(">", "<"))


def request_text(name: str) -> str:
    text = raw(name).replace("</button_tex_whatsappt>", "</button_text_whatsapp>")
    for placeholder, value in REQUEST_VALUES.items():
        text = text.replace(placeholder, value)
    return text
