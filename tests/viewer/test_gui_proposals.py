"""Change → condition in the real window: annotations proposed from a compared point cloud
are listed under "Proposed" in the Annotations panel; accept (undoable), reject, accept
all; after save and reopen the accepted ones are annotations, the rest still proposals."""

from __future__ import annotations

import laspy
import numpy as np
import pytest

pytestmark = pytest.mark.gui

from PySide6 import QtCore  # noqa: E402

from tests.viewer.gui_support import open_and_wait  # noqa: E402


def _compared_laz(path):
    """A ground of 40 x 40 m as ``compare --method m3c2`` writes it: three patches of
    significant change (two losses, one rise) and noise elsewhere."""
    rng = np.random.default_rng(7)
    xy = rng.uniform(0.0, 40.0, (40000, 2))
    d = rng.normal(0.0, 0.003, len(xy))
    patches = (((8, 8), -0.10), ((30, 10), 0.06), ((20, 32), -0.04))
    for (cx, cy), shift in patches:
        d[(np.abs(xy[:, 0] - cx) < 3) & (np.abs(xy[:, 1] - cy) < 2)] += shift
    header = laspy.LasHeader(point_format=3, version="1.4")
    header.scales = [0.001] * 3
    header.offsets = [85000.0, 447000.0, 0.0]
    header.add_extra_dims([laspy.ExtraBytesParams("m3c2_distance", "f8"),
                           laspy.ExtraBytesParams("m3c2_significant", "u1")])
    las = laspy.LasData(header)
    las.x = 85000.0 + xy[:, 0]
    las.y = 447000.0 + xy[:, 1]
    las.z = np.full(len(xy), 2.0) + d
    las["m3c2_distance"] = d
    las["m3c2_significant"] = (np.abs(d) > 0.02).astype(np.uint8)
    las.write(str(path))
    return path


def _select(panel, row):
    panel.proposal_list.clearSelection()
    panel.proposal_list.item(row).setSelected(True)


def test_accept_undo_reject_save_reopen(qtbot, window, tmp_path):
    changed = _compared_laz(tmp_path / "change.laz")
    open_and_wait(qtbot, window, changed)
    panel = window.annotations_panel
    assert not panel.proposal_list.isVisible()  # nothing proposed yet
    assert panel.propose_from_change(changed) == 3
    proposals = list(window.session.project.proposals)
    assert panel.proposal_list.count() == 3 and panel.proposal_list.isVisible()
    assert panel.list.count() == 0  # proposals are not annotations
    assert "3" in panel.proposals_label.text()
    assert [p.category for p in proposals].count("material_loss") == 2
    # accept the first: an ordinary annotation, selected in the list
    _select(panel, 0)
    qtbot.mouseClick(panel.accept_button, QtCore.Qt.LeftButton)
    assert [a.id for a in window.session.project.annotations] == [proposals[0].id]
    assert panel.list.count() == 1 and panel.current_id() == proposals[0].id
    assert panel.proposal_list.count() == 2
    # undo: a proposal again
    window.session.undo.undo()
    assert panel.list.count() == 0 and panel.proposal_list.count() == 3
    window.session.undo.redo()
    assert panel.list.count() == 1 and panel.proposal_list.count() == 2
    # reject the second
    _select(panel, 0)
    assert panel.proposal_list.item(0).data(QtCore.Qt.UserRole) == proposals[1].id
    qtbot.mouseClick(panel.reject_button, QtCore.Qt.LeftButton)
    assert [p.id for p in window.session.project.proposals] == [proposals[2].id]
    assert panel.list.count() == 1
    window.grab().save(str(tmp_path / "proposals.png"))
    window.grab().save("/tmp/K_proposals.png")
    # save & reopen: the accepted one is an annotation, the third still a proposal
    out = tmp_path / "site.realscene.json"
    window.session.save(out)
    with qtbot.waitSignal(window.all_loads_finished, timeout=60_000):
        window.open_project(str(out))
    assert [a.id for a in window.session.project.annotations] == [proposals[0].id]
    assert panel.list.count() == 1 and panel.proposal_list.count() == 1
    # accept all
    qtbot.mouseClick(panel.accept_all_button, QtCore.Qt.LeftButton)
    assert panel.list.count() == 2 and window.session.project.proposals == []
    assert not panel.proposal_list.isVisible()
    assert "0" in panel.proposals_label.text()
