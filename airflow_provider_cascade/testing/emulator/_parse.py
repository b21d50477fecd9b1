"""The emulator's own strict readers of the three variants (no client code reused)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from lxml import etree

from ._gateway import ParsedMessage, Refusal, is_digits

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
NO_POST_DATA = "POST данные отсутствуют"
MAX_CLIENT_ID = 2**63 - 1
"""client_id_message is "a number": a signed 64-bit integer, as a BIGINT column stores it."""


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
    if not is_digits(value):
        raise Refusal(f"{where}: ожидается число")
    return value


def _client_id(value: str) -> str:
    if not is_digits(value) or int(value) > MAX_CLIENT_ID:
        raise Refusal(f"client_id_message: ожидается число от 0 до {MAX_CLIENT_ID}")
    return value


def _content_type(header: str, media: str, format_error: str) -> None:
    """``media`` with at most a ``charset=utf-8`` parameter (the document's header)."""
    kind, *params = (part.strip() for part in header.split(";"))
    ok = kind.lower() == media
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() != "charset" or value.strip().strip('"').lower() != "utf-8":
            ok = False
    if not ok:
        raise Refusal(f"{format_error}: неверный Content-Type, ожидается {media}; charset=utf-8")


# -- JSON ---------------------------------------------------------------------------------
def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise Refusal(f"{JSON_FORMAT_ERROR}: поле {key} указано дважды")
        document[key] = value
    return document


def _no_constant(name: str) -> Any:
    raise Refusal(f"{JSON_FORMAT_ERROR}: {name}")


def _load_json(text: str) -> Any:
    """Strict JSON: no duplicate keys, no NaN or Infinity."""
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except ValueError:
        raise Refusal(JSON_FORMAT_ERROR) from None


def parse_json(content_type: str, body: bytes) -> Parsed:
    _content_type(content_type, "application/json", JSON_FORMAT_ERROR)
    if not body.strip():
        raise Refusal(NO_POST_DATA)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(f"{JSON_FORMAT_ERROR}: ожидается UTF-8") from None
    document = _load_json(text)
    if not isinstance(document, dict):
        raise Refusal(JSON_FORMAT_ERROR)
    unknown = set(document) - {"login", "password", "message", "state"}
    if unknown:
        raise Refusal(f"{JSON_FORMAT_ERROR}: неизвестное поле {sorted(unknown)[0]}")
    for key in ("login", "password"):
        if key in document and not isinstance(document[key], str):
            raise Refusal(f"{JSON_FORMAT_ERROR}: {key} должно быть строкой")
    parsed = Parsed(login=document.get("login"), password=document.get("password"))
    if ("message" in document) == ("state" in document):
        raise Refusal(f"{JSON_FORMAT_ERROR}: нужен ровно один из message или state")
    if "state" in document:
        rows = document["state"]
        if not isinstance(rows, list) or not rows:
            raise Refusal(f"{JSON_FORMAT_ERROR}: state должно быть непустым массивом")
        if not all(isinstance(r, dict) and set(r) == {"id_message"} for r in rows):
            raise Refusal(f"{JSON_FORMAT_ERROR}: state")
        parsed.is_state = True
        parsed.state_ids = [
            _digits("id_message", _scalar("id_message", r["id_message"])) for r in rows
        ]
        return parsed
    items = document["message"]
    if not isinstance(items, list) or not items:
        raise Refusal(f"{JSON_FORMAT_ERROR}: message должно быть непустым массивом")
    for item in items:
        if not isinstance(item, dict):
            raise Refusal(f"{JSON_FORMAT_ERROR}: message")
        parsed.messages.append(_json_message(item))
    return parsed


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
            fields[key] = _template_data(value, JSON_FORMAT_ERROR)
        elif key in MESSAGE_FIELDS:
            fields[key] = _scalar(key, value)
        else:
            raise Refusal(f"{JSON_FORMAT_ERROR}: неизвестное поле {key}")
    return message


def _template_data(value: Any, format_error: str) -> dict[str, str]:
    """A flat object of strings or numbers (the document's example); nothing nested."""
    if not isinstance(value, dict):
        raise Refusal(f"{format_error}: templateData должно быть объектом")
    out = {}
    for key, item in value.items():
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise Refusal(f"{format_error}: templateData.{key} должно быть строкой или числом")
        out[str(key)] = str(item)
    return out


def _list(key: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise Refusal(f"{JSON_FORMAT_ERROR}: {key} должно быть массивом")
    return value


def _json_phone(row: Any) -> tuple[str, str | None]:
    if not isinstance(row, dict) or "phone" not in row or set(row) - {"phone", "client_id_message"}:
        raise Refusal(f"{JSON_FORMAT_ERROR}: phones")
    cid = row.get("client_id_message")
    return _scalar("phone", row["phone"]), (
        None if cid in (None, "") else _client_id(_scalar("client_id_message", cid))
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


def _blank(text: str | None) -> bool:
    return text is None or not text.strip()


def _container(element: Any, where: str) -> None:
    """No attributes and no text of its own: only child elements."""
    if element.attrib:
        raise Refusal(f"{XML_FORMAT_ERROR}: {where}: лишние атрибуты")
    if not _blank(element.text) or not all(_blank(child.tail) for child in element):
        raise Refusal(f"{XML_FORMAT_ERROR}: {where}: текст вне элементов")


def _leaf(element: Any, where: str) -> str:
    """Text only: no attributes, no child elements."""
    if element.attrib or len(element):
        raise Refusal(f"{XML_FORMAT_ERROR}: {where}")
    return _unescape(element.text)


def parse_xml(content_type: str, body: bytes, *, state: bool) -> Parsed:
    _content_type(content_type, "text/xml", XML_FORMAT_ERROR)
    if not body.strip():
        raise Refusal(NO_POST_DATA)
    if b"\n" in body or b"\r" in body:
        raise Refusal(f"{XML_FORMAT_ERROR}: документ не должен содержать переводов строки")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(f"{XML_FORMAT_ERROR}: ожидается UTF-8") from None
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_comments=False
    )
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError:
        raise Refusal(XML_FORMAT_ERROR) from None
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or root.tag != "request":
        raise Refusal(XML_FORMAT_ERROR)
    if (docinfo.encoding or "utf-8").lower() != "utf-8":
        raise Refusal(f'{XML_FORMAT_ERROR}: ожидается encoding="utf-8"')
    _container(root, "request")
    parsed = Parsed(is_state=state)
    seen: set[str] = set()
    for child in root:
        tag = child.tag if isinstance(child.tag, str) else "#comment"
        if tag in ("security", "state") and tag in seen:
            raise Refusal(f"{XML_FORMAT_ERROR}: элемент {tag} указан дважды")
        seen.add(tag)
        if tag == "security":
            _xml_security(child, parsed)
        elif tag == "state" and state:
            _container(child, "state")
            for element in child:
                if element.tag != "id_message":
                    raise Refusal(f"{XML_FORMAT_ERROR}: state/{element.tag}")
                parsed.state_ids.append(_digits("id_message", _leaf(element, "id_message")))
        elif tag == "message" and not state:
            parsed.messages.append(_xml_message(child))
        else:
            raise Refusal(f"{XML_FORMAT_ERROR}: неожиданный элемент {tag}")
    if not (parsed.state_ids if state else parsed.messages):
        raise Refusal(f"{XML_FORMAT_ERROR}: пустой запрос")
    return parsed


def _xml_security(element: Any, parsed: Parsed) -> None:
    _container(element, "security")
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else "#comment"
        if tag not in ("login", "password"):
            raise Refusal(f"{XML_FORMAT_ERROR}: security/{tag}")
        if getattr(parsed, tag) is not None:
            raise Refusal(f"{XML_FORMAT_ERROR}: элемент {tag} указан дважды")
        if set(child.attrib) != {"value"} or len(child) or not _blank(child.text):
            raise Refusal(f'{XML_FORMAT_ERROR}: {tag} задаётся атрибутом value="..."')
        setattr(parsed, tag, child.get("value"))


def _xml_message(element: Any) -> ParsedMessage:
    _container(element, "message")
    fields: dict[str, Any] = {}
    message = ParsedMessage(fields)
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else "#comment"
        if tag == "abonent":
            if set(child.attrib) - {"phone", "client_id_message"} or "phone" not in child.attrib:
                raise Refusal(f"{XML_FORMAT_ERROR}: abonent")
            if len(child) or not _blank(child.text):
                raise Refusal(f"{XML_FORMAT_ERROR}: abonent не содержит текста")
            cid = child.get("client_id_message")
            message.phones.append((str(child.get("phone")), None if not cid else _client_id(cid)))
            continue
        if tag in fields:
            raise Refusal(f"{XML_FORMAT_ERROR}: элемент {tag} указан дважды")
        if tag == "templateData":
            _container(child, "templateData")
            data: dict[str, str] = {}
            for item in child:
                key = item.tag if isinstance(item.tag, str) else "#comment"
                if key in data:
                    raise Refusal(f"{XML_FORMAT_ERROR}: templateData/{key} указан дважды")
                data[key] = _leaf(item, f"templateData/{key}")
            fields[tag] = data
        elif tag in MESSAGE_FIELDS:
            fields[tag] = _leaf(child, tag)
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
            data = _load_json(fields["templateData"])
        except Refusal:
            raise Refusal("templateData: ожидается JSON-объект") from None
        fields["templateData"] = _template_data(data, "templateData")
    if not phones:
        raise Refusal("Не указан номер телефона (phone)")
    parsed.messages = [ParsedMessage(fields, [(p, None) for p in phones.split(",")])]
    return parsed
