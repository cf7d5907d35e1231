"""Issue 19 end to end, from a script and the CLI: a planner's scene of Delft — the AHN3
scan, the CityJSON city model, an OSGB oblique tileset built from the Delft meshes, the
city's 3D Tiles export (ECEF), a DEM of the scan's ground and its orthophoto — opened
together in one CRS (RD New), in the same place, drawn with their tiles streamed.

The files are made once per module by :mod:`tests.planner_support` from real data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.planner_support import PlannerFiles, build_planner_files
from viewer.cli import main

W, H = 300, 400


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> PlannerFiles:
    return build_planner_files(tmp_path_factory.mktemp("planner"))


def _image(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB")).astype(int)


def _horizontal_epsg(crs) -> int | None:
    """The EPSG code of a CRS's horizontal part (RD New + NAP -> 28992)."""
    parts = crs.sub_crs_list or [crs]
    return parts[0].to_epsg()


def _xy_overlap(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> float:
    """The area of the xy intersection of two boxes over the area of ``b``'s."""
    side = np.minimum(a[1][:2], b[1][:2]) - np.maximum(a[0][:2], b[0][:2])
    return float(np.prod(np.clip(side, 0, None)) / np.prod(b[1][:2] - b[0][:2]))


def _walk(tileset):
    stack = [tileset.root]
    while stack:
        tile = stack.pop()
        kids = tileset.expand(tile)
        stack += kids
        yield tile, not kids


def _xyz(mesh) -> np.ndarray:
    return mesh.vertices.astype(np.float64) + mesh.origin


@pytest.mark.timeout(120)
def test_script_opens_the_six_in_one_crs_in_one_place_and_draws_each(files, tmp_path):
    import laspy

    from viewer import api
    from viewer.scene import Camera

    with api.open_files(*files.paths, crs=files.crs) as site:
        assert not site.warnings, site.warnings
        names = [h.name for h in site.layers]
        scan, city, osgb, t3d, dem, ortho = site.layers
        assert [h.kind for h in site.layers] == ["pointcloud", "mesh", "tiles", "tiles",
                                                 "tiles", "tiles"], names
        # one scene CRS, RD New; every layer delivered in it (the city model's RD New +
        # NAP is the same plane; the 3D Tiles export came in ECEF and was reprojected)
        assert site.crs.to_epsg() == 28992
        for handle in site.layers:
            assert _horizontal_epsg(handle.crs) == 28992, handle.name
        assert t3d.layer.data.native_crs.to_epsg() == 4978
        assert ortho.layer.data.native_crs.to_epsg() == 32631
        # the same place: every layer covers the scan's footprint
        for handle in site.layers[1:]:
            assert _xy_overlap(handle.bounds, scan.bounds) > 0.95, handle.name

        # the 3D Tiles export lands on the city model: the same objects within a cm
        model = city.layer.data
        got: dict[str, np.ndarray] = {}
        for tile, _leaf in _walk(t3d.layer.data):
            if tile.content:
                for mesh in t3d.layer.data.load(tile).meshes:
                    xyz = _xyz(mesh)
                    for i, feat in enumerate(mesh.features):
                        verts = np.unique(mesh.faces[mesh.face_feature == i])
                        if len(verts):
                            got[feat.attributes["id"]] = xyz[verts]
        xyz0 = _xyz(model)
        compared = 0
        for i, feat in enumerate(model.features[::10]):
            verts = np.unique(model.faces[model.face_feature == i * 10])
            if not len(verts):
                continue
            a, b = np.sort(xyz0[verts], axis=0), np.sort(got[feat.id], axis=0)
            assert a.shape == b.shape and np.abs(a - b).max() < 0.01, feat.id
            compared += 1
        assert compared >= 40

        # the DEM's heights under the scan's ground points, within the 1 m grid's error
        las = laspy.read(files.scan)
        ground = np.column_stack([las.x, las.y, las.z])[np.asarray(las.classification) == 2]
        terrain = dem.layer.data
        dz = ground[:, 2] - terrain.height_at(ground[:, :2])
        assert not np.isnan(dz).any()
        assert np.median(np.abs(dz)) < 0.05 and np.percentile(np.abs(dz), 95) < 0.25

        # the OSGB tileset (EPSG:28992 + SRSOrigin) stands on that ground: its leaves'
        # terrain and building feet lie on the DEM
        leaves = [t for t, leaf in _walk(osgb.layer.data) if leaf and t.content]
        verts = np.concatenate([_xyz(m) for t in leaves
                                for m in osgb.layer.data.load(t).meshes])
        h = terrain.height_at(verts[:, :2])
        on = ~np.isnan(h)
        assert on.sum() > 1000 and (np.abs(verts[on, 2] - h[on]) < 0.5).mean() > 0.6

        # the picture shows each layer: each alone (solid), from one camera over the scan
        lo, hi = scan.bounds
        centre = (lo + hi) / 2
        site.session.save_view("over the scan", Camera(
            position=(centre[0], centre[1], 600.0), focal_point=(centre[0], centre[1], 0.0),
            view_up=(0.0, 1.0, 0.0)))
        site.drape(dem, files.ortho)  # as the window's Drape orthophoto… does
        lit: dict[str, np.ndarray] = {}
        for handle in site.layers:
            for other in site.layers:
                other.visible = other.layer is handle.layer
            handle.color_by = "solid"
            out = site.render(tmp_path / f"{handle.name}.png", size=(W, H),
                              view="over the scan", background=(0.0, 0.0, 0.0))
            lit[handle.name] = _image(out).max(axis=2) > 40
        rows, cols = np.nonzero(lit[scan.name])
        footprint = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
        assert 0.2 < (rows.max() - rows.min()) / H < 0.95
        # the terrain covers the scan's strip; the city's edge crosses it (the scan reaches
        # over the canal east of the city model's last block)
        for handle, part in ((dem, 0.9), (ortho, 0.9), (city, 0.4), (osgb, 0.4), (t3d, 0.4)):
            assert lit[handle.name][footprint].mean() > part, handle.name

        def iou(a: str, b: str) -> float:
            return float((lit[a] & lit[b]).sum() / (lit[a] | lit[b]).sum())

        # the three city layers draw the same district in the same pixels
        assert iou(city.name, t3d.name) > 0.95
        assert iou(city.name, osgb.name) > 0.8
        # together, in their own looks (the DEM textured by the orthophoto)
        for handle in site.layers:
            handle.visible = True
        dem.color_by = "material"
        everything = _image(site.render(tmp_path / "all.png", size=(W, H),
                                        view="over the scan", background=(0.0, 0.0, 0.0)))
        assert (everything.max(axis=2) > 40)[footprint].mean() > 0.9
        # the city reaches beyond the scan: lit outside its footprint too
        outside = np.ones(everything.shape[:2], bool)
        outside[footprint] = False
        assert (everything.max(axis=2) > 40)[outside].mean() > 0.3


RENDER_FLAGS = ["--view", "top", "--background", "0,0,0", "--msaa", "0", "--no-attribution"]


def test_cli_renders_the_six_with_the_orthophoto_draped(files, tmp_path):
    flags = ["--size", f"{W}x{H}", *RENDER_FLAGS]
    crs = ["--crs", f"{files.scan.name}=EPSG:28992"]
    everything = tmp_path / "all.png"
    assert main(["render", *map(str, files.paths), *crs, "--drape",
                 f"{files.dem.name}={files.ortho}", *flags, "-o", str(everything)]) == 0
    assert (_image(everything).max(axis=2) > 40).mean() > 0.05

    def aspect(paths: list[Path], name: str) -> float:
        """Width / height of what is drawn (solid colours: no legends)."""
        out = tmp_path / name
        assert main(["render", *map(str, paths), *crs, "--color-by", "solid", *flags,
                     "-o", str(out)]) == 0
        rows, cols = np.nonzero(_image(out).max(axis=2) > 40)
        return (cols.max() - cols.min()) / (rows.max() - rows.min())

    # the scan is a north-south strip; with the city (model, OSGB, 3D Tiles) the picture
    # spreads east-west over the district
    assert aspect([files.scan], "scan.png") < 0.6
    assert aspect(files.paths, "all_solid.png") > 0.8

    # --drape textures the DEM: the orthophoto's detail instead of the smooth tint
    plain, draped = tmp_path / "dem.png", tmp_path / "draped.png"
    assert main(["render", str(files.dem), *flags, "-o", str(plain)]) == 0
    assert main(["render", str(files.dem), "--drape", f"{files.dem}={files.ortho}", *flags,
                 "-o", str(draped)]) == 0
    a, b = _image(plain), _image(draped)
    lit = a.max(axis=2) > 40
    assert lit.mean() > 0.1 and (np.abs(a - b).sum(axis=2) > 60)[lit].mean() > 0.3
    # local detail: neighbouring pixels differ far more on the photo than on the tint
    assert np.abs(np.diff(b, axis=1))[lit[:, 1:]].mean() > \
        2 * np.abs(np.diff(a, axis=1))[lit[:, 1:]].mean()


def test_cli_drape_names_what_is_wrong(files, tmp_path, capsys):
    out = str(tmp_path / "x.png")
    assert main(["render", str(files.dem), "--drape", f"nope.tif={files.ortho}",
                 "-o", out]) == 2
    assert "nope.tif" in capsys.readouterr().err
    assert main(["render", str(files.scan), "--drape", f"{files.scan.name}={files.ortho}",
                 "-o", out]) == 2
    assert "takes no orthophoto" in capsys.readouterr().err
    assert main(["render", str(files.dem), "--drape", f"{files.dem.name}={files.dem}",
                 "-o", out]) == 2
    assert "orthophoto" in capsys.readouterr().err
    assert not Path(out).exists()


def test_cli_info_of_each(files, capsys):
    expected = {files.scan: ("pointcloud", None), files.city: ("mesh", 7415),
                files.osgb: ("tiles", 28992), files.tiles3d: ("tiles", 4978),
                files.dem: ("tiles", 28992), files.ortho: ("tiles", 32631)}
    for path, (kind, epsg) in expected.items():
        assert main(["info", "--json", str(path)]) == 0, path
        info = json.loads(capsys.readouterr().out)
        assert info["kind"] == kind, path
        assert (info["crs"] or {}).get("epsg") == epsg, path
    assert main(["info", "--json", str(files.osgb)]) == 0
    assert json.loads(capsys.readouterr().out)["format"] == "OSGB"


@pytest.mark.timeout(120)
def test_a_draped_terrain_is_saved_and_reopens_draped(files, tmp_path):
    """site.drape textures the DEM layer (the colour mode goes to its materials) and the
    project keeps the orthophoto: reopened from a script, the terrain is draped again; an
    orthophoto gone missing is one warning of the layer's, the DEM still opens."""
    import shutil

    from viewer import api

    folder = tmp_path / "site"
    folder.mkdir()
    dem, ortho = folder / files.dem.name, folder / files.ortho.name
    shutil.copy(files.dem, dem)
    shutil.copy(files.ortho, ortho)
    with api.open_files(dem) as site:
        (layer,) = site.layers
        site.drape(layer, ortho)
        assert layer.layer.data.metadata["ortho"] == str(ortho)
        assert layer.layer.color_mode == "material" and layer.layer.data.colour == "texture"
        saved = site.save(folder / "draped.realscene.json")
    record = json.loads(saved.read_text(encoding="utf-8"))["layers"][0]
    assert record["display"]["drape"] == ortho.name  # relative, like the layer's path
    with api.open_project(saved) as again:
        (layer,) = again.layers
        assert layer.layer.data.colour == "texture"
        assert Path(layer.layer.data.metadata["ortho"]).name == ortho.name
    ortho.unlink()
    with api.open_project(saved) as missing:
        (layer,) = missing.layers
        assert layer.layer.data.colour != "texture"
        assert any("orthophoto not draped" in w for w in layer.layer.data.warnings)
