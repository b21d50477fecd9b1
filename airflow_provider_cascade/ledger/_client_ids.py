"""Client ids: the same number for the same task instance and recipient on every try, so the
gateway itself refuses a second copy («повторная отправка не производится»)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from ..gateway.defaults import MAX_CLIENT_ID


def stable_client_id(*parts: object) -> str:
    """A number in 1..2^63-1 derived from ``parts`` (run key, message, phone, repeat)."""
    *prefix, phone, nth = parts
    return client_id_maker(*prefix)(str(phone), int(str(nth)))


def client_id_maker(*prefix: object) -> Callable[[str, int], str]:
    """``stable_client_id(*prefix, phone, nth)`` as a function of ``(phone, nth)``: the
    prefix is hashed once, which matters at a million recipients (the same ids, faster)."""
    head = hashlib.sha256(("\x1f".join(str(p) for p in prefix) + "\x1f").encode())

    def make(phone: str, nth: int) -> str:
        h = head.copy()
        h.update(f"{phone}\x1f{nth}".encode())
        return str(int.from_bytes(h.digest()[:8], "big") & MAX_CLIENT_ID or 1)

    return make


def is_derived(run_key: tuple[object, ...], message: int, phone: str | None, cid: str) -> bool:
    """Whether ``cid`` is the id this provider derives for the first listing of ``phone`` in
    message ``message`` of the run ``run_key``: then an earlier copy under it went to this
    very person (a try whose ledger was elsewhere), never to someone else."""
    return phone is not None and cid == stable_client_id(*run_key, message, phone, 0)
