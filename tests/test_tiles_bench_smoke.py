"""The tiles benchmark (benchmarks/tiles_bench.py) on a small OSGB pyramid, so that it
cannot rot: the pyramid is built by the OSGB test builder from the real Delft mesh, its
full-detail tiles merged into one GLB and exported as 3D Tiles; every way opens in its own
process and draws; the window part streams with zoom steps under Xvfb; the runner writes
its part of RESULTS.md with the verdict lines and keeps it through a run of another part.
No timing assertions."""

from __future__ import annotations

import os

import pytest

from benchmarks import __main__ as bench
from benchmarks import tiles_bench


@pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="the window part needs Xvfb")
def test_tiles_bench_smoke(tmp_path, shared_data):
    pytest.importorskip("tests.loaders.osgb_support")
    assert tiles_bench.SOURCE.is_file() and all(p.exists() for p in tiles_bench.WARM.values())
    r = tiles_bench.run(tmp_path, 1, log=lambda *a: None, osgb_tiles=16,
                        views=("close",), stall=True, stall_steps=2,
                        stall_ways=(tiles_bench.WAYS[1],))
    d = r["data"]
    assert d["osgb"]["files"] == 20 and d["osgb"]["build_s"] > 0  # 2 x 2 tops, 2 levels
    # the merged mesh and the 3D Tiles hold the same full-detail triangles
    assert d["merged"]["triangles"] > 0
    assert d["tiles3d"]["triangles"] == d["merged"]["triangles"]
    assert (tmp_path / "tiles" / "osgb_16_merged.glb").is_file()
    # the merged mesh is made like the builder makes the pyramid: the OSGB reader's
    # full-detail tiles hold the same triangles
    import loaders

    ts = loaders.read(str(tmp_path / "tiles" / "osgb_16"))
    try:
        leaves = tiles_bench.full_detail(ts, log=lambda *a: None)
    finally:
        ts.close()
    assert sum(m.triangle_count for m in leaves) == d["merged"]["triangles"]
    rows = r["views"]["close"]
    assert list(rows) == list(tiles_bench.WAYS)
    for way, row in rows.items():
        assert "error" not in row, (way, row)
        assert row["first_median"] > 0 and row["peak"] > 0 and row["pixels"] > 0
        assert row["triangles"] > 0 and row["tiles"] >= 1
    assert rows[tiles_bench.WAYS[0]]["triangles"] == d["merged"]["triangles"]
    for way in tiles_bench.WAYS[1:]:
        assert rows[way]["tiles_loaded"] >= rows[way]["tiles"] >= 1
        assert rows[way]["triangles"] <= d["merged"]["triangles"] * 1.01
    (stall,) = r["stall"].values()
    assert "error" not in stall, stall
    assert stall["ticks"] > 10 and stall["first_tiles_s"] is not None
    assert stall["max_gap_ms"] >= stall["p95_gap_ms"] > 0
    assert stall["end"]["tiles"] >= 1

    # rebuilt only when missing
    again = tiles_bench.ensure_data(tmp_path / "tiles", 16, log=lambda *a: None)
    assert again["osgb"]["build_s"] == d["osgb"]["build_s"]

    results = {"date": "2026-12-04 12:00", "command": "smoke", "reps": 1,
               "machine": {"CPU": "test"}, "tiles": r}
    out = tmp_path / "RESULTS.md"
    out.write_text("# Benchmarks\n\nold text\n\n" + tiles_bench.BEGIN + "\nold tiles\n"
                   + tiles_bench.END + "\n")
    text = bench.write_report(results, ("tiles",), out)
    assert out.read_text() == text and "old text" in text and "old tiles" not in text
    assert text.count(tiles_bench.BEGIN) == 1 and text.count(tiles_bench.END) == 1
    # (the smoke run views a close-up: reported beside the targets, which are the
    # overview's; see tiles_bench's docstring)
    for line in ("- close, OSGB pyramid (reported, not a target): first view ",
                 "- close, 3D Tiles (reported, not a target): first view ",
                 "x the merged mesh); peak memory ",
                 "- window stall, OSGB pyramid: longest gap < 100 ms: **",
                 "## Window stalls while tiles stream"):
        assert line in text
    # a run of other parts keeps the tiles part as it was
    assert bench.write_report({k: v for k, v in results.items() if k != "tiles"}, (),
                              out).strip() == text.strip()
    assert "tiles" in bench.ALL
