"""The change benchmark (benchmarks/change_bench.py) on a small pair, so that it cannot rot:
it runs every comparison, and its part of RESULTS.md has the verdict lines and survives
a run of another part. No timing assertions."""

from __future__ import annotations

from benchmarks import __main__ as bench
from benchmarks import change_bench


def test_change_bench_smoke(tmp_path, monkeypatch, shared_data):
    monkeypatch.setattr(change_bench, "CACHE", tmp_path)
    monkeypatch.setattr(change_bench, "SOURCE", shared_data / "pointclouds" /
                        "ahn3_cropped_2.laz")
    monkeypatch.setattr(change_bench, "M3C2_POINTS", 30_000)
    r = change_bench.run(30_000, 1, log=lambda *a: None)
    assert r["points"] == 30_000 and r["max_diff_open3d"] < 1e-6
    assert r["m3c2_same"] > 0.95
    text = change_bench.section(r, "smoke")
    assert "C2C vs open3d: **" in text and "M3C2 vs py4dgeo: **" in text
    assert "C2C vs CloudCompare:" in text
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmarks\n\nold text\n\n" + text)
    rest, block = change_bench.extract(results.read_text())
    assert block.strip() == text.strip() and "old text" in rest and "C2C" not in rest
    assert change_bench.merge(rest, block).count(change_bench.BEGIN) == 1
    assert "change" in bench.ALL
