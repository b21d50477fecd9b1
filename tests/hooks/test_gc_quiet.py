"""Long sends keep the garbage collector off the objects that existed before them, and give
the process back as they found it."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from airflow_provider_cascade.clients._gc import older_objects_frozen


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_objects_from_before_are_frozen_inside_and_thawed_after(unfrozen: None) -> None:
    before = [object() for _ in range(3)]
    with older_objects_frozen():
        assert gc.get_freeze_count() > 0
        made_inside: list[object] = []
        made_inside.append(made_inside)  # a cycle made inside is still collectable
        assert gc.is_tracked(made_inside)
    assert gc.get_freeze_count() == 0 and before


def test_someone_elses_freeze_is_left_alone(unfrozen: None) -> None:
    gc.freeze()
    frozen = gc.get_freeze_count()
    with older_objects_frozen():
        pass
    assert gc.get_freeze_count() == frozen


def test_a_blocking_send_runs_frozen_and_thaws_after_a_failure(unfrozen: None) -> None:
    from airflow_provider_cascade.clients.sync import CascadeClient
    from airflow_provider_cascade.gateway import SMS, CascadeError, LoginPassword, Message, Variant
    from airflow_provider_cascade.gateway.codec import CodecSettings, make_codec

    seen: list[int] = []

    class Client(CascadeClient):
        def send_batch(self, batch, on_sent=None):  # type: ignore[no-untyped-def]
            seen.append(gc.get_freeze_count())
            raise CascadeError("refused")

    codec = make_codec(Variant.JSON, CodecSettings("http://127.0.0.1:9", LoginPassword("u", "p")))
    with pytest.raises(CascadeError):
        Client(codec).send([Message([SMS("Hi", "S")], ["79000000001"])])
    assert seen and seen[0] > 0 and gc.get_freeze_count() == 0
