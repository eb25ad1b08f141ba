"""Issue 14 load benches over real loopback HTTP, with tiny parameters: the JSON shape and no errors."""

from __future__ import annotations

from empathic.tooling.bench.serve import bench_leak, bench_text_load


def test_leak_bench_reports_rss_per_round_and_per_open_session():
    out = bench_leak(rounds=3, open_sessions=2)
    assert out["bench"] == "serve-leak" and out["rounds"] == 3
    assert out["errors"] == 0 and set(out["status_counts"]) <= {"200", "201", "204"}
    assert out["rss_after_round_1_mb"] > 0 and out["rss_after_last_round_mb"] > 0
    assert isinstance(out["rss_growth_pct"], float)
    for kind in ("camera_sessions", "text_sessions"):
        held = out[kind]
        assert held["sessions"] == 2 and held["rss_open_mb"] > 0 and "mb_per_session" in held


def test_text_load_bench_reports_halves_and_no_errors():
    out = bench_text_load(sessions=2, seconds=2)
    assert out["bench"] == "serve-text" and out["errors"] == 0
    assert out["turns"] == 4 and out["turn"]["n"] == 4 and out["server_cpu_ms_per_turn"] > 0
    assert out["first_half"]["n"] + out["second_half"]["n"] == 4
    assert {"p50_ms", "p95_ms", "max_ms"} <= set(out["turn"])
