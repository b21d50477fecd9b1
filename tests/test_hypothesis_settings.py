"""Property tests draw the same examples on every run (the suite's Hypothesis profile), so a
failure reproduces and the suite never passes by luck."""

from __future__ import annotations

import os

import hypothesis


def test_hypothesis_is_derandomised_for_the_whole_suite() -> None:
    explore = os.environ.get("HYPOTHESIS_PROFILE") == "explore"  # random runs, on purpose
    assert hypothesis.settings().derandomize or explore
