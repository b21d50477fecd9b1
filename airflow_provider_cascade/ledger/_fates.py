"""Recipient fates: the one home of how what the ledger knows of a recipient changes.

A batch's records are folded in order; each says something of some of its recipients (``new``
below), and ``merge`` keeps what the table says (``now`` is what was known before):

    now \\ new      accepted   untracked  rejected   in_flight  unsent
    (nothing)      accepted   untracked  rejected   in_flight  unsent
    unsent         accepted   untracked  rejected   in_flight  unsent
    in_flight      accepted   untracked  rejected   in_flight  in_flight
    untracked      accepted   untracked  untracked  untracked  untracked
    rejected       accepted   rejected   rejected   rejected   rejected
    accepted       accepted   accepted   accepted   accepted   accepted

Read it as three rules. An id is money to track: a row with an ``id_message`` is never
replaced by one without (a superseded try's late outcome keeps its ids beside a resend's
"already sent" row), and it replaces anything without one. Perhaps-sent stays perhaps-sent: a
copy refused before it left says nothing of the copy before it. Settled is settled: untracked
and rejected recipients are never sent again, so nothing later but an id changes them.

What one answer says of each recipient of its request (``answer_row``):

    the answer has no row for the recipient          in_flight (resend, same client id)
    "already sent", and this is the batch's first    rejected: the client id was used by an
      request in this ledger, with a client id not     earlier send; not messaged now
      derived by this provider for this person
    "already sent" with an id, a later request       accepted under that (its own) id
    "already sent" without an id, a later request    untracked (sent earlier, cannot be polled)
    a row with an id_message, whatever its text      accepted (polled; the text kept as a note)
    anything else                                    rejected with the gateway's text

What a failed request says (``failure_fate``): a repeat refusal, a lost answer, a 5xx or an
unreadable answer: in_flight; a request that certainly never left: unsent. Perhaps-sent
recipients without a client id (GET) become untracked (``untracked_without_id``): resending
them could message them twice.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

from ..gateway import (
    CascadeDuplicateRequestError,
    CascadeError,
    CascadeResponseError,
    CascadeServerError,
    CascadeTransportError,
    SendResult,
)
from ._records import Entry, Fate, Row

UNTRACKED_NO_ID = "already sent earlier under this client id; the gateway gave no id to poll"
UNTRACKED_NO_CID = "answer lost and no client id to resend safely: may have been sent, not resent"
ID_USED_EARLIER = (
    "client_id_message already used by an earlier send: the gateway did not message this "
    "recipient now (give each send its own client ids, or let the provider derive them)"
)
NO_ROW = "the answer has no row for this recipient"
NOT_SENT = "not sent: the try stopped before this request"

_RANK = {Fate.UNSENT: 0, Fate.IN_FLIGHT: 1, Fate.REJECTED: 2, Fate.UNTRACKED: 3}


def merge(now: Row | None, new: Row) -> Row:
    """What is known of a recipient after ``new`` (the table above)."""
    if now is None:
        return new
    if now.fate is Fate.ACCEPTED and now.id_message:
        return now
    if new.fate is Fate.ACCEPTED and (new.id_message or new.members is not None):
        return new
    if now.fate is Fate.ACCEPTED:  # a base whose members were accepted
        return now
    if now.fate in (Fate.UNSENT, Fate.IN_FLIGHT) and _RANK[new.fate] >= _RANK[now.fate]:
        return new
    return now


def answer_row(answer: SendResult | None, foreign_repeat: bool) -> Row:
    """What an answer's row says of its recipient (the second table above);
    ``foreign_repeat``: an "already sent" would be about a copy this send did not make."""
    if answer is None or answer.answer_missing:
        return Row(Fate.IN_FLIGHT, None, NO_ROW)
    if answer.already_sent:
        if foreign_repeat:
            return Row(Fate.REJECTED, None, ID_USED_EARLIER, already=True)
        if answer.id_message:
            return Row(Fate.ACCEPTED, answer.id_message, None, already=True)
        return Row(Fate.UNTRACKED, None, UNTRACKED_NO_ID, already=True)
    if answer.id_message:
        return Row(Fate.ACCEPTED, answer.id_message, answer.error)
    return Row(Fate.REJECTED, None, answer.error or "refused without an error text")


def answer_rows(
    entries: Sequence[Entry],
    sent: Sequence[int],
    answers: Sequence[SendResult],
    first: bool,
    own_id: Callable[[Entry], bool] = lambda entry: False,
) -> dict[int, Row]:
    """Rows for the recipients ``sent`` (entry indexes, request order) from the codec's
    results (one per recipient in request order; a stored base gets the rows of its phones).
    ``first``: the batch's first request in this ledger; ``own_id``: the entry's client id is
    the one this provider derives for that person."""
    rows: dict[int, Row] = {}
    queue = deque(answers)
    for i in sent:
        base = entries[i].base
        if base is None:
            answer = queue.popleft() if queue else None
            foreign = first and answer is not None and answer.already_sent
            rows[i] = answer_row(answer, foreign and not own_id(entries[i]))
            continue
        mine = [a for a in queue if a.base is not None and str(a.base) == base]
        queue = deque(a for a in queue if not (a.base is not None and str(a.base) == base))
        found = [(a.phone, answer_row(a, first)) for a in mine if a.phone is not None]
        error = next((a.error for a in mine if a.phone is None), None)
        accepted = any(r.fate is Fate.ACCEPTED for _, r in found)
        rows[i] = Row(Fate.ACCEPTED if accepted else Fate.REJECTED, None, error, members=found)
    return rows


def failure_fate(exc: CascadeError) -> tuple[str, Fate] | None:
    """(result, fate) for a request that got no usable answer; None: the gateway refused the
    whole request (the caller records it as unsent and stops)."""
    if isinstance(exc, CascadeDuplicateRequestError):
        return "repeat", Fate.IN_FLIGHT
    if isinstance(exc, CascadeTransportError):
        return ("lost", Fate.IN_FLIGHT) if exc.may_have_sent else ("refused", Fate.UNSENT)
    if isinstance(exc, (CascadeServerError, CascadeResponseError)):
        return "lost", Fate.IN_FLIGHT
    return None


def untracked_without_id(entries: Sequence[Entry], rows: dict[int, Row]) -> dict[int, Row]:
    """Perhaps-sent recipients without a client id: untracked, never resent."""
    return {
        i: Row(Fate.UNTRACKED, None, UNTRACKED_NO_CID)
        for i, row in rows.items()
        if row.fate is Fate.IN_FLIGHT and not entries[i].cid
    }
