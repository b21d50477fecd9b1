"""Alert on-call people through the cascade from a DAG or task callback."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.providers.common.compat.sdk import BaseNotifier

from ..gateway import Variant, summarize_send
from ..hooks.cascade import CascadeHook
from ..operators._build import build_messages, with_client_ids


class CascadeNotifier(BaseNotifier):
    """``on_failure_callback=CascadeNotifier(phones=[...], channels=["viber", "sms"],
    text="{{ dag.dag_id }} failed", sender="Alerts")``.

    ``channels`` are names in cascade order (the text goes to each) or full channel dicts.
    A callback fired again for the same task try is refused by the gateway as a duplicate.

    Also a deadline-alert callback (Airflow 3.1+), run in the triggerer through
    ``async_notify``: ``DeadlineAlert(reference=DeadlineReference.FIXED_DATETIME(...),
    interval=timedelta(0), callback=AsyncCallback(CascadeNotifier, kwargs={"phones": [...],
    "text": "campaign not final by 18:00"}))``.

    :param phones: who is alerted: a list, a comma string, or dicts with ``phone``.
    :param text: the alert text (also VK's ``template_data["text"]``).
    :param channels: channel names in cascade order (``viber``, ``whatsapp``, ``vk``,
        ``sms``), or full channel dicts as the send operator takes them.
    :param sender: the sender name for Viber and SMS.
    :param template_id: the VK template's id; required when ``channels`` has ``vk``.
    :param cascade_conn_id: the ``cascade`` connection.
    :param context: the context an awaited notifier (a deadline alert) renders and alerts
        with; callbacks pass theirs when they call it.
    """

    template_fields: Sequence[str] = ("phones", "text", "channels", "sender")

    def __init__(
        self,
        *,
        phones: Any,
        text: str,
        channels: Sequence[Any] = ("sms",),
        sender: str = "Airflow",
        template_id: str | int | None = None,
        cascade_conn_id: str = CascadeHook.default_conn_name,
        context: Any = None,
    ) -> None:
        super().__init__(context)
        self.phones = phones
        self.text = text
        self.channels = channels
        self.sender = sender
        self.template_id = template_id
        self.cascade_conn_id = cascade_conn_id

    def _channels(self) -> list[Any]:
        out: list[Any] = []
        for item in self.channels:
            if not isinstance(item, str):
                out.append(item)
            elif item == "vk":
                out.append({"channel": "vk", "template_id": self.template_id,
                            "template_data": {"text": self.text}})  # fmt: skip
            elif item == "whatsapp":
                out.append({"channel": item, "text": self.text})
            else:
                out.append({"channel": item, "text": self.text, "sender": self.sender})
        return out

    def _messages(self, context: Any, variant: Variant) -> list[Any]:
        messages = build_messages(messages=None, channels=self._channels(), phones=self.phones)
        if variant is Variant.GET:
            return messages
        return with_client_ids(messages, _alert_key(context or {}))

    def notify(self, context: Any) -> None:
        hook = CascadeHook(self.cascade_conn_id)
        results = hook.send(self._messages(context, hook.settings.variant))
        self.log.info("Cascade alert: %s", summarize_send(results).line())

    async def async_notify(self, context: Any) -> None:
        """The same alert from the triggerer (deadline alerts), without blocking its loop."""
        hook = CascadeHook(self.cascade_conn_id)
        client = await hook.aget_client()
        try:
            results = await client.send(self._messages(context, client.codec.variant))
        finally:
            await client.aclose()
        self.log.info("Cascade alert: %s", summarize_send(results).line())


def _alert_key(context: Any) -> tuple[Any, ...]:
    """One alert per task try (task callbacks) or per DAG run and deadline (deadline alerts,
    whose context has no task instance): a repeat is refused by the gateway."""
    ti = context.get("ti")
    if ti is not None:
        return (
            "notifier",
            getattr(ti, "dag_id", None),
            getattr(ti, "run_id", None),
            getattr(ti, "task_id", None),
            getattr(ti, "map_index", -1),
            getattr(ti, "try_number", None),
        )
    run = context.get("dag_run")

    def get(key: str) -> Any:
        return run.get(key) if isinstance(run, dict) else getattr(run, key, None)

    deadline = context.get("deadline")
    return ("notifier-deadline", get("dag_id"), get("run_id"), str(deadline or ""))
