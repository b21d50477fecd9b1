"""The mutation run (``python -m tests.mutants``) is on demand; this keeps its list from
rotting silently: every mutant's text still occurs exactly once in the current source, its
tests exist, and the list still covers every layer."""

from __future__ import annotations

import os

import hypothesis

from tests.mutants import MUTANTS, ROOT, problems

LAYERS = ("gateway/", "clients/", "hooks/", "waiting.py", "ledger/", "operators/", "sensors/",
          "triggers/", "notifications/", "testing/emulator/")  # fmt: skip


def test_every_mutant_still_applies_to_the_source() -> None:
    assert problems() == []


def test_every_mutant_changes_its_file_and_names_fast_tests_only() -> None:
    for mu in MUTANTS:
        src = (ROOT / mu.file).read_text(encoding="utf-8")
        assert mu.apply(src) != src, mu.name
        for test in mu.tests:
            assert "test_kill9" not in test and not test.startswith("tests/stack"), mu.name


def test_the_mutants_cover_every_layer() -> None:
    for layer in LAYERS:
        assert sum(layer in mu.file for mu in MUTANTS) >= 1, layer
    assert len(MUTANTS) >= 40


def test_hypothesis_is_derandomised_for_the_whole_suite() -> None:
    explore = os.environ.get("HYPOTHESIS_PROFILE") == "explore"  # random runs, on purpose
    assert hypothesis.settings().derandomize or explore
