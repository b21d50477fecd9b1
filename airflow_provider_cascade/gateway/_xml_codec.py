"""The XML POST variant (``xml/message.php``, ``xml/state_message.php``), built and
parsed with lxml: the library escapes, the parser resolves no entities and loads no DTD.
The usual send answer, on the critical path of every campaign batch, is read by its regular
grammar instead (``_usual_answer``); anything outside that grammar goes to lxml."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from operator import itemgetter
from typing import Any

from lxml import etree

from ._batches import Part, SendBatch, StateBatch, chunks, plan_parts
from ._codec_base import CodecBase, unique_ids
from ._decode import (
    SEND_FIELDS,
    STATUS_WORDS,
    check_state_ids,
    check_status,
    finish_part,
    gateway_error,
    part_error,
    send_row,
    state_rows,
    text_body,
    usual_ids,
    usual_prefix,
)
from ._errors import CascadeResponseError
from ._fields import message_fields
from ._message import Message
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
        usual = _usual_answer(response)
        if usual is not None and len(usual) == len(batch.parts):
            results: list[SendResult] = []
            for part, columns in zip(batch.parts, usual, strict=True):
                rows = list(zip(*columns, strict=True))
                done = usual_prefix(part, rows)
                if len(done) != len(rows):
                    break  # a row usual_prefix leaves to the exact path: read it all that way
                results.extend(finish_part(part, done, []))
            else:
                return results
        return self._parse_send_exactly(batch, response)

    def accepted_ids(self, batch: SendBatch, response: HttpResponse) -> list[str] | None:
        """As ``JsonCodec.accepted_ids``: the usual answer's ids without lxml or a result
        per recipient; None for any other answer."""
        usual = _usual_answer(response)
        return None if usual is None else usual_ids(batch.parts, usual)

    def _parse_send_exactly(self, batch: SendBatch, response: HttpResponse) -> list[SendResult]:
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
    check_status(response)
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


# XML's whitespace, not Unicode's. Runs and values are capped far below libxml2's limits
# (10,000,000 characters, kept by lxml's parser here): longer ones go to the exact path.
_WS = "[ \t\r\n]{0,4096}"
_DIGITS = "[0-9]{0,64}"
_FIRST_ROW = re.compile(f'<information((?: [a-z_]+="{_DIGITS}")+)>')
_ATTRIBUTE_NAME = re.compile(r" ([a-z_]+)=")


@lru_cache(maxsize=16)
def _grammar(names: tuple[str, ...]) -> re.Pattern[str] | None:
    """The usual send answer whose rows carry these attributes in this order, as a regular
    language: an optional UTF-8 declaration, ``<response>``, ``<message>`` elements holding
    only ``<information>`` rows with exactly these attributes, each of ASCII digits in double
    quotes, and a status word or nothing as text; XML whitespace between elements (runs and
    values of bounded length). Nothing else: no DOCTYPE, entity, comment, CDATA, namespace
    or other attribute. Any XML parser builds the same tree of such a text, so it is read
    with regular expressions and ``str.split``."""
    if len(set(names)) != len(names) or not set(names) <= set(SEND_FIELDS):
        return None  # a parser refuses a repeated attribute; any other is not a usual row
    texts = "|".join(map(re.escape, sorted(STATUS_WORDS)))
    values = "".join(f' {name}="{_DIGITS}"' for name in names)
    row = f"<information{values}>(?:{texts})?</information>"
    return re.compile(
        f"(?:<\\?xml version=([\"'])1\\.0\\1 encoding=([\"'])(?i:utf-8)\\2\\?>)?{_WS}"
        f"<response>{_WS}(?:<message>{_WS}(?:{row}{_WS})*</message>{_WS})+</response>{_WS}"
    )


def _usual_answer(response: HttpResponse) -> list[list[Sequence[str]]] | None:
    """Each ``<message>``'s rows as columns, one per ``SEND_FIELDS`` field (an absent one all
    ``""``), when the answer is HTTP 200, UTF-8 and in the usual grammar of its first row
    (``_grammar``); None otherwise, and the exact path reads it. lxml's tree and attribute
    access cost three times this on the critical path of every campaign batch."""
    if response.status != 200:
        return None
    try:
        text = response.body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    first = _FIRST_ROW.search(text)
    names = () if first is None else tuple(_ATTRIBUTE_NAME.findall(first[1]))
    grammar = _grammar(names) if names else None
    if grammar is None or grammar.fullmatch(text) is None:
        return None
    # In this grammar the only double-quoted texts after <response> are the rows' values,
    # in order, and "</message>" only ends a message.
    width, where = len(names), [names.index(k) if k in names else -1 for k in SEND_FIELDS]
    out: list[list[Sequence[str]]] = []
    for part in text[text.index("<response>") :].split("</message>")[:-1]:
        values = part.split('"')[1::2]
        none = [""] * (len(values) // width)
        out.append([none if i < 0 else values[i::width] for i in where])
    return out


def _message_results(part: Part, item: etree._Element) -> list[SendResult]:
    children = list(item)
    if len(children) == 1 and children[0].tag == "error":
        return part_error(part, children[0].text or "")
    done = usual_prefix(part, _usual_rows(children))
    rest = []
    for child in children[len(done) :]:
        if child.tag != "information":
            raise CascadeResponseError(f"unexpected <{child.tag}> inside <message>")
        rest.append(send_row(_attrs(child), child.text or ""))
    return finish_part(part, done, rest)


_USUAL_TEXTS = frozenset({None, "", *STATUS_WORDS})


def _usual_rows(children: list[etree._Element]) -> Iterator[Sequence[Any]]:
    """Each ``<information>``'s ``SEND_FIELDS`` (absent ones as ``""``) while its text is a
    status word (or none) and it has neither ``error`` nor ``base``: the document's success
    row, read without a dict per row (lxml's attribute access dominates the answer)."""
    last: object = None
    usual, pick = False, None
    for child in children:
        if child.tag != "information" or child.text not in _USUAL_TEXTS:
            return
        keys = child.keys()
        if keys != last:
            (usual, pick), last = _shape(keys), keys
        if not usual:
            return
        yield child.values() if pick is None else pick([*child.values(), ""])


_SEND_KEYS = list(SEND_FIELDS)


def _shape(keys: Sequence[Any]) -> tuple[bool, Callable[[list[Any]], Sequence[Any]] | None]:
    """For rows with these attribute names: whether they can be success rows, and how to
    take their values (plus a last ``""``) in ``SEND_FIELDS`` order; None: as they are (the
    emulator's order, and the document's JSON order)."""
    if "error" in keys or "base" in keys:
        return False, None
    if keys == _SEND_KEYS:
        return True, None
    absent = len(keys)
    return True, itemgetter(*(keys.index(k) if k in keys else absent for k in SEND_FIELDS))


def _attrs(element: etree._Element) -> dict[str, str]:
    return {str(k): str(v) for k, v in element.attrib.items()}
