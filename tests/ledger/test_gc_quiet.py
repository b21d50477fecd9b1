"""Ledger sends keep the garbage collector off the objects that existed before them, and give
the process back as they found it."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from airflow_provider_cascade.ledger._gc import older_objects_frozen


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
