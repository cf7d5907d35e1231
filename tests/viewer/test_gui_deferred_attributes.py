"""A big LAS/LAZ opens in the window with its lean attributes; colouring by one that
stayed in the file (GPS time) reads it in the background, with progress, then colours."""

from __future__ import annotations

import numpy as np
import pytest

from loaders import ingest
from tests.viewer.gui_support import open_and_wait, settled_image

pytestmark = pytest.mark.gui


def test_colour_by_an_attribute_still_in_the_file(qtbot, window, shared_data, monkeypatch):
    monkeypatch.setenv(ingest.ENV_MODE, "worker")  # (ahn3 is small: force the worker)
    open_and_wait(qtbot, window, shared_data / "pointclouds" / "ahn3_cropped_2.laz")
    layer = window.scene.layers[0]
    attrs = layer.data.attributes
    assert layer.data.metadata["ingest"] == "worker"
    assert attrs.is_deferred("gps_time") and "gps_time" in attrs
    panel = window.properties_panel
    window.scene.select(layer)
    names = [panel.attribute.itemText(i) for i in range(panel.attribute.count())]
    assert "gps_time" in names and "intensity" in names  # offered before it is read
    before = settled_image(qtbot, window)
    panel.attribute.setCurrentText("gps_time")
    job = panel.deferred_job
    assert layer.attribute != "gps_time"  # not yet: it is being read in the background
    assert job in window.jobs  # in the window's progress bar, with Cancel
    qtbot.waitUntil(lambda: layer.attribute == "gps_time", timeout=60_000)
    assert not attrs.deferred and job.done
    assert layer.color_mode == "attribute"
    values = attrs["gps_time"]
    assert len(values) == layer.data.point_count and np.ptp(values) > 0
    after = settled_image(qtbot, window)
    changed = (np.abs(after.astype(int) - before.astype(int)).sum(axis=2) > 40).mean()
    assert changed > 0.05  # coloured by GPS time now
    assert panel.attribute.currentText() == "gps_time"


def test_cancel_reading_an_attribute_keeps_the_layer(qtbot, window, shared_data, monkeypatch):
    monkeypatch.setenv(ingest.ENV_MODE, "worker")
    open_and_wait(qtbot, window, shared_data / "pointclouds" / "ahn3_cropped_2.laz")
    layer = window.scene.layers[0]
    window.scene.select(layer)
    mode = layer.color_mode
    panel = window.properties_panel
    panel.attribute.setCurrentText("point_source_id")
    job = panel.deferred_job
    job.cancel()
    qtbot.waitUntil(lambda: job.done, timeout=60_000)
    qtbot.wait(50)
    attrs = layer.data.attributes
    assert layer.color_mode == mode and layer.attribute != "point_source_id"
    assert "point_source_id" in attrs  # still there, still readable
    if attrs.deferred:  # cancelled before the worker was done (usually)
        attrs.load()
    assert len(attrs["point_source_id"]) == layer.data.point_count


def test_the_window_keeps_a_spare_reader_and_a_load_takes_it(qtbot, window, shared_data,
                                                             monkeypatch):
    monkeypatch.setenv(ingest.ENV_MODE, "worker")
    qtbot.waitUntil(lambda: ingest.spare_pid() is not None, timeout=10_000)  # once shown
    spare = ingest.spare_pid()
    window.jobs.append(object())  # a load running: no spare is started meanwhile
    try:
        ingest.discard_spare()
        window._prestart_reader()
        assert ingest.spare_pid() is None
    finally:
        window.jobs.pop()
    window._prestart_reader()
    spare = ingest.spare_pid()
    assert spare is not None
    open_and_wait(qtbot, window, shared_data / "pointclouds" / "ahn3_cropped_2.laz")
    assert window.scene.layers[0].data.metadata["ingest"] == "worker"
    assert ingest.spare_pid() != spare  # the load took it
    qtbot.waitUntil(lambda: ingest.spare_pid() is not None, timeout=15_000)  # and again
