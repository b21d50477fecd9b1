"""What Airflow reads about this provider, the connection form included (3.2+ UIs render
``conn-fields`` and ``ui-field-behaviour`` without importing the hook)."""

from __future__ import annotations

from typing import Any

from .gateway import defaults

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema"],
    "relabeling": {
        "host": "Gateway URL",
        "login": "Login",
        "password": "Password",
        "port": "Port",
    },
    "placeholders": {
        "host": "https://gateway.example/api (scheme and path prefix allowed; https if omitted)",
        "login": "account login (leave empty when using a token)",
        "password": "account password (leave empty when using a token)",
        "port": "443",
    },
}

CONN_FIELDS: dict[str, Any] = {
    "token": {
        "label": "Bearer token",
        "description": "From the gateway cabinet; when set, login and password are not sent.",
        "schema": {"type": ["string", "null"], "format": "password"},
    },
    "protocol": {
        "label": "Protocol variant",
        "description": "json (default; the only one with recipient bases), xml or get.",
        "schema": {"type": ["string", "null"], "enum": ["json", "xml", "get"], "default": "json"},
    },
    "timezone": {
        "label": "Time zone for time_send",
        "description": "IANA name; aware datetimes are converted to it.",
        "schema": {"type": ["string", "null"], "default": defaults.TIMEZONE},
    },
    "timeout": {
        "label": "Read timeout (seconds)",
        # whole seconds: Airflow 3.0/3.1 forms have integer fields, not decimal ones
        "schema": {"type": ["integer", "null"], "default": int(defaults.READ_TIMEOUT)},
    },
    "verify": {
        "label": "Verify TLS certificates",
        "schema": {"type": ["boolean", "null"], "default": True},
    },
    "max_recipients": {
        "label": "Recipients per send request (JSON/XML)",
        "schema": {"type": ["integer", "null"], "default": defaults.MAX_RECIPIENTS},
    },
    "max_state_ids": {
        "label": "Message ids per status request (JSON/XML)",
        "schema": {"type": ["integer", "null"], "default": defaults.MAX_STATE_IDS},
    },
}


INTEGRATION = "Cascade"
PLUGIN_CLASS = "airflow_provider_cascade.ui.plugin.CascadePlugin"


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-cascade",
        "name": "Cascade",
        "description": "Send Viber, WhatsApp, VK and SMS cascades through the Cascade gateway.",
        "versions": ["0.1.0"],
        "connection-types": [
            {
                "connection-type": "cascade",
                "hook-class-name": "airflow_provider_cascade.hooks.cascade.CascadeHook",
                "hook-name": "Cascade",
                "conn-fields": CONN_FIELDS,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
            }
        ],
        "integrations": [
            {
                "integration-name": INTEGRATION,
                "tags": ["service"],
            }
        ],
        "hooks": [_modules("hooks")],
        "operators": [_modules("operators")],
        "sensors": [_modules("sensors")],
        "triggers": [_modules("triggers")],
        "notifications": ["airflow_provider_cascade.notifications.cascade.CascadeNotifier"],
        "extra-links": ["airflow_provider_cascade.ui.links.CascadeCampaignLink"],
        **_plugins(),
    }


def _plugins() -> dict[str, Any]:
    """The campaigns UI plugin, on Airflow 3.1+ (3.0 has no UI plugins). Airflow loads it from
    the package's ``airflow.plugins`` entry point; a provider-info listing is read only with
    ``[core] lazy_discover_providers = False``, and beside the entry point it would load the
    plugin twice (an import error "already registered"), so it is listed only for an install
    without the entry point."""
    from .ui._gate import plugin_entry_point_installed, ui_available

    if not ui_available() or plugin_entry_point_installed():
        return {}
    return {"plugins": [{"name": "cascade", "plugin-class": PLUGIN_CLASS}]}


def _modules(kind: str) -> dict[str, Any]:
    """Modules are named after the integration (``hooks/cascade.py`` ...)."""
    return {
        "integration-name": INTEGRATION,
        "python-modules": [f"airflow_provider_cascade.{kind}.cascade"],
    }
