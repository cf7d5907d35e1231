"""ProjectSession.default_author: written into new annotations that name no author."""

from __future__ import annotations

from heritage.model import Annotation
from viewer.scene import Scene
from viewer.session import ProjectSession


def test_default_author_fills_only_missing_authors(tmp_path):
    session = ProjectSession(Scene(), untitled_recovery=tmp_path / "r.json")
    assert session.default_author == ""
    a = session.add_annotation(Annotation("point", [[0.0, 0.0, 0.0]]))
    assert a.author == ""
    session.default_author = "Li Wei"
    b = session.add_annotation(Annotation("point", [[1.0, 0.0, 0.0]]))
    c = session.add_annotation(Annotation("point", [[2.0, 0.0, 0.0]], author="Zhang San"))
    assert (b.author, c.author) == ("Li Wei", "Zhang San")
    session.undo.undo()
    session.undo.undo()
    session.undo.redo()
    assert session.project.annotations[-1].author == "Li Wei"
