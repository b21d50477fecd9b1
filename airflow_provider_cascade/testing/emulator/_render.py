"""The emulator's responses in each variant's shapes."""

from __future__ import annotations

import json

from lxml import etree

Reply = list[dict[str, str]] | str
XML_DECL = b'<?xml version="1.0" encoding="utf-8"?>'


def _json(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def json_error(text: str) -> bytes:
    return _json({"error": text})


def json_send(replies: list[Reply]) -> bytes:
    return _json({"message": [r if isinstance(r, list) else {"error": r} for r in replies]})


def json_states(rows: list[dict[str, str]]) -> bytes:
    return _json({"state": rows})


def _xml(root: etree._Element) -> bytes:
    return XML_DECL + etree.tostring(root, encoding="utf-8")


def xml_error(text: str) -> bytes:
    root = etree.Element("response")
    etree.SubElement(root, "error").text = text
    return _xml(root)


def xml_send(replies: list[Reply]) -> bytes:
    root = etree.Element("response")
    for reply in replies:
        message = etree.SubElement(root, "message")
        if isinstance(reply, str):
            etree.SubElement(message, "error").text = reply
            continue
        for row in reply:
            attrs = {k: v for k, v in row.items() if k != "error"}
            info = etree.SubElement(message, "information", attrs)
            info.text = row.get("error", "send")
    return _xml(root)


def xml_states(rows: list[dict[str, str]]) -> bytes:
    root = etree.Element("response")
    for row in rows:
        attrs = {k: v for k, v in row.items() if k != "state"}
        etree.SubElement(root, "state", attrs).text = row["state"]
    return _xml(root)


def get_send(rows: list[dict[str, str]]) -> bytes:
    return ",".join(r["id_message"] for r in rows).encode("utf-8")


def get_error(text: str) -> bytes:
    return text.encode("utf-8")
