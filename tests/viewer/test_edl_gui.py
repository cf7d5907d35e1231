"""View > Eye-dome lighting settings… in the real window (pytest-qt, Xvfb)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from tests.viewer.gui_support import background_u8, view_image  # noqa: E402
from tests.viewer.test_edl import step_scene  # noqa: E402


def test_edl_dialog_drives_strength_and_radius_live(qtbot, window):
    layer = step_scene().layers[0]
    window.scene.add(layer.data, name="step")
    window.scene.set_decorations(axes=False, scale_bar=False, north_arrow=False)  # data only
    window.renderer.view_preset("top")
    window.renderer.set_point_budget(1_000_000)  # every point in every frame: comparable
    view_image(window)
    plain = view_image(window)
    assert (plain == view_image(window)).all()
    bg = background_u8(window)
    was_bg = np.abs(plain.astype(int) - bg).sum(axis=2) <= 3

    window.edl_settings_action.trigger()
    dlg = window.edl_dialog
    qtbot.waitExposed(dlg)
    assert not dlg.enabled.isChecked()
    assert (dlg.strength.value(), dlg.radius.value()) == (1.0, 1.4)

    def dark_pixels():
        img = view_image(window).astype(int)
        changed = np.abs(img - plain.astype(int)).sum(axis=2) > 3
        assert not (changed & was_bg).any()  # the background never changes (no halos)
        return int((img[..., 0] < 120).sum())

    dlg.strength.setValue(0.05)  # changing a value turns EDL on: live preview
    assert window.scene.edl and window.scene.edl_strength == 0.05
    assert window.edl_action.isChecked()
    weak = dark_pixels()
    dlg.strength.setValue(1.0)
    strong = dark_pixels()
    dlg.radius.setValue(5.0)
    assert window.scene.edl_radius == 5.0
    wide = dark_pixels()
    assert int((plain[..., 0] < 120).sum()) - int(was_bg.sum()) <= weak < strong < wide

    dlg.reset.click()
    assert (window.scene.edl_strength, window.scene.edl_radius) == (1.0, 1.4)
    assert (dlg.strength.value(), dlg.radius.value()) == (1.0, 1.4)
    dlg.enabled.setChecked(False)
    assert window.scene.edl is False and not window.edl_action.isChecked()
    window.edl_action.trigger()  # the toolbar toggle and the dialog stay in step
    assert dlg.enabled.isChecked()
