"""Figures for docs/reliability.md, counted while the suite runs and printed at its end."""

from __future__ import annotations

from collections import Counter

import pytest

FIGURES: Counter[str] = Counter()


@pytest.fixture
def figures() -> Counter[str]:
    return FIGURES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.write_line(
            "reliability figures: " + ", ".join(f"{k}={v}" for k, v in sorted(FIGURES.items()))
        )
