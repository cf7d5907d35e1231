"""Draping is one undoable edit, and Undrape takes it off (issue 19): drape -> undo ->
redo -> undrape -> undo through a script's Site (``site.drape``, ``site.undrape``,
``site.undo`` / ``site.redo``) on a DEM terrain (the AHN3 ground of Delft) and on the
Delft CityJSON city model, with an orthophoto of the AHN3 surface stored in UTM 31N.
Each step checks what the layer holds (texture, colours, the orthophoto not read again
on redo), the picture the Site renders (its one off-screen renderer: the tiles cached
before a step must not show after it) and what the saved project records.

Files are real: the DEM and orthophoto are built from ../shared/data's AHN3 scan
(:mod:`tests.loaders.terrain_support`), the city model is ../shared/data's."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SHARED_DATA
from viewer import api

CITY = SHARED_DATA / "citymodels" / "delft.city.json"
SIZE = (320, 320)


@pytest.fixture(scope="module")
def site_files(tmp_path_factory) -> Path:
    """A folder with the DEM, the orthophoto and a copy of it under another name."""
    from tests.loaders.terrain_support import make_ahn3_dem, make_ahn3_ortho

    folder = tmp_path_factory.mktemp("drape_undo")
    make_ahn3_dem(folder / "dem.tif", cell=2.0)
    make_ahn3_ortho(folder / "ortho.tif", cell=1.0)
    shutil.copy(folder / "ortho.tif", folder / "ortho_copy.tif")
    return folder


def picture(site: api.Site, path: Path) -> np.ndarray:
    """A top render of the site (RGB, black background)."""
    from PIL import Image

    site.render(path, size=SIZE, view="top", background=(0.0, 0.0, 0.0))
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB")).astype(int)


def coloured(rgb: np.ndarray) -> float:
    """Share of drawn pixels that are not grey (the orthophoto's tints; hillshade is
    grey): the channels spread by more than 20."""
    drawn = rgb.max(axis=2) > 10
    spread = rgb.max(axis=2) - rgb.min(axis=2)
    return float((spread[drawn] > 20).mean()) if drawn.any() else 0.0


def saved_drape(site: api.Site, path: Path) -> str | None:
    """The orthophoto the saved project records for its first layer."""
    out = site.save(path)
    return json.loads(out.read_text(encoding="utf-8"))["layers"][0]["display"].get("drape")


@pytest.mark.timeout(180)
def test_terrain_drape_undo_redo_undrape(site_files, tmp_path):
    ortho = site_files / "ortho.tif"
    project = site_files / "terrain.realscene.json"
    with api.open_files(site_files / "dem.tif") as site:
        (handle,) = site.layers
        layer = handle.layer
        dem = layer.data
        site.session.update_layer(layer, color_mode="hillshade")
        assert dem.colour == "hillshade" or layer.color_mode == "hillshade"
        plain = picture(site, tmp_path / "plain.png")
        assert coloured(plain) < 0.05  # hillshade: grey
        assert saved_drape(site, project) is None

        def textured() -> bool:
            mesh = dem.load(dem.root).meshes[0]
            return bool(mesh.parts) and mesh.parts[0].material.texture is not None

        site.drape(handle, ortho)
        assert dem.metadata["ortho"] == str(ortho) and dem.colour == "texture"
        assert layer.color_mode == "material" and textured()
        info = dem.drape_state().info
        draped = picture(site, tmp_path / "draped.png")
        assert coloured(draped) > 0.3
        assert saved_drape(site, project) == ortho.name
        assert site.session.undo.undo_text() == f"Drape {ortho.name} on “{layer.name}”"

        site.undo()  # back to the hillshade, not textured
        assert "ortho" not in dem.metadata and dem.drape_state() is None
        assert layer.color_mode == "hillshade" and dem.colour == "hillshade"
        assert "texture" not in dem.colour_modes and not textured()
        shade = dem.load(dem.root).meshes[0].vertex_colors
        assert shade is not None and (shade[:, 0] == shade[:, 1]).all()
        assert coloured(picture(site, tmp_path / "undone.png")) < 0.05
        assert saved_drape(site, project) is None

        site.redo()  # draped again, the orthophoto not read again
        assert dem.metadata["ortho"] == str(ortho) and dem.drape_state().info is info
        assert layer.color_mode == "material" and textured()
        assert coloured(picture(site, tmp_path / "redone.png")) > 0.3
        assert saved_drape(site, project) == ortho.name

        assert site.undrape(handle)  # Remove orthophoto: the hillshade from before
        assert "ortho" not in dem.metadata and not textured()
        assert layer.color_mode == "hillshade" and dem.colour == "hillshade"
        assert coloured(picture(site, tmp_path / "undraped.png")) < 0.05
        assert saved_drape(site, project) is None
        assert not site.undrape(handle)  # nothing draped: no edit
        assert site.session.undo.undo_text() == f"Remove orthophoto from “{layer.name}”"

        site.undo()  # the undrape undone: textured again, same orthophoto
        assert dem.drape_state().info is info and layer.color_mode == "material"
        assert coloured(picture(site, tmp_path / "back.png")) > 0.3
        assert saved_drape(site, project) == ortho.name


@pytest.mark.timeout(180)
def test_city_model_drape_undo_redo_undrape(site_files, tmp_path):
    ortho, other = site_files / "ortho.tif", site_files / "ortho_copy.tif"
    shutil.copy(CITY, site_files / CITY.name)
    project = site_files / "city.realscene.json"
    with api.open_files(site_files / CITY.name) as site:
        (handle,) = site.layers
        layer = handle.layer
        model = layer.data
        mode, own_uvs, own_parts = layer.color_mode, model.uvs, model.parts
        plain = picture(site, tmp_path / "plain.png")

        site.drape(handle, ortho)
        assert model.parts[0].name == "orthophoto" and layer.color_mode == "material"
        texture = model.parts[0].material.texture
        draped = picture(site, tmp_path / "draped.png")
        changed = np.abs(draped - plain).sum(axis=2) > 60
        assert changed.mean() > 0.03
        assert saved_drape(site, project) == ortho.name

        site.undo()
        assert model.uvs is own_uvs and model.parts is own_parts
        assert "ortho" not in model.metadata and layer.color_mode == mode
        undone = picture(site, tmp_path / "undone.png")
        assert (np.abs(undone - plain).sum(axis=2) > 60).mean() < 0.005
        assert saved_drape(site, project) is None

        site.redo()  # the same texture: not warped again
        assert model.parts[0].material.texture is texture
        redone = picture(site, tmp_path / "redone.png")
        assert (np.abs(redone - draped).sum(axis=2) > 60).mean() < 0.005
        assert saved_drape(site, project) == ortho.name

        # another orthophoto over it; undo gives the first one back
        site.drape(handle, other)
        assert model.metadata["ortho"] == str(other)
        assert saved_drape(site, project) == other.name
        site.undo()
        assert model.metadata["ortho"] == str(ortho)
        assert model.parts[0].material.texture is texture
        assert saved_drape(site, project) == ortho.name

        assert site.undrape(handle)
        assert model.uvs is own_uvs and model.parts is own_parts
        assert layer.color_mode == mode and saved_drape(site, project) is None
        assert (np.abs(picture(site, tmp_path / "undraped.png") - plain).sum(axis=2)
                > 60).mean() < 0.005
        site.undo()
        assert model.parts[0].material.texture is texture
        assert model.metadata["ortho"] == str(ortho) and layer.color_mode == "material"
        site.redo()
        assert model.parts is own_parts and not site.undrape(handle)
