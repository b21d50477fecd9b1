"""What every variant's codec shares: validation of a batch, auth placement."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from ._batches import SendBatch, StateBatch
from ._checks import is_id
from ._errors import (
    CascadeError,
    CascadeGatewayError,
    CascadeResponseError,
    CascadeValidationError,
)
from ._message import Message, as_message
from ._message_fields import check_capabilities
from ._results import MessageState, SendResult
from ._secrets import scrub as scrub_secrets
from ._secrets import scrubbing
from ._timefmt import zone
from ._wire import (
    BearerToken,
    CodecSettings,
    HttpResponse,
    LoginPassword,
    Variant,
)
from .arguments import comma_list


class Codec(Protocol):
    """One variant's requests and answers, without I/O. ``send_batches`` checks every
    message before returning any request; ``iter_send_batches`` too, then encodes each
    request only when it is taken (a campaign's requests are not all held at once);
    ``parse_send`` returns exactly one result per recipient of the batch (see
    ``_decode.match_part``); ``parse_state`` exactly the ids asked."""

    variant: Variant
    settings: CodecSettings

    def send_batches(self, messages: Sequence[Message | Mapping[str, Any]]) -> list[SendBatch]: ...

    def iter_send_batches(
        self, messages: Sequence[Message | Mapping[str, Any]]
    ) -> Iterator[SendBatch]: ...

    def parse_send(self, batch: SendBatch, response: HttpResponse) -> list[SendResult]: ...

    def state_batches(self, id_messages: Iterable[str | int] | str | int) -> list[StateBatch]: ...

    def parse_state(self, batch: StateBatch, response: HttpResponse) -> dict[str, MessageState]: ...


class CodecBase:
    variant: Variant

    def __init__(self, settings: CodecSettings) -> None:
        self.settings = settings
        self.tz = zone(settings.timezone)
        auth = settings.auth
        secret = auth.token if isinstance(auth, BearerToken) else auth.password
        self._secrets = [secret] if len(secret) >= 3 else []

    # -- answers: every text the gateway wrote passes through scrub() ------------------
    def scrub(self, text: str) -> str:
        """A gateway (or something posing as one) may echo what it was sent: credentials
        never leave the codec inside an error text or a result, in any encoding."""
        return scrub_secrets(text, self._secrets)

    def parse_send(self, batch: SendBatch, response: HttpResponse) -> list[SendResult]:
        try:
            with scrubbing(self._secrets):  # texts cut while reading are scrubbed first
                results = self._parse_send(batch, response)
        except (CascadeGatewayError, CascadeResponseError) as exc:
            raise self._scrubbed(exc) from None
        for result in results:
            if result.error is not None:
                result.error = self.scrub(result.error)
            if result.note is not None:
                result.note = self.scrub(result.note)
        return results

    def iter_send_batches(
        self, messages: Sequence[Message | Mapping[str, Any]]
    ) -> Iterator[SendBatch]:
        """``send_batches`` one at a time where the variant can encode lazily: every message
        is checked before this returns."""
        return iter(self.send_batches(messages))

    def send_batches(self, messages: Sequence[Message | Mapping[str, Any]]) -> list[SendBatch]:
        raise NotImplementedError

    def parse_state(self, batch: StateBatch, response: HttpResponse) -> dict[str, MessageState]:
        try:
            with scrubbing(self._secrets):
                states = self._parse_state(batch, response)
        except (CascadeGatewayError, CascadeResponseError) as exc:
            raise self._scrubbed(exc) from None
        for state in states.values():
            if state.error is not None:
                state.error = state.state = self.scrub(state.error)
        return states

    def _parse_send(self, batch: SendBatch, response: HttpResponse) -> list[SendResult]:
        raise NotImplementedError

    def _parse_state(self, batch: StateBatch, response: HttpResponse) -> dict[str, MessageState]:
        raise NotImplementedError

    def _scrubbed(self, exc: CascadeError) -> CascadeError:
        """``exc`` scrubbed in place (its arguments and text attributes), its chain cut: the
        exception it was raised from may hold the answer (``JSONDecodeError.doc``), and
        error reporters walk ``__context__`` and ``__cause__``."""
        exc.args = tuple(self.scrub(a) if isinstance(a, str) else a for a in exc.args)
        for name, value in list(vars(exc).items()):
            if isinstance(value, str):
                setattr(exc, name, self.scrub(value))
        exc.__cause__ = exc.__context__ = None
        exc.__suppress_context__ = True
        return exc

    def auth_headers(self) -> dict[str, str]:
        if isinstance(self.settings.auth, BearerToken):
            return {"Authorization": f"Bearer {self.settings.auth.token}"}
        return {}

    def credentials(self) -> LoginPassword | None:
        auth = self.settings.auth
        return auth if isinstance(auth, LoginPassword) else None

    def validated(self, messages: Sequence[Message | Mapping[str, Any]]) -> list[Message]:
        """Every message checked, and checked against this variant, before any request."""
        if isinstance(messages, (Message, Mapping)):
            messages = [messages]
        out: list[Message] = []
        seen_ids: dict[str, int] = {}
        for index, item in enumerate(messages):
            try:
                message = as_message(item)
                check_capabilities(message, self.variant)
            except CascadeValidationError as exc:
                raise exc.at(index) from None
            for recipient in message.recipients:
                cid = recipient.client_id_message
                cid = None if cid is None else str(cid)
                if cid is None:
                    continue
                if cid in seen_ids:
                    raise CascadeValidationError(
                        "client_id_message",
                        f"{cid} is used twice (also in message {seen_ids[cid]}); the gateway "
                        "would drop the second send",
                        index,
                    )
                seen_ids[cid] = index
            out.append(message)
        if not out:
            raise CascadeValidationError("messages", "at least one message is required")
        return out


def unique_ids(id_messages: Iterable[str | int] | str | int) -> list[str]:
    """Ids as strings (a list, or a comma string), duplicates dropped, order kept; anything
    but ASCII digits refused, and ``0``, which the gateway uses for "not sent"."""
    out: dict[str, None] = {}
    for value in comma_list("id_message", id_messages):
        text = value.strip() if isinstance(value, str) else value
        if not isinstance(text, str) or not is_id(text) or int(text) == 0:
            raise CascadeValidationError("id_message", f"must be a numeric id (got {value!r})")
        out[text] = None
    return list(out)
