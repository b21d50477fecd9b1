"""What can go wrong with a ledger, typed: each names the ledger (credentials removed) and,
where there is one, the file, so a platform team can find it."""

from __future__ import annotations

from ..gateway import CascadeError
from ..gateway._wire import redact_url


class CascadeLedgerError(CascadeError):
    """The ledger could not be read or written (disk full, permissions, the store down)."""

    def __init__(self, ledger: str, what: str, file: str | None = None) -> None:
        self.ledger = redact_url(ledger)
        self.what = what
        self.file = file
        where = f"{self.ledger}/{file}" if file else self.ledger
        super().__init__(f"ledger {where}: {what}")


class CascadeLedgerDamaged(CascadeLedgerError):
    """A record holds what this version never writes: nothing is guessed from it."""


class CascadeLedgerMismatch(CascadeLedgerError):
    """The folder belongs to another task instance, or to another ledger format."""


class CascadeSuperseded(CascadeLedgerError):
    """A newer try of this task instance owns the ledger: this one sends nothing more."""


class CascadeSendStopped(CascadeLedgerError):
    """Airflow asked the task to stop (``on_kill``): no further request left."""


class LedgerInputChanged(CascadeError):
    """A resumed try planned a batch unlike the one its earlier try recorded."""
