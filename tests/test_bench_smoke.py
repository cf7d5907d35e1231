"""The benchmark harness on a tiny generated cloud, so that it cannot rot.

No timing assertions: only that every measurement runs and the report has every section.
The real runs are `./run bench` (benchmarks/RESULTS.md).
"""

from __future__ import annotations

import pytest

from benchmarks import __main__ as bench
from benchmarks import harness, synthetic

N = 40_000


@pytest.mark.gui  # the UI-stall run needs a display
def test_harness_smoke(qapp, tmp_path):
    # the point-cloud parts (the others have smoke tests of their own, at small sizes:
    # run with every part, this one ran them at their full sizes, minutes of the suite)
    results = bench.run([N], reps=1, data_dir=tmp_path, only=bench.POINT_CLOUDS,
                        log=lambda *a: None, command="smoke")
    assert synthetic.path_for(N, True, tmp_path).exists()
    assert set(results) >= {"machine", "ttff", "ingest", "memory", "frame", "stall"}
    assert results["memory"]["points"] == N
    assert results["stall"]["points"] == N and not results["stall"]["errors"]
    text = harness.report(results, tmp_path / "RESULTS.md")
    assert (tmp_path / "RESULTS.md").read_text() == text
    for heading in ("## Summary (targets)", "## Machine", "## 1. Time to first frame",
                    "## 2. Full ingest", "## 3. Resident bytes", "## 4. Frame time",
                    "## 5. Longest UI event-loop stall"):
        assert heading in text
    summary = text.split("## Summary (targets)")[1].split("## Machine")[0]
    for i in range(1, 6):
        assert f"- {i}. " in summary
    assert "GL renderer" in text and "laspy" in text


def test_generator_is_deterministic(tmp_path):
    a = synthetic.write(20_000, tmp_path / "a.las", compressed=False)
    b = synthetic.write(20_000, tmp_path / "b.las", compressed=False)
    assert a.read_bytes()[227:] == b.read_bytes()[227:]  # past the header's dates
    layout = synthetic.Layout(300_000)
    cols = synthetic.block(layout, 0, 300_000)
    assert set(cols["classification"].tolist()) >= {2, 5, 6}


@pytest.mark.gui
def test_city_and_bim_benchmarks_smoke(qapp, tmp_path, shared_data):
    """The city/BIM part of ./run bench on one small real file of each kind and a small
    synthetic city; a run of that part keeps the point-cloud part of RESULTS.md."""
    import shutil

    from benchmarks import citymodels

    shared = tmp_path / "shared"
    (shared / "citymodels").mkdir(parents=True)
    (shared / "bim").mkdir()
    shutil.copy(shared_data / "citymodels" / "DH_01_subs.city.json", shared / "citymodels")
    shutil.copy(shared_data / "bim" / "AC20-FZK-Haus.ifc", shared / "bim")
    results = citymodels.run(1, tmp_path / "data", ("city", "ifc", "cityframe"),
                             log=lambda *a: None, shared=shared, buildings=60)
    assert [r["file"] for r in results["city"]] == ["DH_01_subs.city.json",
                                                    "synthetic_city_60.city.json"]
    assert results["city"][1]["objects"] >= 60 and results["ifc"][0]["elements"] > 50
    frame = results["cityframe"]
    assert frame["actors"] >= 1 and frame["pick_hit"] and frame["ours_s"]["min"] > 0
    out = tmp_path / "RESULTS.md"
    out.write_text("# point clouds\n\nhand-written notes\n")
    results = {"machine": {"cpu": "test"}, "date": "today", "command": "smoke", "reps": 1,
               "citymodels": results}
    text = bench.write_report(results, ("city", "ifc", "cityframe"), out)
    assert text.startswith("# point clouds\n\nhand-written notes\n")
    for heading in ("# City models and BIM", "## Summary (targets)", "## 6. CityJSON",
                    "## 7. IFC", "## 8. A city of"):
        assert heading in text
    # running the city part again replaces it, once
    text = bench.write_report(results, ("city",), out)
    assert text.count(citymodels.MARKER) == 1 and "hand-written notes" in text


def test_index_benchmark_smoke(tmp_path):
    from benchmarks import index_bench

    result = index_bench.run(tmp_path, reps=1, sizes=(20_000, 60_000), log=lambda *a: None)
    rows = result["rows"]
    assert [r["points"] for r in rows] == [20_000, 60_000]
    assert all("error" not in r and r["peak"] > 0 and r["out_bytes"] > 0 for r in rows)
    text = index_bench.section(result, "header")
    assert "marginal peak" in text and "20,000" in text and "60,000" in text
