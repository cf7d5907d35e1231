"""Change between two point layers (viewer.change_layer, viewer.api Site.compare): the
distances attached to epoch B on every point, a diverging colour map centred on zero with
symmetric limits, "significant only" greying, statistics, and B's file exported with the
distances - on the real AHN3 scan and a copy with a raised patch (tests/heritage)."""

from __future__ import annotations

import laspy
import numpy as np
import pytest

from tests.heritage.test_change import SHIFT, ahn3, displaced, patch_mask  # noqa: F401
from viewer import colors
from viewer.change_layer import CHANGE_COLORMAP, compare_layers, layer_change_stats

WHITE_ISH = 235  # every channel of the centre colour of rdbu_r is above this


@pytest.fixture(scope="module")
def epochs(displaced, shared_data):  # noqa: F811 - the fixture imported above
    return shared_data / "pointclouds" / "ahn3_cropped_2.laz", displaced[0]


def _site(epochs):
    from viewer.api import open_files

    return open_files(*epochs)


def test_symmetric_range_and_grey_for_nan():
    v = np.array([-0.2, -0.01, 0.0, 0.01, 0.05, np.nan, 1.0])
    lo, hi = colors.symmetric_range(v, 100.0)
    assert (lo, hi) == (-1.0, 1.0)
    lo, hi = colors.symmetric_range(np.r_[np.full(98, 0.1), 5.0, -5.0], 98.0)
    assert lo == -hi and 0.09 < hi < 0.2  # p98 of |d|, not the outliers
    assert colors.is_diverging("RdBu_r") and colors.is_diverging("coolwarm")
    assert not colors.is_diverging("viridis")
    lut = colors.colormap_lut(CHANGE_COLORMAP)
    assert (lut[128] > WHITE_ISH).all()  # white centre
    assert lut[0, 2] > lut[0, 0] and lut[-1, 0] > lut[-1, 2]  # blue low, red high


def test_compare_c2c_colours_b_centred_on_zero(epochs, tmp_path):
    with _site(epochs) as site:
        a, b = (layer.name for layer in site.layers)
        handle = site.compare(a, b, "c2c", local_model="plane", signed=True)
        layer = handle.layer
        assert handle.name == b and layer.color_mode == "attribute"
        assert layer.attribute == "c2c_distance" and layer.colormap == CHANGE_COLORMAP
        d = layer.data.attributes["c2c_distance"]
        assert len(d) == layer.data.point_count == 208432  # every point, not a subset
        xyz = layer.data.xyz()
        inner = patch_mask(xyz, -1.0)
        outside = ~patch_mask(xyz, 1.0)
        assert abs(np.median(d[inner]) - SHIFT) < 0.01
        info = colors.scalar_info(layer)
        assert info.vmin == -info.vmax and info.vmax > 0
        # the limits: the p98 of |d|
        assert info.vmax == pytest.approx(np.percentile(np.abs(d), 98), rel=1e-9)
        rgb = colors.layer_rgb(layer).astype(int)
        # raised patch: red (gain), saturated (the p98 of |d| is the 5 mm noise's)
        assert np.median(rgb[inner, 0] - rgb[inner, 2]) > 60
        assert np.median(rgb[outside].min(axis=1)) < 200
        # the upper contrast percentile widens the limits: 99.9 % reaches the patch's
        # 15 cm, the noise elsewhere is near white
        handle._set(contrast=(2.0, 99.9))
        assert colors.scalar_info(layer).vmax > 0.1
        rgb = colors.layer_rgb(layer).astype(int)
        assert np.median(rgb[inner, 0] - rgb[inner, 2]) > 60
        assert np.median(rgb[outside].min(axis=1)) > 220
        stats = layer_change_stats(layer)
        assert stats.valid == len(d) and stats.significant is None
        # a project with the change colouring saves (the schema knows rdbu_r)
        from heritage.project import Project

        saved = site.save(tmp_path / "change.realscene.json")
        (record,) = [r for r in Project.load(saved).layers if r.name == b]
        assert record.display["colormap"] == CHANGE_COLORMAP
        site.undo()  # the contrast, then the colouring: undoable edits
        site.undo()
        assert layer.color_mode != "attribute"
        assert "c2c_distance" in layer.data.attributes


def test_compare_m3c2_significant_only_and_export(epochs, tmp_path):
    with _site(epochs) as site:
        a, b = (layer.name for layer in site.layers)
        steps: list[float] = []
        handle = site.compare(a, b, "m3c2", registration_error=0.01,
                              significant_only=True, core_spacing=0.5,
                              progress=lambda f, m: steps.append(f))
        assert steps and steps == sorted(steps)
        layer = handle.layer
        attrs = layer.data.attributes
        assert {"m3c2_distance", "m3c2_lod", "m3c2_significant"} <= set(attrs)
        assert layer.significant_only
        sig = attrs["m3c2_significant"].astype(bool)
        xyz = layer.data.xyz()
        inner = patch_mask(xyz, -1.0)
        assert sig[inner].mean() > 0.95 and not sig[~patch_mask(xyz, 1.5)].any()
        rgb = colors.layer_rgb(layer)
        grey = np.all(rgb == colors.NOT_SIGNIFICANT_RGB, axis=1)
        assert grey[~sig].all() and not grey[sig].any()
        handle.significant_only = False
        rgb = colors.layer_rgb(layer)
        assert not np.all(rgb[~sig & np.isfinite(attrs["m3c2_distance"])]
                          == colors.NOT_SIGNIFICANT_RGB, axis=1).all()
        stats = handle.change.stats
        assert stats.significant == sig.sum()
        assert 0 < stats.share_significant < 0.1
        # export: B's file with the distances, every dimension kept
        out = handle.export_change(tmp_path / "b_change.laz")
        las = laspy.read(str(out))
        src = laspy.read(str(epochs[1]))
        assert len(las.x) == len(src.x)
        np.testing.assert_array_equal(np.asarray(las.classification),
                                      np.asarray(src.classification))
        np.testing.assert_array_equal(np.asarray(las.gps_time), np.asarray(src.gps_time))
        fxyz = np.column_stack([las.x, las.y, las.z])
        d = np.asarray(las["m3c2_distance"])
        fsig = np.asarray(las["m3c2_significant"]).astype(bool)
        assert fsig.sum() == sig.sum()
        finner = patch_mask(fxyz, -1.0)
        assert abs(np.nanmean(d[finner]) - np.nanmean(attrs["m3c2_distance"][inner])) < 1e-9
        assert las.header.parse_crs() == src.header.parse_crs()


def test_bad_requests_are_one_line_errors(epochs, tmp_path):
    with _site(epochs) as site:
        la, lb = site.scene.layers
        with pytest.raises(ValueError, match="two different"):
            compare_layers(la, la)
        with pytest.raises(ValueError, match="unknown parameter 'cyl_radius'"):
            compare_layers(la, lb, "c2c", cyl_radius=1.0)
        with pytest.raises(ValueError, match="no change to export"):
            site.layer(lb.name).export_change(tmp_path / "x.laz")
        from heritage.monitoring.change import ChangeCancelled

        with pytest.raises(ChangeCancelled):
            compare_layers(la, lb, cancel=lambda: True)
        assert "c2c_distance" not in lb.data.attributes
