"""The HTTPS GET variant (``sendmessage.php``): one message per request, phones
comma-separated and split so every URL stays under the length limit."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from ._codec_base import CodecBase, unique_ids
from ._decode import check_status, gateway_error, plain_state, text_body
from ._errors import (
    CascadeAuthError,
    CascadeDuplicateRequestError,
    CascadeResponseError,
    CascadeValidationError,
)
from ._fields import message_fields
from ._message import Message
from ._results import MessageState, SendResult
from ._wire import HttpRequest, HttpResponse, Part, SendBatch, StateBatch, Variant

PATH = "sendmessage.php"
_IDS = re.compile(r"\d+(?:,\d+)*")


def _query(params: dict[str, str]) -> str:
    return urlencode(params, quote_via=quote, safe=",")


class GetCodec(CodecBase):
    variant = Variant.GET

    def _params(self) -> dict[str, str]:
        creds = self.credentials()
        return {} if creds is None else {"login": creds.login, "password": creds.password}

    def _url(self, params: dict[str, str]) -> str:
        return f"{self.settings.base_url}{PATH}?{_query(params)}"

    def _request(self, params: dict[str, str]) -> HttpRequest:
        return HttpRequest("GET", self._url(params), self.auth_headers())

    def message_params(self, message: Message) -> dict[str, str]:
        params = self._params()
        for key, value in message_fields(message, self.tz).items():
            if isinstance(value, dict):
                value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            params[key] = value
        return params

    def send_batches(self, messages: Sequence[Message | Mapping[str, Any]]) -> list[SendBatch]:
        batches: list[SendBatch] = []
        for index, message in enumerate(self.validated(messages)):
            params = self.message_params(message)
            # Length of the URL without phones, plus "&phone=" and the encoded phones.
            fixed = len(self._url(params)) + len("&phone=")
            room = self.settings.max_url_length - 1 - fixed
            longest = max(len(r.phone) for r in message.recipients)
            if room < longest:
                raise CascadeValidationError(
                    "text",
                    f"the GET URL would exceed {self.settings.max_url_length} characters even "
                    "for one phone; shorten the texts or use the JSON or XML variant",
                    index,
                )
            chunk: list[Any] = []
            used = 0
            for recipient in message.recipients:
                cost = len(recipient.phone) + (1 if chunk else 0)
                if chunk and used + cost > room:
                    batches.append(self._send_batch(index, message, params, chunk))
                    chunk, used, cost = [], 0, len(recipient.phone)
                chunk.append(recipient)
                used += cost
            batches.append(self._send_batch(index, message, params, chunk))
        return batches

    def _send_batch(
        self, index: int, message: Message, params: dict[str, str], chunk: list[Any]
    ) -> SendBatch:
        query = {**params, "phone": ",".join(r.phone for r in chunk)}
        # keep phone right after the credentials, as in the document's example
        ordered = {k: v for k, v in query.items() if k in ("login", "password", "phone")}
        ordered.update(query)
        part = Part(index, message.split(tuple(chunk), with_bases=False))
        return SendBatch(self._request(ordered), (part,))

    def _parse_send(self, batch: SendBatch, response: HttpResponse) -> list[SendResult]:
        check_status(response)
        text = text_body(response).strip()
        (part,) = batch.parts
        if _IDS.fullmatch(text) is None:
            raise gateway_error(text or f"empty response (HTTP {response.status})", response.status)
        ids = text.split(",")
        phones = [r.phone for r in part.message.recipients]
        if len(ids) != len(phones):
            raise CascadeResponseError(
                f"the gateway returned {len(ids)} ids for {len(phones)} phones"
            )
        return [SendResult(part.message_index, p, i) for p, i in zip(phones, ids, strict=True)]

    def state_batches(self, id_messages: Iterable[str | int]) -> list[StateBatch]:
        return [
            StateBatch(self._request({**self._params(), "id_message": i}), (i,))
            for i in unique_ids(id_messages)
        ]

    def _parse_state(self, batch: StateBatch, response: HttpResponse) -> dict[str, MessageState]:
        check_status(response)
        text = text_body(response).strip()
        error = gateway_error(text or "empty response", response.status)
        if not text or isinstance(error, (CascadeAuthError, CascadeDuplicateRequestError)):
            raise error  # about the request, not the message
        if response.status != 200:
            raise CascadeResponseError(f"unexpected HTTP {response.status}")
        (id_message,) = batch.ids
        return {id_message: plain_state(id_message, text)}
