"""The Campaigns list benchmark runs at smoke size and measures what it names (timings on a
shared machine prove nothing: the figures are in docs/performance.md)."""

from __future__ import annotations

from benchmarks import campaigns_list


def test_the_campaigns_list_benchmark_runs_small() -> None:
    rows = campaigns_list.main(["--campaigns", "5"])
    assert [r["benchmark"].rsplit("(", 1)[1] for r in rows] == ["file://)", "s3:// via moto)"]
    assert all("5 campaigns of 1,000,000 recipients" in r["benchmark"] for r in rows)
    assert all(r["value"] > 0 for r in rows)
