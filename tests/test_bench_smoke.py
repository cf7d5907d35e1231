"""The benchmark harness on a tiny generated cloud, so that it cannot rot.

No timing assertions: only that every measurement runs and the report has every section.
The real runs are `./run bench` (benchmarks/RESULTS.md).
"""

from __future__ import annotations

import os

import pytest

from benchmarks import __main__ as bench
from benchmarks import harness, synthetic

N = 40_000


@pytest.mark.gui
@pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="the UI-stall run needs a display")
def test_harness_smoke(qapp, tmp_path):
    results = bench.run([N], reps=1, data_dir=tmp_path, log=lambda *a: None,
                        command="smoke")
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
