"""The HTTPS GET variant (``sendmessage.php``): one message per request, phones
comma-separated and split so every URL stays under the length limit."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from ._batches import Part, SendBatch, StateBatch
from ._codec_base import CodecBase, unique_ids
from ._decode import gateway_error, positional, state_rows, text_body
from ._errors import (
    CascadeAuthError,
    CascadeDuplicateRequestError,
    CascadeResponseError,
    CascadeValidationError,
)
from ._message import Message, Recipient
from ._message_fields import message_fields
from ._results import MessageState, SendResult
from ._wire import HttpRequest, HttpResponse, Variant

PATH = "sendmessage.php"
_IDS = re.compile(r"[0-9]+(?:,[0-9]+)*")  # ASCII digits only (\d also matches "١" and "²")


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
        """One message per request, its phones split so that every URL stays under
        ``max_url_length``. Two identical requests in one call are refused before anything
        is sent: the gateway would refuse the second as a repeat within the minute."""
        batches: list[SendBatch] = []
        seen: dict[str, int] = {}
        limit = self.settings.max_url_length
        for index, message in enumerate(self.validated(messages)):
            params = self.message_params(message)
            # The URL without phones, plus "&phone=" and the phones: it must stay < limit.
            room = limit - 1 - (len(self._url(params)) + len("&phone="))
            if room < max(len(r.phone) for r in message.recipients):
                raise CascadeValidationError(
                    "text",
                    f"the GET URL would exceed {limit} characters even for one phone; "
                    "shorten the texts or use the JSON or XML variant",
                    index,
                )
            chunk: list[Recipient] = []
            used = 0
            for recipient in message.recipients:
                cost = len(recipient.phone) + (1 if chunk else 0)
                if chunk and used + cost > room:
                    batches.append(self._send_batch(index, message, params, chunk, seen))
                    chunk, used, cost = [], 0, len(recipient.phone)
                chunk.append(recipient)
                used += cost
            batches.append(self._send_batch(index, message, params, chunk, seen))
        return batches

    def _send_batch(
        self,
        index: int,
        message: Message,
        params: dict[str, str],
        chunk: list[Recipient],
        seen: dict[str, int],
    ) -> SendBatch:
        query = {**params, "phone": ",".join(r.phone for r in chunk)}
        # keep phone right after the credentials, as in the document's example
        ordered = {k: v for k, v in query.items() if k in ("login", "password", "phone")}
        ordered.update(query)
        request = self._request(ordered)
        earlier = seen.get(request.url)
        if earlier is not None:
            raise CascadeValidationError(
                "messages",
                f"this message would make a request identical to one already made for message "
                f"{earlier} in this call; the gateway refuses the same request twice within a "
                "minute: remove the repeat or send it in a later call",
                index,
            )
        seen[request.url] = index
        return SendBatch(request, (Part(index, message.with_recipients(chunk, bases=())),))

    def _parse_send(self, batch: SendBatch, response: HttpResponse) -> list[SendResult]:
        response.raise_for_status()
        text = text_body(response).strip()
        (part,) = batch.parts
        if _IDS.fullmatch(text) is None:
            raise gateway_error(text or f"empty response (HTTP {response.status})", response.status)
        if response.status != 200:
            raise CascadeResponseError(f"unexpected HTTP {response.status}")
        return positional(part, text.split(","))

    def state_batches(self, id_messages: Iterable[str | int] | str | int) -> list[StateBatch]:
        return [
            StateBatch(self._request({**self._params(), "id_message": i}), (i,))
            for i in unique_ids(id_messages)
        ]

    def _parse_state(self, batch: StateBatch, response: HttpResponse) -> dict[str, MessageState]:
        response.raise_for_status()
        text = text_body(response).strip()
        error = gateway_error(text or "empty response", response.status)
        if not text or isinstance(error, (CascadeAuthError, CascadeDuplicateRequestError)):
            raise error  # about the request, not the message
        if response.status != 200:
            raise CascadeResponseError(f"unexpected HTTP {response.status}")
        (id_message,) = batch.ids
        return state_rows([{"id_message": id_message, "state": text}])
