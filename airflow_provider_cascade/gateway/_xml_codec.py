"""The XML POST variant (``xml/message.php``, ``xml/state_message.php``), built and
parsed with lxml: the library escapes, the parser resolves no entities and loads no DTD."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from lxml import etree

from ._batches import Part, SendBatch, StateBatch, chunks, plan_parts
from ._codec_base import CodecBase, unique_ids
from ._decode import (
    check_state_ids,
    gateway_error,
    match_part,
    part_error,
    send_row,
    state_rows,
    text_body,
)
from ._errors import CascadeResponseError
from ._message import Message
from ._message_fields import message_fields
from ._results import MessageState, SendResult
from ._wire import HttpRequest, HttpResponse, Variant

SEND_PATH = "xml/message.php"
STATE_PATH = "xml/state_message.php"
CONTENT_TYPE = "text/xml; charset=utf-8"
DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>'


def one_line(value: str) -> str:
    """The document forbids line breaks: data line breaks travel as the two characters \\n."""
    return value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")


def safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_document(body: bytes) -> etree._Element:
    """Parse untrusted XML; any DOCTYPE (entity bombs, external entities) is refused."""
    try:
        root = etree.fromstring(body, safe_parser())
    except etree.XMLSyntaxError as exc:
        raise CascadeResponseError(f"response is not well-formed XML: {exc.msg:.120}") from None
    tree = root.getroottree()
    if getattr(tree.docinfo, "doctype", "") or tree.docinfo.internalDTD is not None:
        raise CascadeResponseError("response XML carries a DOCTYPE; refused without expanding it")
    return root


class XmlCodec(CodecBase):
    variant = Variant.XML

    def _document(self, path: str, root: etree._Element) -> HttpRequest:
        body = DECLARATION + etree.tostring(root, encoding="utf-8")
        headers = {"Content-Type": CONTENT_TYPE, **self.auth_headers()}
        return HttpRequest("POST", self.settings.base_url + path, headers, body)

    def _root(self) -> etree._Element:
        root = etree.Element("request")
        creds = self.credentials()
        if creds is not None:
            security = etree.SubElement(root, "security")
            etree.SubElement(security, "login", value=one_line(creds.login))
            etree.SubElement(security, "password", value=one_line(creds.password))
        return root

    def add_message(self, root: etree._Element, message: Message) -> None:
        element = etree.SubElement(root, "message")
        for key, value in message_fields(message, self.tz).items():
            child = etree.SubElement(element, key)
            if isinstance(value, dict):
                for name, item in value.items():
                    etree.SubElement(child, name).text = one_line(item)
            else:
                child.text = one_line(value)
        for r in message.recipients:
            abonent = etree.SubElement(element, "abonent", phone=r.phone)
            if r.client_id_message is not None:
                abonent.set("client_id_message", str(r.client_id_message))

    def send_batches(self, messages: Sequence[Message | Mapping[str, Any]]) -> list[SendBatch]:
        return list(self.iter_send_batches(messages))

    def iter_send_batches(
        self, messages: Sequence[Message | Mapping[str, Any]]
    ) -> Iterator[SendBatch]:
        plans = plan_parts(self.validated(messages), self.settings.max_recipients)
        return (self._send_batch(parts) for parts in plans)

    def _send_batch(self, parts: list[Part]) -> SendBatch:
        root = self._root()
        for part in parts:
            self.add_message(root, part.message)
        return SendBatch(self._document(SEND_PATH, root), tuple(parts))

    def _parse_send(self, batch: SendBatch, response: HttpResponse) -> list[SendResult]:
        root = _load(response)
        items = [child for child in root if child.tag == "message"]
        if len(items) != len(batch.parts):
            raise CascadeResponseError(
                f"the send response has {len(items)} <message> elements for {len(batch.parts)} sent"
            )
        results: list[SendResult] = []
        for part, item in zip(batch.parts, items, strict=True):
            results.extend(_message_results(part, item))
        return results

    def state_batches(self, id_messages: Iterable[str | int] | str | int) -> list[StateBatch]:
        batches = []
        for chunk in chunks(unique_ids(id_messages), self.settings.max_state_ids):
            root = self._root()
            state = etree.SubElement(root, "state")
            for id_message in chunk:
                etree.SubElement(state, "id_message").text = id_message
            batches.append(StateBatch(self._document(STATE_PATH, root), chunk))
        return batches

    def _parse_state(self, batch: StateBatch, response: HttpResponse) -> dict[str, MessageState]:
        rows = []
        for element in _load(response):
            if element.tag != "state":
                raise CascadeResponseError(f"unexpected <{element.tag}> in a state response")
            rows.append({**_attrs(element), "state": element.text or ""})
        return check_state_ids(batch.ids, state_rows(rows))


def _load(response: HttpResponse) -> etree._Element:
    response.raise_for_status()
    try:
        root = parse_document(response.body)
    except CascadeResponseError:
        text_body(response)  # not UTF-8: say that rather than what the parser saw
        raise
    # Refuses invalid UTF-8 with a clear error. After the parse: decoding first made parsing
    # a 190 KB answer ~1 ms slower here (measured; the allocator and the freed text, it seems).
    text_body(response)
    if root.tag != "response":
        raise CascadeResponseError(f"the XML root is <{root.tag}>, expected <response>")
    children = list(root)
    if len(children) == 1 and children[0].tag == "error":
        raise gateway_error(children[0].text or "", response.status)
    if response.status != 200:
        raise CascadeResponseError(f"unexpected HTTP {response.status}")
    return root


def _message_results(part: Part, item: etree._Element) -> list[SendResult]:
    children = list(item)
    if len(children) == 1 and children[0].tag == "error":
        return part_error(part, children[0].text or "")
    rows = []
    for child in children:
        if child.tag != "information":
            raise CascadeResponseError(f"unexpected <{child.tag}> inside <message>")
        rows.append(send_row(_attrs(child), child.text or ""))
    return match_part(part, rows)


def _attrs(element: etree._Element) -> dict[str, str]:
    return {str(k): str(v) for k, v in element.attrib.items()}
