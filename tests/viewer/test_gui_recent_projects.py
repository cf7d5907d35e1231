"""Projects are recent files too: opening one puts it in File > Open recent, and choosing
it there opens it as a project (not as a data file)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .gui_support import LOAD_TIMEOUT_MS

pytestmark = pytest.mark.gui

SITE = Path(__file__).resolve().parents[2] / "assets" / "sample_site"


def test_a_recent_project_opens_as_a_project_and_is_remembered(window, qtbot, tmp_path):
    folder = tmp_path / "太和殿"
    shutil.copytree(SITE, folder)
    project = folder / "delft.realscene.json"
    window.project_actions.settings.setValue("recent_files", [str(project.resolve())])
    window.project_actions.refresh_recent()
    action = window.recent_menu.actions()[0]
    assert action.text() == project.name
    with qtbot.waitSignal(window.all_loads_finished, timeout=LOAD_TIMEOUT_MS):
        action.trigger()
    assert Path(window.session.project.path).resolve() == project.resolve()
    names = [layer.name for layer in window.scene.layers]
    assert len(names) >= 2 and not any(n.endswith(".realscene.json") for n in names)
    assert window.recent_files()[0] == str(project.resolve())
    # opened any other way, it is remembered too
    window.project_actions.settings.setValue("recent_files", [])
    with qtbot.waitSignal(window.all_loads_finished, timeout=LOAD_TIMEOUT_MS):
        window.project_actions.open_project(str(project))
    assert window.recent_files() == [str(project.resolve())]
