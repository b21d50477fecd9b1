"""The JSON POST variant (``sendmessagejson.php``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from operator import attrgetter
from typing import Any

import msgspec

from ._batches import Part, SendBatch, StateBatch, chunks, plan_parts
from ._codec_base import CodecBase, unique_ids
from ._decode import (
    SEND_FIELDS,
    check_state_ids,
    finish_part,
    load_json,
    part_error,
    send_row,
    state_rows,
    usual_ids,
    usual_prefix,
)
from ._errors import CascadeResponseError
from ._fields import message_fields
from ._message import Message
from ._results import MessageState, SendResult
from ._timefmt import format_time_send
from ._wire import HttpRequest, HttpResponse, Variant

PATH = "sendmessagejson.php"
CONTENT_TYPE = "application/json; charset=utf-8"


class JsonCodec(CodecBase):
    variant = Variant.JSON

    def _request(self, document: dict[str, Any]) -> HttpRequest:
        creds = self.credentials()
        if creds is not None:
            document = {"login": creds.login, "password": creds.password, **document}
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = {"Content-Type": CONTENT_TYPE, **self.auth_headers()}
        return HttpRequest("POST", self.settings.base_url + PATH, headers, body)

    def message_document(self, message: Message) -> dict[str, Any]:
        item: dict[str, Any] = dict(message_fields(message, self.tz))
        if message.recipients:
            item["phones"] = [
                {"phone": r.phone}
                if r.client_id_message is None
                else {"phone": r.phone, "client_id_message": r.client_id_message}
                for r in message.recipients
            ]
        if message.bases:
            item["base"] = [
                {"base": b.base}
                if b.time_send is None
                else {"base": b.base, "time_send": format_time_send(b.time_send, self.tz)}
                for b in message.bases
            ]
        if message.stop_bases:
            item["stop_base"] = [{"base": s} for s in message.stop_bases]
        return item

    def send_batches(self, messages: Sequence[Message | Mapping[str, Any]]) -> list[SendBatch]:
        return list(self.iter_send_batches(messages))

    def iter_send_batches(
        self, messages: Sequence[Message | Mapping[str, Any]]
    ) -> Iterator[SendBatch]:
        plans = plan_parts(self.validated(messages), self.settings.max_recipients)
        return (
            SendBatch(
                self._request({"message": [self.message_document(p.message) for p in parts]}),
                tuple(parts),
            )
            for parts in plans
        )

    def _parse_send(self, batch: SendBatch, response: HttpResponse) -> list[SendResult]:
        items: Any = _usual_answer(response)
        if items is None:
            items = load_json(response).get("message")
            if not isinstance(items, list):
                raise CascadeResponseError("the send response has neither 'message' nor 'error'")
        if len(items) != len(batch.parts):
            raise CascadeResponseError(
                f"the send response has {len(items)} message items for {len(batch.parts)} sent"
            )
        results: list[SendResult] = []
        for part, item in zip(batch.parts, items, strict=True):
            results.extend(_message_results(part, item))
        return results

    def accepted_ids(self, batch: SendBatch, response: HttpResponse) -> list[str] | None:
        """``plain_ids(parse_send(batch, response))`` for the usual answer, read without a
        result per recipient: the answer of every campaign batch is on its critical path.
        None for any other answer (then ``parse_send`` reads it)."""
        items = _usual_answer(response)
        if items is None:
            return None
        return usual_ids(batch.parts, [[list(map(f, rows)) for f in _FIELDS] for rows in items])

    def state_batches(self, id_messages: Iterable[str | int] | str | int) -> list[StateBatch]:
        return [
            StateBatch(self._request({"state": [{"id_message": i} for i in chunk]}), chunk)
            for chunk in chunks(unique_ids(id_messages), self.settings.max_state_ids)
        ]

    def _parse_state(self, batch: StateBatch, response: HttpResponse) -> dict[str, MessageState]:
        rows = load_json(response).get("state")
        if not isinstance(rows, list):
            raise CascadeResponseError("the state response has neither 'state' nor 'error'")
        return check_state_ids(batch.ids, state_rows(rows))


class _UsualRow(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """The document's success row, every field a string (``SEND_FIELDS``); without a client
    id (a recipient sent without one) as ``""``, which is how ``usual_prefix`` reads it."""

    id_message: str
    phone: str
    count_message: str
    id_viber: str
    id_whatsapp: str
    id_vk: str
    id_sms: str
    client_id_message: str = ""


class _UsualAnswer(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    message: list[list[_UsualRow]]


_read_usual = msgspec.json.Decoder(_UsualAnswer).decode
_usual_fields = attrgetter(*SEND_FIELDS)
_FIELDS = [attrgetter(name) for name in SEND_FIELDS]


def _usual_answer(response: HttpResponse) -> list[list[_UsualRow]] | None:
    """The rows of the usual answer: HTTP 200 and exactly ``{"message": [[row, ...], ...]}``,
    every row a ``_UsualRow``. Read without a dict per row (msgspec comes with Airflow's task
    SDK); it refuses what ``json.loads`` refuses (invalid UTF-8, a BOM, trailing bytes) and
    more (other keys or types, lone surrogates), and a refused answer goes the exact way."""
    if response.status != 200:
        return None
    try:
        return _read_usual(response.body).message
    except (msgspec.MsgspecError, ValueError):
        return None


def _message_results(part: Part, item: Any) -> list[SendResult]:
    if isinstance(item, dict):
        error = item.get("error")
        if not isinstance(error, str):
            raise CascadeResponseError("a message item is an object without 'error'")
        return part_error(part, error)
    if not isinstance(item, list):
        raise CascadeResponseError("a message item is neither a list of rows nor an error")
    done = usual_prefix(part, _usual_rows(item))
    rest = []
    for row in item[len(done) :]:
        if row.__class__ is _UsualRow:
            row = msgspec.structs.asdict(row)
        elif not isinstance(row, dict):
            raise CascadeResponseError("a recipient row is not an object")
        rest.append(send_row(row))
    return finish_part(part, done, rest)


def _usual_rows(rows: list[Any]) -> Iterator[Sequence[Any]]:
    """Each row's ``SEND_FIELDS`` (an absent one as None): in C for the typed rows of the
    usual answer; else row by row while rows are objects without ``error`` or ``base`` (an
    answer with a rejected recipient, say, read by ``json.loads``)."""
    if rows and rows[0].__class__ is _UsualRow:
        return map(_usual_fields, rows)
    return _some_usual_rows(rows)


def _some_usual_rows(rows: list[Any]) -> Iterator[Sequence[Any]]:
    for row in rows:
        if row.__class__ is not dict or "error" in row or "base" in row:
            return
        get = row.get
        yield (
            get("id_message"),
            get("client_id_message"),
            get("phone"),
            get("count_message"),
            get("id_viber"),
            get("id_whatsapp"),
            get("id_vk"),
            get("id_sms"),
        )
