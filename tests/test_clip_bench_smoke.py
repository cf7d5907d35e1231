"""The clip benchmark (benchmarks/clip_bench.py) on a small tiled LAZ, so that it cannot rot:
every way runs in its own process and writes the same points, peak memory is measured, the
COPC node-capacity study runs, and its part of RESULTS.md (written by the runner) has the
verdict lines and survives a run of another part. No timing assertions."""

from __future__ import annotations

from benchmarks import __main__ as bench
from benchmarks import clip_bench


def test_clip_bench_smoke(tmp_path, monkeypatch, shared_data):
    monkeypatch.setattr(clip_bench, "CACHE", tmp_path)
    monkeypatch.setattr(clip_bench, "SOURCE", shared_data / "pointclouds" /
                        "autzen_trim.laz")
    r = clip_bench.run(200_000, 1, log=lambda *a: None, leaf_sizes=[20_000])
    assert r["points"] >= 200_000 and r["kept"] > 0
    rows = r["rows"]
    assert list(rows) == list(clip_bench.WAYS)
    for row in rows.values():
        assert row["written"] == r["kept"] and row["median"] > 0 and row["peak"] > 0
    laz, copc = rows["clip LAZ"], rows["clip COPC"]
    assert laz["points_read"] == r["points"]
    assert 0 < copc["points_read"] <= r["points"] and 0 < copc["nodes"] <= copc["nodes_total"]
    assert r["index"]["leaf"] == 100_000 and r["index"]["index_s"] > 0
    (leaf,) = r["leaf"]
    assert leaf["leaf"] == 20_000 and leaf["written"] == r["kept"]
    assert leaf["nodes_total"] > copc["nodes_total"]  # smaller nodes, more of them
    assert leaf["points_read"] < r["points"] and leaf["nodes"] < leaf["nodes_total"]
    assert clip_bench.copc_path(200_000, 20_000).exists()

    results = {"date": "2026-12-04 12:00", "command": "smoke", "reps": 1,
               "machine": {"CPU": "test"}, "clip": r}
    out = tmp_path / "RESULTS.md"
    out.write_text("# Benchmarks\n\nold text\n\n" + clip_bench.BEGIN + "\nold clip\n"
                   + clip_bench.END + "\n")
    text = bench.write_report(results, ("clip",), out)
    assert out.read_text() == text and "old text" in text and "old clip" not in text
    assert text.count(clip_bench.BEGIN) == 1 and text.count(clip_bench.END) == 1
    for line in ("- COPC clip at least 5× as fast as the whole-file read: **",
                 "- chunked LAZ clip not slower than the whole-file read: **",
                 "- chunked LAZ clip peak memory at most 25% of the whole-file read's: **",
                 "## COPC node capacity"):
        assert line in text
    # a run of other parts keeps the clip part as it was
    assert bench.write_report({k: v for k, v in results.items() if k != "clip"}, (),
                              out).strip() == text.strip()
    rest, block = clip_bench.extract(out.read_text())
    assert "old text" in rest and "Clip export" not in rest and "Clip export" in block
    assert clip_bench.merge(rest, block).count(clip_bench.BEGIN) == 1
    assert "clip" in bench.ALL
