"""CI runs the benchmarks at small sizes: that they run and measure what they claim, not
how fast (timings on a shared CI machine prove nothing)."""

from __future__ import annotations

import re

from benchmarks import campaign_scale, emulator_throughput, run


def test_emulator_throughput_runs() -> None:
    result = emulator_throughput.main(["--recipients", "20", "--rounds", "2"])
    assert result["recipients_per_request"] == 20
    assert result["send_median_s"] > 0 and result["recipients_per_s"] > 0


def test_all_benchmarks_run_small() -> None:
    rows = {r["benchmark"]: r for r in run.main(["--small"])}
    names = " ".join(rows)
    for part in ("bulk send", "ledger send", "codec", "status poll", "triggers", "GET per phone"):
        assert part in names
    # each send row posted as many requests as its floor did (2,000 recipients, 1,000 each)
    for name in (
        "bulk send 2,000 recipients (JSON)",
        "ledger send 2,000 recipients from a CSV (JSON)",
    ):
        note = rows[name]["note"]
        assert re.search(r"\b2 requests\b", note), rows[name]
        # the ratio is the median of the back-to-back pairs' provider/floor, so it lies
        # within the pairs' spread the note gives
        spread = re.search(r"median of 2 back-to-back pairs \(pairs ([\d.]+)-([\d.]+)\)", note)
        assert spread, note
        low, high = float(spread[1]), float(spread[2])
        assert low - 0.006 <= rows[name]["ratio"] <= high + 0.006
        assert rows[name]["value"] > 0 and rows[name]["baseline"] > 0


def test_campaign_at_scale_measures_a_real_dag_run() -> None:
    """Two sizes as real DAG runs: every phone accepted once and final (``check`` in the
    benchmark), the sensor deferred, and what XCom and the trigger tables hold does not grow
    with the campaign."""
    small, large = campaign_scale.main(["--sizes", "40,1200", "--time-scale", "3600"])
    assert (small["recipients"], large["recipients"]) == (40, 1200)
    for r in (small, large):
        assert r["deferred"], r  # the trigger ran: its row and event were measured
        detail = r["db_bytes_detail"]
        trigger_rows = [k for k in detail if k.startswith("trigger row ")]
        assert trigger_rows and detail["trigger event wait"] > 50, detail
        assert {
            "xcom send return_value",
            "xcom wait price_totals",
            "xcom wait state_counts",
        } <= set(detail)
        assert r["db_bytes"] < campaign_scale.DB_TARGET_BYTES
        assert (
            r["requests"] >= r["recipients"] // 1000 + 1
        )  # sends and status queries reached the emulator
    # 30x the recipients, about the same bytes (ids and states live in the ledger, not XCom)
    assert abs(large["db_bytes"] - small["db_bytes"]) < 200, (small["db_bytes"], large["db_bytes"])
    assert large["ledger_mib"] > small["ledger_mib"]


def test_report_memory_measures_each_format() -> None:
    from benchmarks import report_memory

    rows = report_memory.main(["--sizes", "2000", "--formats", "csv,parquet"])
    assert [(r["recipients"], r["format"], r["rows"]) for r in rows] == [
        (2000, "csv", 2000), (2000, "parquet", 2000)
    ]  # fmt: skip
    assert all(r["bytes"] > 0 and r["peak_over_mib"] >= 0 for r in rows)


def test_campaign_with_cost_and_timing_steps_runs_small() -> None:
    """The cost row: a suppression file (a tenth of the recipients in it), five zones and a
    send window; the run is checked like the others, with the suppressed left out."""
    base, cost = campaign_scale.main(["--sizes", "40", "--cost", "600", "--time-scale", "3600"])
    assert (base["recipients"], base["cost"]) == (40, False)
    assert (cost["recipients"], cost["cost"], cost["suppressed"]) == (600, True, 60)
    assert cost["db_bytes"] < campaign_scale.DB_TARGET_BYTES
