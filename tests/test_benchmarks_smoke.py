"""CI runs the benchmarks on a small N: that they run, not how fast."""

from __future__ import annotations

from benchmarks import emulator_throughput


def test_emulator_throughput_runs() -> None:
    result = emulator_throughput.main(["--recipients", "20", "--rounds", "2"])
    assert result["recipients_per_request"] == 20
    assert result["send_median_s"] > 0 and result["recipients_per_s"] > 0
