"""CI runs the benchmarks on a small N: that they run, not how fast."""

from __future__ import annotations

from benchmarks import emulator_throughput, run


def test_emulator_throughput_runs() -> None:
    result = emulator_throughput.main(["--recipients", "20", "--rounds", "2"])
    assert result["recipients_per_request"] == 20
    assert result["send_median_s"] > 0 and result["recipients_per_s"] > 0


def test_all_benchmarks_run_small() -> None:
    rows = run.main(["--small"])
    names = " ".join(r["benchmark"] for r in rows)
    for part in ("bulk send", "codec", "status poll", "triggers", "GET per phone"):
        assert part in names
    assert all(r["value"] > 0 for r in rows if "lag" not in r["benchmark"])
