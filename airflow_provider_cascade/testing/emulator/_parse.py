"""The emulator's own strict readers of the three variants (no client code reused)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from lxml import etree

from ._gateway import ParsedMessage, Refusal

MESSAGE_FIELDS = frozenset(
    {
        "send_viber", "send_whatsapp", "send_vk", "send_sms", "name_delivery", "time_send",
        "sender_viber", "text_viber", "button_text", "button_url", "image_url",
        "validity_period_viber", "finale_viber_read", "sender_whatsapp", "text_whatsapp",
        "button_text_whatsapp", "button_url_whatsapp", "image_url_whatsapp",
        "validity_period_whatsapp", "sender_sms", "text_sms", "templateId", "templateData",
    }
)  # fmt: skip
NOT_IN_GET = frozenset({"name_delivery", "time_send", "validity_period_whatsapp"})
XML_FORMAT_ERROR = "Неправильный формат XML документа"
JSON_FORMAT_ERROR = "Неправильный формат JSON документа"


@dataclass
class Parsed:
    login: str | None = None
    password: str | None = None
    messages: list[ParsedMessage] = field(default_factory=list)
    state_ids: list[str] = field(default_factory=list)
    is_state: bool = False


def _scalar(where: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise Refusal(f"{JSON_FORMAT_ERROR}: {where} должно быть строкой или числом")
    return str(value)


def _digits(where: str, value: str) -> str:
    if not value.isdigit():
        raise Refusal(f"{where}: ожидается число")
    return value


# -- JSON ---------------------------------------------------------------------------------
def parse_json(content_type: str, body: bytes) -> Parsed:
    if not content_type.lower().startswith("application/json"):
        raise Refusal("Неверный Content-Type: ожидается application/json; charset=utf-8")
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Refusal(JSON_FORMAT_ERROR) from None
    if not isinstance(document, dict):
        raise Refusal(JSON_FORMAT_ERROR)
    unknown = set(document) - {"login", "password", "message", "state"}
    if unknown:
        raise Refusal(f"{JSON_FORMAT_ERROR}: неизвестное поле {sorted(unknown)[0]}")
    parsed = Parsed(login=_opt(document.get("login")), password=_opt(document.get("password")))
    if ("message" in document) == ("state" in document):
        raise Refusal(f"{JSON_FORMAT_ERROR}: нужен ровно один из message или state")
    if "state" in document:
        rows = document["state"]
        if not isinstance(rows, list) or not all(
            isinstance(r, dict) and set(r) == {"id_message"} for r in rows
        ):
            raise Refusal(f"{JSON_FORMAT_ERROR}: state")
        parsed.is_state = True
        parsed.state_ids = [
            _digits("id_message", _scalar("id_message", r["id_message"])) for r in rows
        ]
        return parsed
    items = document["message"]
    if not isinstance(items, list) or not items:
        raise Refusal(f"{JSON_FORMAT_ERROR}: message")
    for item in items:
        if not isinstance(item, dict):
            raise Refusal(f"{JSON_FORMAT_ERROR}: message")
        parsed.messages.append(_json_message(item))
    return parsed


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def _json_message(item: dict[str, Any]) -> ParsedMessage:
    fields: dict[str, Any] = {}
    message = ParsedMessage(fields)
    for key, value in item.items():
        if key == "phones":
            message.phones = [_json_phone(p) for p in _list(key, value)]
        elif key == "base":
            message.bases = [_json_base(b) for b in _list(key, value)]
        elif key == "stop_base":
            message.stop_bases = [_json_stop(b) for b in _list(key, value)]
        elif key == "templateData":
            if not isinstance(value, dict):
                raise Refusal(f"{JSON_FORMAT_ERROR}: templateData должно быть объектом")
            fields[key] = {str(k): _scalar(f"templateData.{k}", v) for k, v in value.items()}
        elif key in MESSAGE_FIELDS:
            fields[key] = _scalar(key, value)
        else:
            raise Refusal(f"{JSON_FORMAT_ERROR}: неизвестное поле {key}")
    return message


def _list(key: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise Refusal(f"{JSON_FORMAT_ERROR}: {key} должно быть массивом")
    return value


def _json_phone(row: Any) -> tuple[str, str | None]:
    if not isinstance(row, dict) or "phone" not in row or set(row) - {"phone", "client_id_message"}:
        raise Refusal(f"{JSON_FORMAT_ERROR}: phones")
    cid = row.get("client_id_message")
    return _scalar("phone", row["phone"]), (
        None
        if cid in (None, "")
        else _digits("client_id_message", _scalar("client_id_message", cid))
    )


def _json_base(row: Any) -> tuple[str, str | None]:
    if not isinstance(row, dict) or "base" not in row or set(row) - {"base", "time_send"}:
        raise Refusal(f"{JSON_FORMAT_ERROR}: base")
    time_send = row.get("time_send")
    return _scalar("base", row["base"]), (
        None if not time_send else _scalar("time_send", time_send)
    )


def _json_stop(row: Any) -> str:
    if not isinstance(row, dict) or set(row) != {"base"}:
        raise Refusal(f"{JSON_FORMAT_ERROR}: stop_base")
    return _scalar("stop_base", row["base"])


# -- XML ----------------------------------------------------------------------------------
def _unescape(text: str | None) -> str:
    return (text or "").replace("\\n", "\n")


def parse_xml(content_type: str, body: bytes, *, state: bool) -> Parsed:
    if not content_type.lower().startswith(("text/xml", "application/xml")):
        raise Refusal("Неверный Content-Type: ожидается text/xml; charset=utf-8")
    if b"\n" in body or b"\r" in body:
        raise Refusal(f"{XML_FORMAT_ERROR}: документ не должен содержать переводов строки")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError:
        raise Refusal(XML_FORMAT_ERROR) from None
    if root.getroottree().docinfo.internalDTD is not None or root.tag != "request":
        raise Refusal(XML_FORMAT_ERROR)
    parsed = Parsed(is_state=state)
    for child in root:
        if child.tag == "security":
            for element in child:
                if element.tag not in ("login", "password"):
                    raise Refusal(f"{XML_FORMAT_ERROR}: security/{element.tag}")
                setattr(parsed, str(element.tag), element.get("value"))
        elif child.tag == "state" and state:
            for element in child:
                if element.tag != "id_message":
                    raise Refusal(f"{XML_FORMAT_ERROR}: state/{element.tag}")
                parsed.state_ids.append(_digits("id_message", (element.text or "").strip()))
        elif child.tag == "message" and not state:
            parsed.messages.append(_xml_message(child))
        else:
            raise Refusal(f"{XML_FORMAT_ERROR}: неожиданный элемент {child.tag}")
    if not (parsed.state_ids if state else parsed.messages):
        raise Refusal(f"{XML_FORMAT_ERROR}: пустой запрос")
    return parsed


def _xml_message(element: Any) -> ParsedMessage:
    fields: dict[str, Any] = {}
    message = ParsedMessage(fields)
    for child in element:
        tag = str(child.tag)
        if tag == "abonent":
            if set(child.attrib) - {"phone", "client_id_message"} or "phone" not in child.attrib:
                raise Refusal(f"{XML_FORMAT_ERROR}: abonent")
            cid = child.get("client_id_message")
            message.phones.append(
                (str(child.get("phone")), None if not cid else _digits("client_id_message", cid))
            )
        elif tag == "templateData":
            fields[tag] = {str(e.tag): _unescape(e.text) for e in child}
        elif tag in MESSAGE_FIELDS:
            if len(child):
                raise Refusal(f"{XML_FORMAT_ERROR}: {tag}")
            fields[tag] = _unescape(child.text)
        else:
            raise Refusal(f"{XML_FORMAT_ERROR}: неизвестный элемент {tag}")
    return message


# -- GET ----------------------------------------------------------------------------------
def parse_get(query: str) -> Parsed:
    try:
        pairs = parse_qsl(
            query, keep_blank_values=True, strict_parsing=bool(query), errors="strict"
        )
    except (ValueError, UnicodeDecodeError):
        raise Refusal("Неверный запрос") from None
    params: dict[str, str] = {}
    for key, value in pairs:
        if key in params:
            raise Refusal(f"Параметр {key} указан дважды")
        params[key] = value
    parsed = Parsed(login=params.pop("login", None), password=params.pop("password", None))
    if "id_message" in params:
        if set(params) != {"id_message"}:
            raise Refusal("Неверный запрос статуса")
        parsed.is_state = True
        parsed.state_ids = [_digits("id_message", params["id_message"])]
        return parsed
    phones = params.pop("phone", "")
    fields: dict[str, Any] = {}
    for key, value in params.items():
        if key in NOT_IN_GET or key not in MESSAGE_FIELDS:
            raise Refusal(f"Параметр {key} не поддерживается в GET-запросе")
        fields[key] = value
    if "templateData" in fields:
        try:
            data = json.loads(fields["templateData"])
        except ValueError:
            raise Refusal("templateData: ожидается JSON") from None
        if not isinstance(data, dict):
            raise Refusal("templateData: ожидается JSON-объект")
        fields["templateData"] = {str(k): str(v) for k, v in data.items()}
    if not phones:
        raise Refusal("Не указан номер телефона (phone)")
    parsed.messages = [ParsedMessage(fields, [(p, None) for p in phones.split(",")])]
    return parsed
