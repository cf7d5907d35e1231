"""``realscene info`` / ``render`` on tiled datasets: the Cesium 3D Tiles sample
(tiles/TilesetWithRequestVolume, ECEF: drawn in its UTM zone), a terrain DEM made from
the AHN3 ground points (tests/loaders/terrain_support.py) with the AHN3 point cloud it
was made from in the same picture, and the Python pipeline putting them in one frame."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from viewer.cli import main

W, H = 400, 300


@pytest.fixture
def cesium(shared_data) -> Path:
    return shared_data / "tiles" / "TilesetWithRequestVolume" / "tileset.json"


@pytest.fixture(scope="module")
def ahn3_dem(tmp_path_factory) -> Path:
    from tests.loaders.terrain_support import make_ahn3_dem

    return make_ahn3_dem(tmp_path_factory.mktemp("dem") / "ahn3_dem.tif", cell=1.0)


def _image(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB")).astype(int)


def test_info_of_a_3d_tiles_tileset(cesium, capsys):
    import loaders

    assert main(["info", str(cesium)]) == 0
    text = capsys.readouterr().out
    assert "3D Tiles" in text and "kind:       tiles" in text
    assert "EPSG:4978" in text and "UTM zone 18N" in text
    assert main(["info", "--json", str(cesium)]) == 0
    info = json.loads(capsys.readouterr().out)
    tileset = loaders.read(str(cesium))
    assert info["top_level_tiles"] == len(tileset.expand(tileset.root)) > 0
    assert info["depth_read"] >= 1
    assert info["crs"]["epsg"] == 4978 and info["drawn_in"]["epsg"] == 32618
    lo, hi = np.array(info["bounds"]["min"]), np.array(info["bounds"]["max"])
    # ECEF of the sample (Pennsylvania): about 6371 km from the Earth's centre
    assert 6.3e6 < np.linalg.norm((lo + hi) / 2) < 6.4e6


def test_render_a_3d_tiles_tileset(cesium, tmp_path):
    out = tmp_path / "cesium.png"
    assert main(["render", str(cesium), "--size", f"{W}x{H}", "--view", "top",
                 "--background", "0,0,0", "--msaa", "0", "--no-attribution",
                 "--color-by", "solid", "-o", str(out)]) == 0
    img = _image(out)
    lit = img.max(axis=2) > 60
    assert lit.sum() > 300  # the city's buildings, not an empty picture
    # spread over the picture (the tiles of the whole city, not one)
    rows, cols = np.nonzero(lit)
    assert cols.max() - cols.min() > W / 5 and rows.max() - rows.min() > H / 5


def test_render_terrain_with_its_point_cloud(ahn3_dem, shared_data, tmp_path):
    laz = shared_data / "pointclouds" / "ahn3_cropped_2.laz"
    alone = tmp_path / "dem.png"
    both = tmp_path / "both.png"
    flags = ["--size", f"{W}x{H}", "--view", "top", "--background", "0,0,0", "--msaa", "0",
             "--no-attribution"]
    assert main(["render", str(ahn3_dem), *flags, "-o", str(alone)]) == 0
    assert main(["render", str(ahn3_dem), str(laz), "--crs", f"{laz.name}=EPSG:28992",
                 *flags, "-o", str(both)]) == 0
    a, b = _image(alone), _image(both)
    assert (a.max(axis=2) > 30).mean() > 0.08  # the terrain: a good part of the view
    # the points (classification colours) drawn over the terrain where it lies
    changed = np.abs(a - b).sum(axis=2) > 60
    lit = a.max(axis=2) > 30
    assert changed[lit].mean() > 0.2


def test_pipeline_puts_terrain_and_points_in_one_frame(ahn3_dem, shared_data):
    from viewer import pipeline

    laz = shared_data / "pointclouds" / "ahn3_cropped_2.laz"
    scene = pipeline.open_files([str(ahn3_dem), str(laz)],
                                assign_crs={str(laz): "EPSG:28992"})
    try:
        dem, cloud = scene.layers
        assert dem.is_tiles and scene.crs.to_epsg() == 28992
        dlo, dhi = scene.bounds([dem])
        clo, chi = scene.bounds([cloud])
        overlap = np.minimum(dhi[:2], chi[:2]) - np.maximum(dlo[:2], clo[:2])
        assert np.all(overlap > 0.8 * (chi - clo)[:2])
        assert "hillshade" in dem.available_color_modes()
    finally:
        pipeline.close_scene(scene)


def test_info_of_a_dem(ahn3_dem, capsys):
    assert main(["info", "--json", str(ahn3_dem)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["kind"] == "tiles" and info["crs"]["epsg"] == 28992
    assert "drawn_in" not in info


def test_info_and_render_of_an_osgb_folder_with_its_city_model(shared_data, tmp_path,
                                                               capsys):
    from tests.loaders.osgb_support import build_osgb_tileset

    folder = tmp_path / "delft_osgb"
    build_osgb_tileset(folder, grid=(2, 2), levels=2)
    assert main(["info", "--json", str(folder)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["format"] == "OSGB" and info["top_level_tiles"] == 4
    assert info["crs"]["epsg"] == 28992
    flags = ["--size", f"{W}x{H}", "--view", "top", "--background", "0,0,0", "--msaa", "0",
             "--no-attribution"]
    out = tmp_path / "osgb.png"
    assert main(["render", str(folder), *flags, "-o", str(out)]) == 0
    osgb = _image(out)
    lit = osgb.max(axis=2) > 30
    assert lit.mean() > 0.05
    # the real photo texture: many colours, not one shade of a solid colour
    assert len({tuple(c) for c in (osgb[lit] // 16)}) > 20
    # the city model of the same district lands on the tiles (one frame, RD New)
    city = shared_data / "citymodels" / "delft.city.json"
    both = tmp_path / "both.png"
    assert main(["render", str(folder), str(city), *flags, "--color-by", "solid",
                 "-o", str(both)]) == 0
    lit_both = _image(both).max(axis=2) > 30
    assert (lit_both & lit).sum() > 0.6 * lit.sum()


def test_python_api_opens_and_renders_a_tileset(cesium, tmp_path):
    from viewer import api

    with api.open_files(cesium) as site:
        layer = site.layers[0]
        assert layer.kind == "tiles" and layer.crs.to_epsg() == 32618
        assert layer.color_modes == ["material", "elevation", "solid"]
        layer.color_by = "solid"
        out = site.render(tmp_path / "site.png", size=(W, H), view="top",
                          background=(0.0, 0.0, 0.0))
        assert (_image(out).max(axis=2) > 60).sum() > 300


@pytest.fixture
def cesium_url(cesium):
    """The Cesium sample served over HTTP by a local server thread."""
    from tests.loaders.test_http_limits import Handler, serve_directory

    server, url, _ = serve_directory(Handler, cesium.parent)
    yield f"{url}/tileset.json"
    server.shutdown()
    server.server_close()


def test_info_and_render_of_a_tileset_url(cesium_url, tmp_path, capsys):
    assert main(["info", "--json", cesium_url]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["kind"] == "tiles" and info["top_level_tiles"] > 0
    out = tmp_path / "url.png"
    assert main(["render", cesium_url, "--size", f"{W}x{H}", "--view", "top",
                 "--background", "0,0,0", "--msaa", "0", "--no-attribution",
                 "--color-by", "solid", "-o", str(out)]) == 0
    assert (_image(out).max(axis=2) > 60).sum() > 300


@pytest.mark.timeout(90)
def test_project_with_a_tileset_url_reopens_without_a_window(tmp_path):
    """A project whose layer streams a 3D Tiles tileset over HTTP reopens from a script
    (viewer.pipeline.open_project) with the URL, not a path made of it."""
    from tests.conftest import SHARED_DATA
    from tests.loaders.test_http_limits import Handler, serve_directory
    from viewer import pipeline
    from viewer.session import ProjectSession

    sample = SHARED_DATA / "tiles" / "TilesetWithRequestVolume"
    server, url, _ = serve_directory(Handler, sample)
    try:
        scene = pipeline.open_files([f"{url}/tileset.json"])
        out = ProjectSession(scene).save(tmp_path / "web.realscene.json")
        pipeline.close_scene(scene)
        warnings: list[str] = []
        session = pipeline.open_project(out, on_warning=warnings.append)
        try:
            (layer,) = session.scene.layers
            assert layer.is_tiles and layer.path == f"{url}/tileset.json", warnings
        finally:
            pipeline.close_scene(session.scene)
    finally:
        server.shutdown()
        server.server_close()
