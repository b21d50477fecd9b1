"""The campaign ledger: the one durable record of a send, in Airflow object storage.

Every request is announced (recipients, client ids) before it leaves and its answer recorded
after, as JSON Lines, one object per record. Any try of the same task instance reads it first:
acknowledged recipients are never sent again, unanswered ones are resent under the same client
ids after the gateway's repeat window, and ones that cannot be resent safely are named
untracked. The sensor reads the ids from it and writes states and prices beside it.
"""

from __future__ import annotations

from ._client_ids import stable_client_id
from ._errors import (
    CascadeLedgerDamaged,
    CascadeLedgerError,
    CascadeLedgerMismatch,
    CascadeSendStopped,
    CascadeSuperseded,
    LedgerInputChanged,
)
from ._records import FORMAT, VERSION, Fate
from ._send import LedgerSender, Totals
from ._shards import split_recipients_file
from ._sources import (
    Plan,
    check_not_past,
    count_lines,
    count_plain_phones,
    read_messages,
    read_recipients,
    recipient_items,
)
from ._store import (
    REF_KEY,
    Ledger,
    LedgerStorageUnavailable,
    default_root,
    storage_path,
    task_folder,
)
from ._wait import LedgerWatch, Progress, is_reference

__all__ = [
    "FORMAT",
    "REF_KEY",
    "VERSION",
    "CascadeLedgerDamaged",
    "CascadeLedgerError",
    "CascadeLedgerMismatch",
    "CascadeSendStopped",
    "CascadeSuperseded",
    "Fate",
    "Ledger",
    "LedgerInputChanged",
    "LedgerSender",
    "LedgerStorageUnavailable",
    "LedgerWatch",
    "Plan",
    "Progress",
    "Totals",
    "check_not_past",
    "count_lines",
    "count_plain_phones",
    "default_root",
    "is_reference",
    "read_messages",
    "read_recipients",
    "recipient_items",
    "split_recipients_file",
    "stable_client_id",
    "storage_path",
    "task_folder",
]
