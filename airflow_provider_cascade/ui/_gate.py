"""Whether the campaigns UI is on: Airflow 3.1+ (3.0 has no UI plugins) and not turned off
with ``[cascade] campaigns_ui = False``. Plain Python: workers import it through the link."""

from __future__ import annotations

import re

URL_PREFIX = "/cascade"


def ui_available(version: str | None = None) -> bool:
    """Airflow 3.1+ shows plugin pages; on 3.0 the plugin adds nothing."""
    if version is None:
        import airflow

        version = str(airflow.__version__)
    major, minor = (int(part) for part in re.findall(r"\d+", version)[:2])
    return (major, minor) >= (3, 1)


def plugin_entry_point_installed() -> bool:
    """Whether this package's ``airflow.plugins`` entry point is installed (Airflow loads the
    plugin from it)."""
    from importlib.metadata import entry_points

    return any(ep.value.startswith("airflow_provider_cascade.ui.plugin")
               for ep in entry_points(group="airflow.plugins"))  # fmt: skip


def ui_enabled() -> bool:
    from airflow.configuration import conf

    return ui_available() and conf.getboolean("cascade", "campaigns_ui", fallback=True)


def ui_base() -> str:
    """The path Airflow's UI is served under (``[api] base_url``), for links into it."""
    from urllib.parse import urlsplit

    from airflow.configuration import conf

    base = conf.get("api", "base_url", fallback="/") or "/"
    return (urlsplit(base).path if "://" in base else base).rstrip("/")
