"""heritage.exhibits 3D Tiles export, read back by two independent readers — py3dtiles (in
its own tool environment, ``.venv/tools/py3dtiles``, made by ``./run``) and
``@loaders.gl/3d-tiles`` under node — and processed by ``3d-tiles-tools``."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from heritage.exhibits import export
from heritage.exhibits.source import ExportCancelled, ExportError, source_from_files
from heritage.model import Annotation
from loaders.crs import as_crs, crs_to_text
from loaders.writers.tiles3d import EcefFrame
from tests.conftest import SHARED_DATA
from tests.heritage.exhibit_support import REPO, node_tool

DATA = SHARED_DATA
LAZ = DATA / "pointclouds" / "autzen_trim.laz"
CITY = DATA / "citymodels" / "delft.city.json"
PY3DTILES = REPO / ".venv" / "tools" / "py3dtiles" / "bin" / "python"
HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def points_export(tmp_path_factory):
    src = source_from_files([LAZ])
    src.annotations = [Annotation(kind="point", points=[src.origin.tolist()], title="北门")]
    out = tmp_path_factory.mktemp("t") / "scan"
    result = export(src, "3dtiles", out, leaf_points=10_000)
    return src, out, result


@pytest.fixture(scope="module")
def city_export(tmp_path_factory):
    src = source_from_files([CITY])
    out = tmp_path_factory.mktemp("t") / "city"
    result = export(src, "3dtiles", out, leaf_triangles=4000)
    return src, out, result


def _local_bounds(src):
    frame = EcefFrame(src.crs, src.origin)
    enu = frame.to_local(src.layers[0].data.xyz())
    return enu.min(axis=0), enu.max(axis=0)


def _py3dtiles(tileset: Path) -> dict:
    if not PY3DTILES.exists():
        pytest.skip("py3dtiles tool environment missing: run ./run once (it makes "
                    ".venv/tools/py3dtiles; py3dtiles pins numpy < 2.4, so it has its own)")
    proc = subprocess.run([str(PY3DTILES), str(HERE / "tiles3d_py3dtiles_read.py"),
                           str(tileset)], capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _loadersgl(tileset: Path) -> dict:
    node_tool("@loaders.gl/3d-tiles")
    proc = subprocess.run(["node", str(HERE / "tiles3d_loadersgl_read.mjs"), str(tileset)],
                          capture_output=True, text=True, timeout=300, check=False, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_points_read_back_by_py3dtiles(points_export):
    src, out, result = points_export
    cloud = src.layers[0].data
    got = _py3dtiles(out / "tileset.json")
    assert got["points"] == cloud.point_count == result.counts["points"]
    assert got["boxes_ok"]
    lo, hi = _local_bounds(src)
    np.testing.assert_allclose(got["min"], lo, atol=0.002)
    np.testing.assert_allclose(got["max"], hi, atol=0.002)
    a = cloud.attributes
    assert got["fields"]["intensity"]["sum"] == int(a["intensity"].astype(np.int64).sum())
    assert got["fields"]["classification"]["sum"] == \
        int(a["classification"].astype(np.int64).sum())
    if "rgb" in a:
        assert got["rgb_sum"] == int(a["rgb"].astype(np.int64).sum())


def test_points_read_back_by_loadersgl(points_export):
    src, out, _ = points_export
    got = _loadersgl(out / "tileset.json")
    assert got["type"] == "TILES3D" and got["lodMetricType"] == "geometricError"
    assert got["points"] == src.layers[0].data.point_count
    assert got["errors"] == []  # no child with a larger geometric error than its parent
    lo, hi = _local_bounds(src)
    np.testing.assert_allclose(got["min"], lo, atol=0.002)
    np.testing.assert_allclose(got["max"], hi, atol=0.002)
    assert {"POSITION", "_INTENSITY", "_CLASSIFICATION"} <= set(got["attributes"])
    assert got["rootTransform"] is not None


def test_city_read_back_by_both_readers_with_object_metadata(city_export):
    src, out, result = city_export
    mesh = src.layers[0].data
    lo, hi = _local_bounds(src)
    for got in (_py3dtiles(out / "tileset.json"), _loadersgl(out / "tileset.json")):
        assert got["triangles"] == mesh.triangle_count == result.counts["triangles"]
        np.testing.assert_allclose(got["min"], lo, atol=0.002)
        np.testing.assert_allclose(got["max"], hi, atol=0.002)
    lg = _loadersgl(out / "tileset.json")
    assert lg["metadataClasses"] == ["object"]
    with_geometry = len(set(mesh.face_feature[mesh.face_feature >= 0].tolist()))
    assert lg["features"] >= with_geometry  # every object with geometry has its feature id


def test_tileset_records_placement_and_annotations(points_export):
    src, out, _ = points_export
    doc = json.loads((out / "tileset.json").read_text())
    extras = doc["asset"]["extras"]
    assert extras["crs"] == crs_to_text(as_crs(src.crs))
    assert extras["annotations"][0]["title"] == "北门"
    np.testing.assert_allclose(extras["annotations"][0]["local"], [0, 0, 0], atol=1e-3)
    assert len(doc["root"]["transform"]) == 16


def test_3d_tiles_tools_processes_the_tileset(city_export, tmp_path):
    _, out, _ = city_export
    node_tool("3d-tiles-tools")
    pkg = tmp_path / "city.3tz"
    proc = subprocess.run(["npx", "--no-install", "3d-tiles-tools", "convert", "-i",
                           str(out / "tileset.json"), "-o", str(pkg)], capture_output=True,
                          text=True, timeout=300, check=False, cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    back = tmp_path / "back"
    proc = subprocess.run(["npx", "--no-install", "3d-tiles-tools", "convert", "-i", str(pkg),
                           "-o", str(back)], capture_output=True, text=True, timeout=300,
                          check=False, cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    again = sorted(p.relative_to(back).as_posix() for p in back.rglob("*") if p.is_file())
    assert files == again


def test_cancel_leaves_nothing_behind(tmp_path):
    src = source_from_files([LAZ])

    def progress(fraction, message):
        if fraction > 0.5:
            raise ExportCancelled()

    with pytest.raises(ExportCancelled):
        export(src, "3dtiles", tmp_path / "scan", progress=progress, leaf_points=5000)
    assert list(tmp_path.iterdir()) == []


def test_thinned_cloud_is_tiled_from_its_file_at_full_resolution(tmp_path):
    src = source_from_files([LAZ])
    cloud = src.layers[0].data
    full = cloud.point_count
    keep = slice(None, None, 10)  # what the memory guard leaves in the scene
    cloud.positions = cloud.positions[keep]
    cloud.attributes = {k: v[keep] for k, v in cloud.attributes.items()}
    cloud.metadata["memory_guard"] = {"kept_every": 10}
    cloud.metadata["source"] = str(LAZ)
    result = export(src, "3dtiles", tmp_path / "scan")
    assert result.counts["points"] == full
    assert any("full resolution" in m for m in result.warnings)
    shutil.rmtree(tmp_path / "scan")


def test_attributes_option_rgb_only_read_back_by_both_readers(tmp_path):
    src = source_from_files([LAZ])
    cloud = src.layers[0].data
    export(src, "3dtiles", tmp_path / "all", leaf_points=10_000)
    result = export(src, "3dtiles", tmp_path / "rgb", leaf_points=10_000, attributes=["rgb"])
    assert result.counts["points"] == cloud.point_count
    got = _py3dtiles(tmp_path / "rgb" / "tileset.json")
    assert got["points"] == cloud.point_count and got["boxes_ok"]
    assert got["fields"] == {}  # no intensity, no classification
    lo, hi = _local_bounds(src)
    np.testing.assert_allclose(got["min"], lo, atol=0.002)
    np.testing.assert_allclose(got["max"], hi, atol=0.002)
    if "rgb" in cloud.attributes:
        assert got["rgb_sum"] == int(cloud.attributes["rgb"].astype(np.int64).sum())
    lg = _loadersgl(tmp_path / "rgb" / "tileset.json")
    assert lg["points"] == cloud.point_count and lg["errors"] == []
    assert not {"_INTENSITY", "_CLASSIFICATION"} & set(lg["attributes"])

    def size(folder):
        return sum(p.stat().st_size for p in folder.rglob("*.glb"))

    # two float32 scalars (8 B) a point fewer
    assert size(tmp_path / "all") - size(tmp_path / "rgb") >= 8 * cloud.point_count


def test_unknown_point_attribute_is_an_error_and_writes_nothing(tmp_path):
    src = source_from_files([LAZ])
    with pytest.raises(ExportError, match="'normal'.*choose from rgb, intensity"):
        export(src, "3dtiles", tmp_path / "scan", attributes="rgb,normal")
    assert list(tmp_path.iterdir()) == []
