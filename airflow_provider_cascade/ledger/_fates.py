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

What one answer says of each recipient of its request (``answer_row``). A client id is the
provider's own when it is the one derived for this person in this run; any other came with the
input and may have been used by anyone's earlier send:

    the answer has no row for the recipient          in_flight (resend, same client id)
    "already sent", the provider's own client id     accepted under the id given back (it
                                                       can only be this person's), else
                                                       untracked (sent, cannot be polled)
    "already sent", a given client id, on the        rejected: the id was used by an earlier
      batch's first request in this ledger             send; nobody was messaged now
    "already sent", a given client id, on a resend   untracked: this send's lost copy or an
                                                       earlier send's; its id is not taken
    a row with an id_message, whatever its text      accepted (polled; the text kept as a note)
    a channel id but no id_message                   untracked (perhaps sent and billed on
                                                       that channel; nothing to poll)
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
UNTRACKED_GIVEN_ID = (
    "the gateway already had this client_id_message: this send's lost copy, or an earlier "
    "send's; the id it gave back is not taken as this recipient's"
)
ID_USED_EARLIER = (
    "client_id_message already used by an earlier send: the gateway did not message this "
    "recipient now (give each send its own client ids, or let the provider derive them)"
)
NO_ROW = "the answer has no row for this recipient"
CHANNEL_ID_ONLY = "the gateway gave a channel id but no id_message: perhaps sent, cannot be polled"
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


def answer_row(answer: SendResult | None, first: bool, own_id: bool) -> Row:
    """What an answer's row says of its recipient (the second table above). ``first``: the
    batch's first request in this ledger; ``own_id``: the provider derived the client id."""
    if answer is None or answer.answer_missing:
        return Row(Fate.IN_FLIGHT, None, NO_ROW)
    if answer.already_sent:
        if own_id and answer.id_message:
            return Row(Fate.ACCEPTED, answer.id_message, None, already=True)
        if own_id:
            return Row(Fate.UNTRACKED, None, UNTRACKED_NO_ID, already=True)
        if first:
            return Row(Fate.REJECTED, None, ID_USED_EARLIER, already=True)
        return Row(Fate.UNTRACKED, None, UNTRACKED_GIVEN_ID, already=True)
    if answer.id_message:
        return Row(Fate.ACCEPTED, answer.id_message, answer.error)
    if answer.channel_ids:
        return Row(
            Fate.UNTRACKED, None, CHANNEL_ID_ONLY + (f": {answer.error}" if answer.error else "")
        )
    return Row(Fate.REJECTED, None, answer.error or "refused without an error text")


def answer_rows(
    entries: Sequence[Entry],
    sent: Sequence[int],
    answers: Sequence[SendResult],
    first: bool,
    own_id: Callable[[Entry], bool],
) -> dict[int, Row]:
    """Rows for the recipients ``sent`` (entry indexes, request order) from the codec's
    results (one per recipient in request order; a stored base gets the rows of its phones)."""
    rows: dict[int, Row] = {}
    queue = deque(answers)
    for i in sent:
        entry = entries[i]
        if entry.base is None:
            answer = queue.popleft() if queue else None
            own = answer is not None and answer.already_sent and own_id(entry)
            rows[i] = answer_row(answer, first, own)
            continue
        base = entry.base
        mine = [a for a in queue if a.base is not None and str(a.base) == base]
        queue = deque(a for a in queue if not (a.base is not None and str(a.base) == base))
        found = [(a.phone, answer_row(a, first, False)) for a in mine if a.phone is not None]
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
