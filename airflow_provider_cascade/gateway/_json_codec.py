"""The JSON POST variant (``sendmessagejson.php``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from ._batches import Part, SendBatch, StateBatch, chunks, plan_parts
from ._codec_base import CodecBase, unique_ids
from ._decode import check_state_ids, load_json, match_part, part_error, send_row, state_rows
from ._errors import CascadeResponseError
from ._message import Message
from ._message_fields import message_fields
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


def _message_results(part: Part, item: Any) -> list[SendResult]:
    if isinstance(item, dict):
        error = item.get("error")
        if not isinstance(error, str):
            raise CascadeResponseError("a message item is an object without 'error'")
        return part_error(part, error)
    if not isinstance(item, list):
        raise CascadeResponseError("a message item is neither a list of rows nor an error")
    rows = []
    for row in item:
        if not isinstance(row, dict):
            raise CascadeResponseError("a recipient row is not an object")
        rows.append(send_row(row))
    return match_part(part, rows)
