"""IFC files from strangers (issue 13): georeferencing whatever the exporter put in the map
conversion's Scale, truncated and geometry-less files, crafted files that crash
ifcopenshell's native code, and native output on stdout.

Every hostile or odd file is built here, with ifcopenshell's own API or by cutting the real
models of ../shared/data/bim. Expected positions come from the map conversion's numbers
and the wall's known size, never from the reader under test.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import ifcopenshell
import ifcopenshell.api.aggregate
import ifcopenshell.api.context
import ifcopenshell.api.geometry
import ifcopenshell.api.project
import ifcopenshell.api.root
import ifcopenshell.api.spatial
import ifcopenshell.api.unit
import numpy as np
import pytest

import loaders
from loaders import LoadCancelled, LoadError
from loaders.formats import ifc
from tests.loaders.ifc_support import ifc_skeleton

REPO = Path(__file__).resolve().parents[2]
HOOK = "REALSCENE_IFC_CHILD_TEST"  # loaders.formats.ifc.CHILD_TEST_HOOK
FZK = "bim/AC20-FZK-Haus.ifc"
DUPLEX = "bim/duplex.ifc"

E, N, H = 512_345.678, 5_432_109.876, 100.25
WALL_HEIGHT = 4.0  # metres
WALL_LENGTH = 5.0


def _house(path: Path, *, unit: str | None, wall: bool = True,
           representation: bool = True, schema: str = "IFC4") -> Path:
    """Project / site / building / storey and one 5 m long, 4 m tall wall at the origin,
    in a project whose length unit is the millimetre (unit="MILLI") or the metre (None)."""
    f, body, storey = ifc_skeleton(schema, unit=unit, name="House", storey_name="G")
    if wall:
        for name in ("W1", "W2"):
            w = ifcopenshell.api.root.create_entity(f, ifc_class="IfcWall", name=name)
            if representation:
                rep = ifcopenshell.api.geometry.add_wall_representation(
                    f, context=body, length=WALL_LENGTH, height=WALL_HEIGHT, thickness=0.2)
                ifcopenshell.api.geometry.assign_representation(f, product=w,
                                                                representation=rep)
            ifcopenshell.api.geometry.edit_object_placement(f, product=w)
            ifcopenshell.api.spatial.assign_container(f, relating_structure=storey,
                                                      products=[w])
    f.write(str(path))
    return path


def _georeferenced(path: Path, *, unit: str | None, scale: float | None,
                   map_unit: bool = True, crs: str = "EPSG:25832") -> Path:
    _house(path, unit=unit)
    f = ifcopenshell.open(str(path))
    context = next(c for c in f.by_type("IfcGeometricRepresentationContext")
                   if c.is_a() == "IfcGeometricRepresentationContext")
    metre = f.createIfcSIUnit(None, "LENGTHUNIT", None, "METRE") if map_unit else None
    target = f.createIfcProjectedCRS(Name=crs, MapUnit=metre)
    f.createIfcMapConversion(SourceCRS=context, TargetCRS=target, Eastings=E, Northings=N,
                             OrthogonalHeight=H, XAxisAbscissa=1.0, XAxisOrdinate=0.0,
                             Scale=scale)
    f.write(str(path))
    return path


def _scale_warnings(model) -> list[str]:
    return [w for w in model.metadata["warnings"] if "Scale" in w]


# --------------------------------------------------------------------------- georeferencing


@pytest.mark.parametrize(("unit", "scale", "factor", "warned"), [
    ("MILLI", 0.001, 1.0, None),  # IFC4.3: the unit ratio
    ("MILLI", 1000.0, 1.0, "inverse"),  # the ratio the other way round
    ("MILLI", 1.0, 1.0, "Scale is 1"),  # 1.0 meaning "nothing"
    ("MILLI", 0.9996, 0.9996, None),  # a projection scale factor (IFC4 ADD2)
    ("MILLI", 0.001 * 0.9996, 0.9996, None),  # unit ratio x projection factor
    ("MILLI", None, 1.0, "no Scale"),  # absent
    (None, 1.0, 1.0, None),  # a metre project
    (None, None, 1.0, None),
])
def test_map_conversion_scale_conventions(tmp_path: Path, unit, scale, factor,
                                          warned) -> None:
    model = loaders.read(_georeferenced(tmp_path / "house.ifc", unit=unit, scale=scale))
    assert model.metadata["georef"] == "IfcMapConversion"
    assert model.crs.to_epsg() == 25832
    lo, hi = model.bounds
    # the wall's foot is at the model origin: it lands at E/N/H
    assert np.allclose(lo, [E, N, H], atol=0.01), lo
    size = hi - lo
    assert size[2] == pytest.approx(WALL_HEIGHT * factor, abs=0.01)  # a 4 m wall stays 4 m
    assert size[0] == pytest.approx(WALL_LENGTH * factor, abs=0.01)
    scale_warnings = _scale_warnings(model)
    if warned is None:
        assert scale_warnings == []
    else:
        assert len(scale_warnings) == 1 and warned in scale_warnings[0]
    assert model.metadata["georef_detail"]["scale_read_as"]


@pytest.mark.parametrize("scale", [1e6, 1e-6, 50.0, -0.001])
def test_implausible_scale_is_named_and_the_size_kept(tmp_path: Path, scale: float) -> None:
    model = loaders.read(_georeferenced(tmp_path / "odd.ifc", unit="MILLI", scale=scale))
    lo, hi = model.bounds
    assert np.allclose(lo, [E, N, H], atol=0.01)
    assert hi[2] - lo[2] == pytest.approx(WALL_HEIGHT, abs=0.01)
    warnings = _scale_warnings(model)
    assert len(warnings) == 1 and "implausible" in warnings[0]
    assert f"{scale:g}" in warnings[0] and "millimetre" in warnings[0]


@pytest.mark.parametrize("scale", [1.0, 1000.0, 0.001])
def test_ifc2x3_property_set_conversion_in_millimetres(tmp_path: Path, scale: float) -> None:
    """The IFC2X3 convention (ePSet_MapConversion / ePSet_ProjectedCRS) reads Scale alike."""
    import ifcopenshell.api.pset

    path = _house(tmp_path / "epset.ifc", unit="MILLI", schema="IFC2X3")
    f = ifcopenshell.open(str(path))
    project = f.by_type("IfcProject")[0]
    conv = ifcopenshell.api.pset.add_pset(f, product=project, name="ePSet_MapConversion")
    ifcopenshell.api.pset.edit_pset(f, pset=conv, properties={
        "Eastings": E, "Northings": N, "OrthogonalHeight": H, "XAxisAbscissa": 1.0,
        "XAxisOrdinate": 0.0, "Scale": scale})
    crs = ifcopenshell.api.pset.add_pset(f, product=project, name="ePSet_ProjectedCRS")
    ifcopenshell.api.pset.edit_pset(f, pset=crs, properties={"Name": "EPSG:25833",
                                                             "MapUnit": "METRE"})
    f.write(str(path))
    model = loaders.read(path)
    assert model.metadata["georef"] == "ePSet_MapConversion"
    lo, hi = model.bounds
    assert np.allclose(lo, [E, N, H], atol=0.01)
    assert hi[2] - lo[2] == pytest.approx(WALL_HEIGHT, abs=0.01)


def test_map_unit_from_the_named_crs(tmp_path: Path) -> None:
    """No MapUnit: the unit of EPSG:25832's axes (metre), not the project's millimetre."""
    path = _georeferenced(tmp_path / "nounit.ifc", unit="MILLI", scale=0.001, map_unit=False)
    model = loaders.read(path)
    lo, hi = model.bounds
    assert np.allclose(lo, [E, N, H], atol=0.01)
    assert hi[2] - lo[2] == pytest.approx(WALL_HEIGHT, abs=0.01)
    assert _scale_warnings(model) == []


def test_scale_reading_in_isolation() -> None:
    mm = 0.001
    assert ifc.resolve_scale(0.001, mm, 1.0)[0] == pytest.approx(0.001)
    assert ifc.resolve_scale(1000.0, mm, 1.0)[0] == pytest.approx(0.001)
    assert ifc.resolve_scale(1.0, mm, 1.0)[0] == pytest.approx(0.001)
    assert ifc.resolve_scale(0.9996, mm, 1.0)[0] == pytest.approx(0.0009996)
    assert ifc.resolve_scale(None, mm, 1.0)[0] == pytest.approx(0.001)
    assert ifc.resolve_scale(float("nan"), mm, 1.0)[0] == pytest.approx(0.001)
    assert ifc.resolve_scale(0.9996, 1.0, 1.0) == (0.9996, ifc.resolve_scale(
        0.9996, 1.0, 1.0)[1], None)
    foot = 0.3048  # a foot project on a metre grid: 0.3048
    assert ifc.resolve_scale(1 / foot, foot, 1.0)[0] == pytest.approx(foot)
    assert ifc.resolve_scale(1e6, mm, 1.0)[2] is not None


# --------------------------------------------------------------------------- no geometry


def _one_line(error: LoadError, path: Path) -> None:
    assert path.name in error.message and "\n" not in error.message
    assert "Traceback" not in error.message


def _cut(src: Path, dst: Path, fraction: float) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[:int(len(data) * fraction)])
    return dst


@pytest.mark.parametrize("name", [FZK, DUPLEX])
def test_truncated_real_models(tmp_path: Path, shared_data: Path, name: str) -> None:
    """Cut at many points: each cut gives one clear LoadError or a model with triangles and
    a visible warning of what was lost, never an exception of another kind or a crash."""
    src = shared_data / name
    outcomes: dict[float, str] = {}
    for fraction in (0.0005, 0.02, 0.1, 0.3, 0.6, 0.9, 0.999):
        path = _cut(src, tmp_path / f"cut_{fraction}.ifc", fraction)
        try:
            model = loaders.read(path)
        except LoadError as exc:
            _one_line(exc, path)
            outcomes[fraction] = "error"
            continue
        assert model.triangle_count > 0  # an empty model is an error, not a blank layer
        warnings = model.metadata["warnings"]
        assert any("truncated" in w for w in warnings), warnings
        lost = [w for w in warnings if "had no readable geometry" in w]
        if model.metadata["skipped"]:
            assert len(lost) == 1
            assert lost[0].startswith(f"{len(model.metadata['skipped'])} of ")
            assert "\u00d7" in lost[0]
        outcomes[fraction] = "partial"
    assert outcomes[0.0005] == "error"  # inside the header
    assert "partial" in outcomes.values()
    assert outcomes[0.999] == "partial"  # only the last line is missing


def test_truncated_without_geometry_is_an_error(tmp_path: Path, shared_data: Path) -> None:
    # the first 2 % of the duplex: the spatial tree, no element geometry yet
    path = _cut(shared_data / DUPLEX, tmp_path / "duplex_2.ifc", 0.02)
    with pytest.raises(LoadError) as info:
        loaders.read(path)
    assert "truncated" in info.value.reason
    _one_line(info.value, path)


def test_partly_readable_names_what_was_lost(tmp_path: Path, shared_data: Path) -> None:
    path = _cut(shared_data / DUPLEX, tmp_path / "duplex_30.ifc", 0.3)
    model = loaders.read(path)
    assert model.triangle_count > 0
    lost = next(w for w in model.metadata["warnings"] if "had no readable geometry" in w)
    assert "IfcWallStandardCase \u00d7" in lost
    # the count names the elements listed one by one in metadata["skipped"]
    walls = sum("IfcWallStandardCase" in s for s in model.metadata["skipped"])
    assert f"IfcWallStandardCase \u00d7{walls}" in lost and walls > 0


def test_products_without_representation(tmp_path: Path) -> None:
    path = _house(tmp_path / "bare.ifc", unit="MILLI", representation=False)
    with pytest.raises(LoadError) as info:
        loaders.read(path)
    assert "no 3D geometry" in info.value.reason
    _one_line(info.value, path)


def test_a_model_of_spaces_only_shows_its_spaces(tmp_path: Path) -> None:
    """Spaces are hidden by default (they would hide the building), but a model that has
    nothing else is shown with them rather than refused."""
    path = _house(tmp_path / "spaces.ifc", unit=None, representation=False)
    f = ifcopenshell.open(str(path))
    body = next(c for c in f.by_type("IfcGeometricRepresentationSubContext"))
    space = ifcopenshell.api.root.create_entity(f, ifc_class="IfcSpace", name="Room")
    ifcopenshell.api.geometry.assign_representation(
        f, product=space, representation=ifcopenshell.api.geometry.add_wall_representation(
            f, context=body, length=3.0, height=2.5, thickness=4.0))
    ifcopenshell.api.geometry.edit_object_placement(f, product=space)
    ifcopenshell.api.aggregate.assign_object(f, relating_object=f.by_type(
        "IfcBuildingStorey")[0], products=[space])
    f.write(str(path))
    model = loaders.read(path)
    assert model.triangle_count > 0
    assert {model.features[i].type for i in np.unique(model.face_feature)} == {"IfcSpace"}
    assert "IfcSpace volumes" in model.metadata["warnings"][0]


def test_cli_exits_2_with_one_line(tmp_path: Path, shared_data: Path) -> None:
    path = _house(tmp_path / "bare.ifc", unit=None, representation=False)
    result = subprocess.run([sys.executable, "-m", "viewer.cli", "info", str(path)],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "bare.ifc" in lines[0] and "no 3D geometry" in lines[0]


# --------------------------------------------------------------------------- native crashes


def _cyclic_placement(tmp_path: Path, length: int) -> Path:
    path = _house(tmp_path / f"cycle{length}.ifc", unit=None)
    f = ifcopenshell.open(str(path))
    placement = f.by_type("IfcWall")[0].ObjectPlacement
    if length == 1:
        placement.PlacementRelTo = placement  # placed relative to itself
    else:
        other = f.createIfcLocalPlacement(placement, placement.RelativePlacement)
        placement.PlacementRelTo = other  # A -> B -> A
    f.write(str(path))
    return path


@pytest.mark.timeout(300)
@pytest.mark.parametrize("length", [1, 2])
def test_cyclic_placement_is_a_clear_error(tmp_path: Path, length: int) -> None:
    path = _cyclic_placement(tmp_path, length)
    with pytest.raises(LoadError) as info:
        loaders.read(path)  # ifcopenshell segfaults on this file: this process survives
    assert "cyclic object placement" in info.value.reason
    _one_line(info.value, path)


@pytest.mark.timeout(300)
def test_a_crash_in_the_geometry_engine_is_a_load_error(tmp_path: Path) -> None:
    """A boolean result that is its own operand: ifcopenshell 0.9 recurses until it
    segfaults. The crash happens in the child; this process gets a LoadError."""
    path = _house(tmp_path / "selfbool.ifc", unit=None)
    f = ifcopenshell.open(str(path))
    rep = f.by_type("IfcWall")[0].Representation.Representations[0]
    solid = rep.Items[0]
    result = f.createIfcBooleanResult("DIFFERENCE", solid, solid)
    result.SecondOperand = result
    rep.Items = [result]
    f.write(str(path))
    with pytest.raises(LoadError) as info:
        loaders.read(path)
    _one_line(info.value, path)
    assert "IFC geometry engine crashed" in info.value.reason or "cyclic" in info.value.reason


@pytest.mark.timeout(300)
def test_an_aborted_child_is_a_load_error(tmp_path: Path, monkeypatch) -> None:
    path = _house(tmp_path / "house.ifc", unit=None)
    monkeypatch.setenv(HOOK, "abort")
    with pytest.raises(LoadError) as info:
        loaders.read(path)
    assert info.value.reason == ("IFC geometry engine crashed (signal "
                                 f"{int(signal.SIGABRT)}, SIGABRT) on this file")
    assert "malformed" in info.value.hint
    monkeypatch.delenv(HOOK)
    assert loaders.read(path).triangle_count > 0  # the next read is fine


@pytest.mark.timeout(300)
def test_a_killed_child_is_a_load_error(shared_data: Path) -> None:
    killed: list[int] = []

    def progress(fraction: float, message: str) -> None:
        if message == "generating IFC geometry" and not killed:
            for child in multiprocessing.active_children():
                if child.name == "realscene-ifc":
                    os.kill(child.pid, signal.SIGKILL)
                    killed.append(child.pid)

    with pytest.raises(LoadError) as info:
        loaders.read(shared_data / DUPLEX, progress)
    assert killed
    assert f"signal {int(signal.SIGKILL)}, SIGKILL" in info.value.reason


@pytest.mark.timeout(300)
def test_cancel_terminates_the_child(shared_data: Path) -> None:
    seen: list[float] = []

    def progress(fraction: float, message: str) -> None:
        seen.append(fraction)
        if message == "generating IFC geometry":
            raise LoadCancelled()

    with pytest.raises(LoadCancelled):
        loaders.read(shared_data / FZK, progress)
    assert seen and max(seen) < 0.9
    assert not [c for c in multiprocessing.active_children() if c.name == "realscene-ifc"]


@pytest.mark.timeout(300)
def test_cancel_while_the_child_sends_no_news(shared_data: Path, monkeypatch) -> None:
    """The child is busy for a minute without progress (as in a long parse): the callback
    is still called, so a cancel ends the read within a fraction of a second."""
    import time

    monkeypatch.setenv(HOOK, "sleep")
    start = time.monotonic()
    calls: list[tuple[float, str]] = []

    def progress(fraction: float, message: str) -> None:
        calls.append((fraction, message))
        if time.monotonic() - start > 1.0:
            raise LoadCancelled()

    with pytest.raises(LoadCancelled):
        loaders.read(shared_data / FZK, progress)
    assert time.monotonic() - start < 20
    assert len(calls) >= 3 and calls[-1][0] == 0.0  # the last fraction, repeated
    assert not [c for c in multiprocessing.active_children() if c.name == "realscene-ifc"]


# --------------------------------------------------------------------------- stdout


def _run_reader(path: Path, env_extra: dict[str, str], script: str | None = None
                ) -> subprocess.CompletedProcess:
    code = script or textwrap.dedent(f"""
        import sys
        import loaders
        model = loaders.read({str(path)!r})
        print("triangles", model.triangle_count, file=sys.stderr)
    """)
    env = {**os.environ, **env_extra}
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env,
                          capture_output=True, timeout=300)


def test_native_output_never_reaches_stdout(shared_data: Path) -> None:
    result = _run_reader(shared_data / FZK, {HOOK: "stdout"})
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert result.stdout == b""
    # the line the child wrote on its file descriptor 1 went to stderr instead
    assert b"native debug line from the IFC engine" in result.stderr
    assert b"triangles" in result.stderr


def test_reading_real_models_prints_nothing(shared_data: Path) -> None:
    for name in (FZK, DUPLEX):
        result = _run_reader(shared_data / name, {})
        assert result.returncode == 0 and result.stdout == b""


def test_a_script_without_main_guard_runs_once(tmp_path: Path, shared_data: Path) -> None:
    """The child does not re-import the caller's __main__ (multiprocessing's default)."""
    script = tmp_path / "count.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        import loaders
        print("start", file=sys.stderr)
        model = loaders.read({str(shared_data / FZK)!r})
        print(model.triangle_count)
    """))
    result = subprocess.run([sys.executable, str(script)], cwd=REPO, capture_output=True,
                            text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("start") == 1
    assert int(result.stdout) > 1000


def test_in_process_and_isolated_reads_agree(shared_data: Path) -> None:
    a = ifc.read_in_process(shared_data / FZK)
    b = ifc.read(shared_data / FZK)
    assert np.array_equal(a.faces, b.faces) and np.array_equal(a.vertices, b.vertices)
    assert np.array_equal(a.origin, b.origin) and a.crs == b.crs
    assert np.array_equal(a.face_colors, b.face_colors)
    assert [f.id for f in a.features] == [f.id for f in b.features]
    assert a.features[5] == b.features[5] and a.metadata == b.metadata
    assert b.vertices.flags.writeable and b.faces.flags.writeable


def test_cyclic_model_tree_keeps_every_object(tmp_path: Path) -> None:
    """Site and building aggregate each other (invalid): the cycle is cut and named, and
    the objects on it and below it stay in the tree (they were silently dropped)."""
    path = _house(tmp_path / "tree.ifc", unit=None)
    f = ifcopenshell.open(str(path))
    site = f.by_type("IfcSite")[0]
    building = f.by_type("IfcBuilding")[0]
    f.createIfcRelAggregates(ifcopenshell.guid.new(), None, "cycle", None, building, [site])
    f.write(str(path))
    model = loaders.read(path)
    assert model.triangle_count > 0
    assert math.isfinite(float(model.bounds[1][2]))
    assert any("cycle" in w for w in model.metadata["warnings"])
    counts = model.counts_by_type()
    assert counts["IfcSite"] == counts["IfcBuilding"] == counts["IfcBuildingStorey"] == 1
    assert counts["IfcWall"] == 2
    walls = [i for i, feat in enumerate(model.features) if feat.type == "IfcWall"]
    assert set(np.unique(model.face_feature)) == set(walls)
