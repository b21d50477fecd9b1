"""The one way a moved module says so: old import paths keep working, with a warning."""

from __future__ import annotations

import warnings


def moved(old: str, new: str) -> None:
    """Warn that module ``old`` now lives at ``new`` (modules are named after the integration,
    as in Airflow's own providers); called from the old module's body."""
    warnings.warn(f"{old} is deprecated; import from {new}", DeprecationWarning, stacklevel=2)
