"""A project session: the scene plus its heritage project document and undo history.

No Qt. Every edit (annotations, measurements, views, layer display changes) goes
through :class:`heritage.undo.UndoStack`, so the GUI, scripts and tests share undo/redo.
The session emits on the scene: ``annotations_changed``, ``measurements_changed``,
``views_changed``, ``tours_changed`` (tour edits: add/rename/delete tours, add/move/edit/
delete stops), ``project_changed`` (saved / dirty state).

Removing and reordering layers are commands on the same stack, so undo after a removal
brings the layer back (its data and display state kept in memory) instead of undoing an
older edit. Unsaved work is autosaved to a recovery file: beside the project, or, for an
untitled session, to ``untitled_recovery`` (default: :func:`default_recovery_dir`).

The project actions of the File menu live here too, so that the window, the command line
and scripts share them: :meth:`ProjectSession.open_project`,
:meth:`~ProjectSession.recover_project` / :meth:`~ProjectSession.recover_untitled`,
:meth:`~ProjectSession.import_annotations` (undoable) and
:meth:`~ProjectSession.change_crs`. Reading layer files is not the session's work: opening
a project says which files to read (:class:`OpenedProject`), and each layer read is handed
back with :meth:`~ProjectSession.restore_layer` (display settings and saved place).
"""

from __future__ import annotations

import copy
import dataclasses
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

from heritage.model import Annotation, Measurement, Tour, TourStop, View, now_iso
from heritage.project import LayerRecord, Project, atomic_write_text
from heritage.undo import Command, UndoStack
from loaders.crs import as_crs, crs_to_text, same_crs

from .scene import Camera, Layer, SavedView, Scene

#: layer properties saved in the project and restored on open
DISPLAY_FIELDS = ("visible", "opacity", "color_mode", "attribute", "colormap", "solid_color",
                  "point_size", "point_size_mode", "point_shape", "contrast")
#: city / building models only: the LOD shown and the object filter expression
FEATURE_FIELDS = ("city_lod", "feature_filter")
#: tile layers only (3D Tiles, OSGB, terrain): the detail (maximum screen-space error,
#: pixels) and the memory of loaded tiles (MB)
TILE_FIELDS = ("max_sse", "tile_memory_mb")
#: file name of the recovery file of an untitled session
UNTITLED_RECOVERY_NAME = "untitled-recovery.realscene.json"


def default_recovery_dir() -> Path:
    """Where an untitled session's recovery file lives: ``$REALSCENE_STATE_DIR`` if set,
    else the user's state folder (``$XDG_STATE_HOME/realscene``, by default
    ``~/.local/state/realscene``, on Linux; the platform's equivalent elsewhere)."""
    env = os.environ.get("REALSCENE_STATE_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_state_dir("realscene", appauthor=False))


@dataclasses.dataclass
class OpenedProject:
    """What opening a project (or recovering one) leaves to the caller: read each file of
    ``to_load`` (in the background or not) and hand the layer back with
    :meth:`ProjectSession.restore_layer`; offer to relink ``missing``; show ``warnings``
    (layers outside the project folder, a CRS not understood)."""

    project: Project
    to_load: list[tuple[LayerRecord, Path | str]]
    missing: list[LayerRecord]
    warnings: list[str]
    #: the recovery file the work came from (None: the project file itself)
    recovered_from: Path | None = None


@dataclasses.dataclass
class AnnotationImport:
    """The result of :meth:`ProjectSession.import_annotations`."""

    path: Path
    format: str
    #: annotations in the file; of them, new ones and ones that replaced an existing id
    read: int
    added: int
    replaced: int
    #: the file states no CRS: its coordinates are taken to be in this (the project's)
    assumed_crs: str | None = None


@dataclasses.dataclass
class CrsChange:
    """The result of :meth:`ProjectSession.change_crs`: ``changed`` False when refused
    (``message`` says why); ``reload`` the layers whose files must be read again into the
    new CRS (marked ``loading`` until their data is handed back with
    :meth:`ProjectSession.replace_layer_data`)."""

    changed: bool
    message: str
    reload: list[Layer] = dataclasses.field(default_factory=list)


#: the text a project saves its CRS as (one CRS-to-text, see loaders.crs)
crs_text = crs_to_text

#: metadata key of a layer's data read with a CRS the user assigned (its saved text)
ASSIGNED_CRS = "assigned_crs"


class ProjectSession:
    def __init__(self, scene: Scene, project: Project | None = None,
                 untitled_recovery: str | Path | None = None) -> None:
        self.scene = scene
        self.project = project or Project()
        self.undo = UndoStack()
        self.undo.listeners.append(lambda: self.scene.emit("project_changed"))
        #: where unsaved work of an untitled session is autosaved
        self.untitled_recovery = Path(untitled_recovery) if untitled_recovery else \
            default_recovery_dir() / UNTITLED_RECOVERY_NAME
        #: the recovery file this session wrote (or recovered from): removed once the
        #: work is saved or deliberately discarded
        self.recovery_file: Path | None = None
        #: position of each project layer record, by layer id (see place_layer)
        self._record_rank: dict[int, int] = {}
        #: records of the project whose layers have not been handed back yet (still
        #: loading, or failed to read): they stay in the project when it is saved
        self._unread: list[LayerRecord] = list(self.project.layers)
        #: the author written into new annotations that name none (the window's
        #: Edit > Preferences…, ``realscene annotations --author``)
        self.default_author = ""

    # -- state -----------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        return not self.undo.is_clean()

    def _emit(self, what: str) -> None:
        self.scene.emit(what)

    # -- annotations -----------------------------------------------------------------
    def add_annotation(self, annotation: Annotation, camera: Camera | None = None) -> Annotation:
        if not annotation.author and self.default_author:
            annotation.author = self.default_author
        if annotation.view is None and camera is not None:
            annotation.view = camera.to_dict()

        def do() -> None:
            self.project.annotations.append(annotation)
            self._emit("annotations_changed")

        def undo() -> None:
            self.project.annotations.remove(annotation)
            self._emit("annotations_changed")

        self.undo.push(Command(f"Add {annotation.kind} “{annotation.title}”", do, undo))
        return annotation

    def update_annotation(self, ann_id: str, **changes: Any) -> Annotation:
        annotation = self.project.annotation(ann_id)
        before = copy.deepcopy(annotation.to_dict())
        trial = Annotation.from_dict({**before, **changes})  # validates the change
        after = trial.to_dict()
        after["modified"] = now_iso()

        def apply(state: dict[str, Any]) -> None:
            fresh = Annotation.from_dict(state)
            for key in fresh.__dataclass_fields__:
                setattr(annotation, key, getattr(fresh, key))
            self._emit("annotations_changed")

        self.undo.push(Command(f"Edit “{annotation.title}”", lambda: apply(after),
                               lambda: apply(before)))
        return annotation

    def move_vertex(self, ann_id: str, index: int, xyz) -> Annotation:
        annotation = self.project.annotation(ann_id)
        points = [list(p) for p in annotation.points]
        points[index] = [float(c) for c in xyz]
        return self.update_annotation(ann_id, points=points)

    def delete_annotation(self, ann_id: str) -> None:
        annotation = self.project.annotation(ann_id)
        index = self.project.annotations.index(annotation)

        def do() -> None:
            self.project.annotations.remove(annotation)
            self._emit("annotations_changed")

        def undo() -> None:
            self.project.annotations.insert(index, annotation)
            self._emit("annotations_changed")

        self.undo.push(Command(f"Delete “{annotation.title}”", do, undo))

    # -- proposals (significant change → condition, heritage.monitoring.clusters) ---------
    def proposal(self, proposal_id: str) -> Annotation:
        for a in self.project.proposals:
            if a.id == proposal_id:
                return a
        raise KeyError(proposal_id)

    def propose_annotations(self, changed: str | Path | list, *, date_a: str | None = None,
                            date_b: str | None = None, threshold: float | None = None,
                            lang: str = "en", **options: Any) -> list[Annotation]:
        """Propose one annotation per cluster of significant change (undoable, one step):
        ``changed`` is a LAS/LAZ written by ``compare`` (M3C2 significance, or C2C with
        ``threshold``) or a list of :class:`~heritage.monitoring.clusters.ChangeCluster`.
        Proposals are kept in the project (saved) but are not annotations until accepted.
        LoadError for a file without change dimensions."""
        from heritage.monitoring.clusters import clusters_from_file, propose

        if isinstance(changed, (str, Path)):
            clusters = clusters_from_file(changed, threshold=threshold, date_a=date_a,
                                          date_b=date_b, **options)
        else:
            clusters = list(changed)
        proposals = propose(clusters, lang=lang, author=self.default_author)
        if not proposals:
            return []

        def do() -> None:
            self.project.proposals.extend(proposals)
            self._emit("annotations_changed")

        def undo() -> None:
            for a in proposals:
                self.project.proposals.remove(a)
            self._emit("annotations_changed")

        self.undo.push(Command(f"Propose {len(proposals)} annotations from change", do, undo))
        return proposals

    def accept_proposal(self, proposal_id: str) -> Annotation:
        """The proposal becomes an ordinary annotation (undoable: undo makes it a proposal
        again)."""
        return self.accept_proposals([proposal_id])[0]

    def accept_proposals(self, proposal_ids: list[str] | None = None) -> list[Annotation]:
        """Accept the given proposals (all of them when None) in one undoable step."""
        chosen = [self.proposal(i) for i in proposal_ids] if proposal_ids is not None \
            else list(self.project.proposals)
        if not chosen:
            return []
        places = [self.project.proposals.index(a) for a in chosen]

        def do() -> None:
            for a in chosen:
                self.project.proposals.remove(a)
                a.modified = now_iso()
                self.project.annotations.append(a)
            self._emit("annotations_changed")

        def undo() -> None:
            for a in chosen:
                self.project.annotations.remove(a)
            for at, a in sorted(zip(places, chosen, strict=True), key=lambda t: t[0]):
                self.project.proposals.insert(at, a)
            self._emit("annotations_changed")

        what = f"“{chosen[0].title}”" if len(chosen) == 1 else f"{len(chosen)} proposals"
        self.undo.push(Command(f"Accept {what}", do, undo))
        return chosen

    def reject_proposal(self, proposal_id: str) -> None:
        """Remove a proposal (undoable)."""
        proposal = self.proposal(proposal_id)
        index = self.project.proposals.index(proposal)

        def do() -> None:
            self.project.proposals.remove(proposal)
            self._emit("annotations_changed")

        def undo() -> None:
            self.project.proposals.insert(index, proposal)
            self._emit("annotations_changed")

        self.undo.push(Command(f"Reject “{proposal.title}”", do, undo))

    def add_category(self, label: str, color: tuple[int, int, int]) -> str:
        """Extend the project's vocabulary with a category (undoable); returns its key."""
        vocab = self.project.vocabulary
        key = label.strip().lower().replace(" ", "_")
        if not key:
            raise ValueError("a category needs a name")
        if key in vocab.categories:
            raise ValueError(f"there is already a category “{vocab.categories[key][0]}”")
        before = dict(vocab.categories)

        def do() -> None:
            vocab.add_category(key, label.strip(), color)
            self._emit("vocabulary_changed")

        def undo() -> None:
            vocab.categories = dict(before)
            self._emit("vocabulary_changed")

        self.undo.push(Command(f"Add category “{label.strip()}”", do, undo))
        return key

    # -- measurements ---------------------------------------------------------------------
    def add_measurement(self, measurement: Measurement) -> Measurement:
        def do() -> None:
            self.project.measurements.append(measurement)
            self._emit("measurements_changed")

        def undo() -> None:
            self.project.measurements.remove(measurement)
            self._emit("measurements_changed")

        self.undo.push(Command(f"Measure {measurement.kind.replace('_', ' ')}", do, undo))
        return measurement

    def delete_measurement(self, measurement_id: str) -> None:
        m = next(m for m in self.project.measurements if m.id == measurement_id)
        index = self.project.measurements.index(m)

        def do() -> None:
            self.project.measurements.remove(m)
            self._emit("measurements_changed")

        def undo() -> None:
            self.project.measurements.insert(index, m)
            self._emit("measurements_changed")

        self.undo.push(Command(f"Delete measurement {m.kind}", do, undo))

    def measurement(self, measurement_id: str) -> Measurement:
        return next(m for m in self.project.measurements if m.id == measurement_id)

    def update_measurement(self, measurement_id: str, *, label: str | None = None,
                           visible: bool | None = None) -> Measurement:
        """Rename and/or hide/show a measurement (one undoable edit). Its points and
        value are not edited: a value is measured, never typed in."""
        m = self.measurement(measurement_id)
        before = {"label": m.label, "visible": m.visible}
        after = dict(before)
        if label is not None:
            after["label"] = str(label).strip()
        if visible is not None:
            after["visible"] = bool(visible)
        if after == before:
            return m

        def apply(state: dict[str, Any]) -> None:
            m.label, m.visible = state["label"], state["visible"]
            self._emit("measurements_changed")

        what = "Rename" if after["label"] != before["label"] else \
            ("Show" if after["visible"] else "Hide")
        self.undo.push(Command(f"{what} measurement “{m.label or m.kind}”",
                               lambda: apply(after), lambda: apply(before)))
        return m

    def copy_measurement(self, measurement_id: str) -> Measurement:
        """A duplicate of a measurement (new id and date, same points), right after it."""
        m = self.measurement(measurement_id)
        dup = Measurement(kind=m.kind, points=copy.deepcopy(m.points),
                          label=f"{m.label or m.kind.replace('_', ' ')} (copy)",
                          visible=m.visible)

        def do() -> None:
            self.project.measurements.insert(self.project.measurements.index(m) + 1
                                             if m in self.project.measurements
                                             else len(self.project.measurements), dup)
            self._emit("measurements_changed")

        def undo() -> None:
            self.project.measurements.remove(dup)
            self._emit("measurements_changed")

        self.undo.push(Command(f"Copy measurement “{m.label or m.kind}”", do, undo))
        return dup

    # -- views ------------------------------------------------------------------------------
    def save_view(self, name: str, camera: Camera) -> View:
        view = View(name, camera.to_dict())
        saved = SavedView(name, Camera(**vars(camera)))

        def do() -> None:
            self.project.views.append(view)
            self.scene.views.append(saved)
            self._emit("views_changed")

        def undo() -> None:
            self.project.views.remove(view)
            self.scene.views.remove(saved)
            self._emit("views_changed")

        self.undo.push(Command(f"Save view “{name}”", do, undo))
        return view

    # -- tours ------------------------------------------------------------------------------
    # Each edit is one undoable command and emits ``tours_changed``. Stops are addressed by
    # their index in the tour (the order the tour plays them in).
    def tour(self, tour_id: str) -> Tour:
        for tour in self.project.tours:
            if tour.id == tour_id:
                return tour
        raise KeyError(f"no tour with id {tour_id!r}")

    def add_tour(self, name: str = "") -> Tour:
        """A new, empty tour at the end (named "Tour N" when ``name`` is empty)."""
        taken = {t.name for t in self.project.tours}
        name = str(name).strip()
        if not name:
            n = len(self.project.tours) + 1
            while f"Tour {n}" in taken:
                n += 1
            name = f"Tour {n}"
        tour = Tour(name=name)

        def do() -> None:
            self.project.tours.append(tour)
            self._emit("tours_changed")

        def undo() -> None:
            self.project.tours.remove(tour)
            self._emit("tours_changed")

        self.undo.push(Command(f"Add tour “{name}”", do, undo))
        return tour

    def rename_tour(self, tour_id: str, name: str) -> Tour:
        tour = self.tour(tour_id)
        name = str(name).strip()
        if not name:
            raise ValueError("a tour needs a name")
        before = tour.name
        if name == before:
            return tour

        def apply(value: str) -> None:
            tour.name = value
            self._emit("tours_changed")

        self.undo.push(Command(f"Rename tour “{before}”", lambda: apply(name),
                               lambda: apply(before)))
        return tour

    def delete_tour(self, tour_id: str) -> None:
        tour = self.tour(tour_id)
        index = self.project.tours.index(tour)

        def do() -> None:
            self.project.tours.remove(tour)
            self._emit("tours_changed")

        def undo() -> None:
            self.project.tours.insert(index, tour)
            self._emit("tours_changed")

        self.undo.push(Command(f"Delete tour “{tour.name}”", do, undo))

    def add_stop(self, tour_id: str, *, camera: Camera | dict[str, Any] | None = None,
                 view_id: str | None = None, annotation_id: str | None = None,
                 index: int | None = None, title: str = "", caption: str = "",
                 duration: float = 2.0, pause: float = 2.0) -> TourStop:
        """A stop in tour ``tour_id`` at ``index`` (default: the end): the ``camera`` (a
        view the author has now, stored in the stop), a saved view or an annotation."""
        tour = self.tour(tour_id)
        if isinstance(camera, Camera):
            camera = camera.to_dict()
        if camera is None and view_id is None and annotation_id is None:
            raise ValueError("a tour stop needs a camera, a saved view or an annotation")
        if annotation_id is not None:
            self.project.annotation(annotation_id)  # KeyError for an unknown one
        if view_id is not None and not any(v.id == view_id for v in self.project.views):
            raise KeyError(f"no saved view with id {view_id!r}")
        stop = TourStop(view_id=view_id, annotation_id=annotation_id, duration=duration,
                        pause=pause, camera=camera, title=title, caption=caption)
        at = len(tour.stops) if index is None else max(0, min(int(index), len(tour.stops)))

        def do() -> None:
            tour.stops.insert(at, stop)
            self._emit("tours_changed")

        def undo() -> None:
            tour.stops.remove(stop)
            self._emit("tours_changed")

        self.undo.push(Command(f"Add stop to tour “{tour.name}”", do, undo))
        return stop

    def move_stop(self, tour_id: str, index: int, new_index: int) -> None:
        """Move the stop at ``index`` to ``new_index`` (clamped to the tour)."""
        tour = self.tour(tour_id)
        stop = tour.stops[index]
        old = tour.stops.index(stop)
        new = max(0, min(int(new_index), len(tour.stops) - 1))
        if new == old:
            return

        def place(at: int) -> None:
            tour.stops.remove(stop)
            tour.stops.insert(at, stop)
            self._emit("tours_changed")

        self.undo.push(Command(f"Move stop {old + 1} of tour “{tour.name}”",
                               lambda: place(new), lambda: place(old)))

    def update_stop(self, tour_id: str, index: int, *, title: str | None = None,
                    caption: str | None = None, duration: float | None = None,
                    pause: float | None = None) -> TourStop:
        """Change a stop's title, caption, duration and/or pause (one undoable edit)."""
        tour = self.tour(tour_id)
        stop = tour.stops[index]
        before = {"title": stop.title, "caption": stop.caption, "duration": stop.duration,
                  "pause": stop.pause}
        after = dict(before)
        for key, value in (("title", title), ("caption", caption)):
            if value is not None:
                after[key] = str(value)
        for key, value in (("duration", duration), ("pause", pause)):
            if value is not None:
                if float(value) < 0:
                    raise ValueError(f"a tour stop's {key} cannot be negative")
                after[key] = float(value)
        if after == before:
            return stop

        def apply(state: dict[str, Any]) -> None:
            for key, value in state.items():
                setattr(stop, key, value)
            self._emit("tours_changed")

        self.undo.push(Command(f"Edit stop {index + 1} of tour “{tour.name}”",
                               lambda: apply(after), lambda: apply(before)))
        return stop

    def delete_stop(self, tour_id: str, index: int) -> None:
        tour = self.tour(tour_id)
        stop = tour.stops[index]
        at = tour.stops.index(stop)

        def do() -> None:
            tour.stops.remove(stop)
            self._emit("tours_changed")

        def undo() -> None:
            tour.stops.insert(at, stop)
            self._emit("tours_changed")

        self.undo.push(Command(f"Delete stop {at + 1} of tour “{tour.name}”", do, undo))

    # -- layers -----------------------------------------------------------------------------
    def update_layer(self, layer: Layer, **changes: Any) -> None:
        """Undoable change of layer display properties."""
        before = {k: copy.deepcopy(getattr(layer, k)) for k in changes}

        def apply(state: dict[str, Any]) -> None:
            self.scene.update(layer, **state)
            if "units" in state:  # lengths are shown in the scene's unit: relabel them
                self._emit("measurements_changed")

        self.undo.push(Command(f"Change {', '.join(changes)} of {layer.name}",
                               lambda: apply(changes), lambda: apply(before)))

    def remove_layer(self, layer: Layer) -> None:
        """Undoable removal: undo puts the same layer (data, display state, selection)
        back at its position, without reading its file again."""
        scene = self.scene
        if layer not in scene.layers:
            return
        index = scene.layers.index(layer)
        was_selected = scene.selected is layer

        def undo() -> None:
            scene.insert(layer, index)
            if was_selected:
                scene.select(layer)

        self.undo.push(Command(f"Remove layer {layer.name}", lambda: scene.remove(layer),
                               undo))

    def move_layer(self, layer: Layer, new_index: int) -> None:
        """Undoable change of a layer's place in the layer order (= draw order)."""
        scene = self.scene
        if layer not in scene.layers:
            return
        old = scene.layers.index(layer)
        new = max(0, min(int(new_index), len(scene.layers) - 1))
        if new == old:
            return
        self.undo.push(Command(f"Move layer {layer.name}", lambda: scene.move(layer, new),
                               lambda: scene.move(layer, old)))

    def place_layer(self, layer: Layer, record: LayerRecord) -> None:
        """Put a layer opened from a project record at its saved place in the layer order
        (files load in parallel and finish in any order). Not an edit: not undoable."""
        try:
            rank = next(i for i, r in enumerate(self.project.layers) if r is record)
        except StopIteration:
            return
        self._record_rank[layer.id] = rank
        self._unread = [r for r in self._unread if r is not record]
        layers = self.scene.layers
        if layer not in layers:
            return
        others = [l for l in layers if l is not layer]
        # before the first layer that comes later in the project (or was not in it)
        index = next((i for i, l in enumerate(others)
                      if self._record_rank.get(l.id, len(self.project.layers)) > rank),
                     len(others))
        if layers.index(layer) != index:
            self.scene.move(layer, index)

    def record_layer(self, layer: Layer) -> LayerRecord:
        display = {}
        for key in DISPLAY_FIELDS:
            value = getattr(layer, key)
            display[key] = list(value) if isinstance(value, tuple) else value
        display["hidden_classes"] = sorted(int(c) for c in layer.hidden_classes)
        if layer.up_axis is not None:  # which axis of the file is up
            display["up_axis"] = layer.up_axis
        if layer.units is not None:  # the file's length unit (scaled into metres)
            display["units"] = layer.units
        if layer.is_feature_model:
            for key in FEATURE_FIELDS:
                display[key] = getattr(layer, key)
            display["hidden_features"] = sorted(layer.hidden_features)
        if getattr(layer.data, "kind", None) == "tiles":
            for key in TILE_FIELDS:
                if getattr(layer, key, None) is not None:
                    display[key] = getattr(layer, key)
        ortho = layer.data.metadata.get("ortho")  # a draped orthophoto (terrain, mesh, tiles)
        if ortho:
            display["drape"] = self.project.relative(ortho)
        transform = None if np.allclose(layer.transform, np.eye(4)) else \
            np.asarray(layer.transform, dtype=float).tolist()
        return LayerRecord(path=self.project.relative(layer.path) if layer.path else "",
                           name=layer.name, transform=transform, display=display,
                           crs=layer.data.metadata.get(ASSIGNED_CRS) or None)

    @staticmethod
    def apply_record(layer: Layer, record: LayerRecord) -> dict[str, Any]:
        """Display settings of ``record`` as keyword arguments for ``scene.update``."""
        changes: dict[str, Any] = {}
        for key in DISPLAY_FIELDS:
            if key in record.display:
                value = record.display[key]
                changes[key] = tuple(value) if isinstance(value, list) else value
        if "hidden_classes" in record.display:
            changes["hidden_classes"] = set(record.display["hidden_classes"])
        if layer.up_axis is not None and record.display.get("up_axis") in ("Y", "Z"):
            changes["up_axis"] = record.display["up_axis"]
        if record.display.get("units") and layer.data.crs is None:
            changes["units"] = record.display["units"]
        if layer.is_feature_model:
            for key in FEATURE_FIELDS:
                if key in record.display:
                    changes[key] = record.display[key]
            if "hidden_features" in record.display:
                changes["hidden_features"] = {str(f) for f in record.display["hidden_features"]}
        if getattr(layer.data, "kind", None) == "tiles":
            for key in TILE_FIELDS:
                if record.display.get(key) is not None and hasattr(layer, key):
                    changes[key] = record.display[key]
        if record.transform is not None:
            changes["transform"] = np.asarray(record.transform, dtype=float)
        if record.name:
            changes["name"] = record.name
        return changes

    # -- document -------------------------------------------------------------------------------
    def sync_to_project(self) -> Project:
        """Copy the scene's layers, CRS and views into the project document."""
        known = {r.path: r for r in self.project.layers}
        records = []
        for layer in self.scene.layers:
            if not layer.path:
                continue
            rec = self.record_layer(layer)
            old = known.get(rec.path)
            if old is not None and old.sha256:
                rec.sha256 = old.sha256
            records.append(rec)
        # layers not read yet (loading, or failed) and missing files stay in the project
        present = {r.path for r in records}
        records += [r for r in self._unread if r.path not in present]
        present |= {r.path for r in self._unread}
        records += [r for r in self.project.missing_layers() if r.path not in present]
        self.project.layers = records
        if self.project.crs is None:
            self.project.crs = next((crs_text(l.data.crs) for l in self.scene.layers
                                     if l.data.crs is not None), None)
        return self.project

    def save(self, path: str | Path | None = None) -> Path:
        self.sync_to_project()
        if path is not None and self.project.path is None:
            self.project.path = Path(path).resolve()
            for rec, layer in zip(self.project.layers, self.scene.layers, strict=False):
                if layer.path:
                    rec.path = self.project.relative(layer.path)
                if rec.display.get("drape") and layer.data.metadata.get("ortho"):
                    rec.display["drape"] = self.project.relative(layer.data.metadata["ortho"])
            # media linked before the project had a file are kept relative to it from now
            for a in self.project.annotations:
                a.media = [self.project.relative(m) if Path(m).is_absolute() else m
                           for m in a.media]
        for rec in self.project.layers:
            absolute = self.project.absolute(rec.path)
            if rec.sha256 is None and absolute.is_file():
                from heritage.project import file_sha256

                rec.sha256 = file_sha256(absolute)
        out = self.project.save(path)
        self.undo.set_clean()
        self.discard_recovery()  # the work is in the project file now
        return out

    def autosave(self) -> Path | None:
        """Write unsaved work to the recovery file (beside the project, or the untitled
        recovery file); returns it, or None when there is nothing unsaved."""
        if not self.dirty:
            return None
        self.sync_to_project()
        if self.project.path is not None:
            target = self.project.autosave()
        else:
            # an untitled project's relative paths are relative to the working folder:
            # the recovery file (elsewhere) stores them absolute
            doc = copy.copy(self.project)
            doc.layers = [dataclasses.replace(r, path=str(self.project.location(r.path)))
                          for r in self.project.layers]
            target = self.untitled_recovery
            atomic_write_text(target, doc.to_json())
        if self.recovery_file is not None and self.recovery_file != target:
            self.discard_recovery()  # e.g. the untitled one after "Save as"
        self.recovery_file = target
        return target

    def discard_recovery(self) -> None:
        """Remove the recovery file this session wrote or recovered from (the work was
        saved, or the user chose to discard it). Others' recovery files are left."""
        if self.recovery_file is None:
            return
        try:
            self.recovery_file.unlink()
        except FileNotFoundError:
            pass
        self.recovery_file = None

    def untitled_recovery_candidate(self) -> Path | None:
        """The untitled recovery file left by a session that did not close normally."""
        path = self.untitled_recovery
        return path if path.is_file() else None

    def use_project(self, project: Project) -> None:
        """Make ``project`` the session's document with an empty, clean undo history.
        A recovery file of the previous document stays only if it holds unsaved work."""
        if not self.dirty:
            self.discard_recovery()
        self.recovery_file = None
        self.project = project
        self._record_rank = {}
        self._unread = []
        self.undo.clear()
        self.undo.set_clean()

    def adopt_recovered(self, recovery_file: str | Path, project_path: str | Path | None
                        ) -> None:
        """The project loaded from ``recovery_file`` is unsaved work on ``project_path``
        (None: untitled work, which stays untitled): not clean, nothing to undo; the
        recovery file is kept until the work is saved or discarded."""
        self.project.path = Path(project_path).resolve() if project_path else None
        self.undo.clear()
        self.undo.set_unsaved()  # recovered work is not saved yet
        self.recovery_file = Path(recovery_file)

    # -- project actions (File menu; also the CLI and scripts) -------------------------------
    def new_project(self) -> Project:
        """Start a new, untitled project: the scene's layers are removed (their streamed
        sources closed), annotations, measurements, views and tours are gone, the scene
        has no CRS, the undo history is empty and clean. Unsaved changes are dropped: ask
        first. Returns the new project."""
        scene = self.scene
        for layer in list(scene.layers):
            scene.remove(layer)
            lod = getattr(layer, "lod", None)
            if lod is not None and hasattr(lod, "close"):
                try:
                    lod.close()
                except Exception:  # noqa: BLE001 - closing must not fail the caller
                    pass
        if scene.crs is not None:
            scene.set_crs(None)
        self.use_project(Project())
        scene.last_pick = None
        self.load_views()
        self._emit("annotations_changed")
        self._emit("measurements_changed")
        self._emit("tours_changed")
        self._emit("project_changed")
        return self.project

    def close_project(self) -> None:
        """Close the project: as :meth:`new_project` (an empty scene and an untitled,
        empty document), for the window to stay open empty. Ask about unsaved changes
        first."""
        self.new_project()

    def opening_view(self) -> SavedView | None:
        """The camera a project opens on: its first saved view (None when it has none:
        fit the data)."""
        return self.scene.views[0] if self.scene.views else None

    def open_project(self, path: str | Path | Project) -> OpenedProject:
        """Make the project file ``path`` (or a loaded :class:`Project`) this session's
        document: the scene's layers are removed, its CRS, views, annotations and
        measurements are the project's, the undo history is empty and clean. The layer
        files are not read here: the result lists them (``to_load``), with the records
        whose files are missing; records never handed back (a file that fails to read)
        stay in the project when it is saved. Raises
        :class:`heritage.project.ProjectError` (nothing changed) when the file cannot be
        read. Unsaved changes are replaced: ask first."""
        project = path if isinstance(path, Project) else Project.load(path)
        for layer in list(self.scene.layers):
            self.scene.remove(layer)
        self.use_project(project)
        warnings = list(project.warnings)
        if project.crs:
            try:
                self.scene.set_crs(as_crs(project.crs))
            except ValueError as exc:
                warnings.append(f"Project CRS not understood: {exc}")
        self.load_views()
        missing = project.missing_layers()
        to_load = [(r, project.location(r.path)) for r in project.layers if r not in missing]
        self._unread = [r for r, _path in to_load]
        self._emit("annotations_changed")
        self._emit("measurements_changed")
        self._emit("tours_changed")
        return OpenedProject(project, to_load, missing, warnings)

    def recover_project(self, path: str | Path) -> OpenedProject:
        """Open the recovery file of the project ``path`` (left by a session that did not
        close normally): the result is unsaved work on ``path``."""
        from heritage.project import recovery_path

        recovery = recovery_path(path)
        opened = self.open_project(recovery)
        self.adopt_recovered(recovery, path)
        opened.recovered_from = recovery
        return opened

    def recover_untitled(self) -> OpenedProject:
        """Open the untitled recovery file: the result is untitled, unsaved work."""
        recovery = self.untitled_recovery
        opened = self.open_project(recovery)
        self.adopt_recovered(recovery, None)
        opened.recovered_from = recovery
        return opened

    def relink_layer(self, record: LayerRecord, new_file: str | Path) -> Path:
        """Point a missing layer's record at ``new_file`` (then read it and hand it back
        with :meth:`restore_layer`); returns the file."""
        self.project.relink(record, new_file)
        return Path(new_file).resolve()

    def restore_layer(self, layer: Layer, record: LayerRecord) -> None:
        """A layer read for a project record: its saved display settings, transform and
        name, at its saved place in the layer order. Not an edit: not undoable."""
        self.scene.update(layer, **self.apply_record(layer, record))
        self.place_layer(layer, record)

    def replace_layer_data(self, layer: Layer, data: Any, lod: Any = None) -> None:
        """The data of a layer read again (e.g. into a new scene CRS), in one ``data``
        event; the layer keeps its display settings and place. Not undoable."""
        layer.lod = lod
        layer.loading = False
        self.scene.update(layer, data=data)

    def import_annotations(self, path: str | Path) -> AnnotationImport:
        """Merge the annotations of a Web Annotation / GeoJSON / CSV file or another
        project into this one, as one undoable edit: same id replaces, new ids are added,
        unknown categories and condition grades join the vocabulary, the project takes the
        file's CRS when it had none. A file in another CRS is refused
        (:class:`heritage.exchange.ExchangeError`, a ValueError) before anything changes.

        The annotation objects are kept (not copied), so edits made before or after the
        import undo and redo on the objects the project shows."""
        from heritage.exchange import merge_into, read_file

        path = Path(path)
        result = read_file(path)
        project = self.project
        vocab = project.vocabulary
        trial = copy.copy(project)
        trial.annotations = list(project.annotations)
        trial.vocabulary = dataclasses.replace(vocab, categories=dict(vocab.categories),
                                               conditions=dict(vocab.conditions))
        added, replaced = merge_into(trial, result, path)  # raises before anything changes
        before = (list(project.annotations), project.crs, dict(vocab.categories),
                  dict(vocab.conditions))
        after = (trial.annotations, trial.crs, trial.vocabulary.categories,
                 trial.vocabulary.conditions)

        def apply(state: tuple) -> None:
            annotations, crs, categories, conditions = state
            project.annotations = list(annotations)
            project.crs = crs
            vocab.categories, vocab.conditions = dict(categories), dict(conditions)
            self._emit("vocabulary_changed")
            self._emit("annotations_changed")

        self.undo.push(Command(f"Import annotations from {path.name}", lambda: apply(after),
                               lambda: apply(before)))
        assumed = project.crs if result.crs is None and project.crs else None
        return AnnotationImport(path, result.format, len(result.annotations), added,
                                replaced, assumed)

    def change_crs(self, crs: Any, *, loading: bool = False,
                   read: Callable[[str, Any], Any] | None = None) -> CrsChange:
        """Make ``crs`` the scene CRS. Layers that know their CRS must be read again and
        transformed into it: with ``read(path, crs) -> data`` that happens here (a
        script, the command line; a layer whose CRS the user assigned is read with
        ``read(path, crs, assign_crs=TEXT)``), else they are returned in ``reload``,
        marked ``loading``, for the caller to read (the window, in the background).
        Other layers are redrawn about the new origin. Refused (``changed`` False, with
        the reason) while the project holds annotations or measurements, whose
        coordinates are in the current CRS, or while files are being opened
        (``loading``). Not undoable."""
        from loaders import georef

        scene, project = self.scene, self.project
        crs = as_crs(crs)
        old = scene.crs
        if old is not None and same_crs(old, crs):
            scene.set_crs(crs)
            project.crs = crs_text(crs)
            return CrsChange(True, "same coordinate system")
        if old is not None and (project.annotations or project.measurements):
            return CrsChange(False, (
                "This project's annotations and measurements are recorded in "
                f"{crs_text(old)}; changing the scene CRS would move them. "
                "Start a new project to work in another CRS."))
        if loading:
            return CrsChange(False, "Wait until the files being opened have loaded.")
        reload = [l for l in scene.layers if l.data.crs is not None and l.path
                  and georef.needs_reprojection(l.data.crs, crs)]
        if scene.origin is not None and old is not None:
            try:
                moved = georef.transform_points(scene.origin, old, crs)[0]
                if np.isfinite(moved).all():
                    scene.origin = np.round(moved)
            except ValueError:
                pass
        scene.set_crs(crs)
        project.crs = crs_text(crs)
        for layer in scene.layers:
            if layer in reload:
                scene.update(layer, loading=True)
            else:  # redrawn about the new origin
                scene.update(layer, data=layer.data)
        if read is not None:
            for i, layer in enumerate(reload):
                assigned = layer.data.metadata.get(ASSIGNED_CRS)
                try:  # (a CRS the user assigned to the file is given again)
                    data = (read(str(layer.path), crs, assign_crs=assigned) if assigned
                            else read(str(layer.path), crs))
                except BaseException:
                    for left in reload[i:]:  # kept as they were
                        scene.update(left, loading=False)
                    raise
                self.replace_layer_data(layer, data)
        return CrsChange(True, f"{len(reload)} layer(s) transformed", reload)

    def assigned_crs(self, path: str | Path) -> str | None:
        """The CRS the user assigned to the project layer of file ``path`` (saved text),
        None when the file's own CRS is used."""
        target = Path(path)
        for record in self.project.layers + self._unread:
            if record.crs and self.project.absolute(record.path) == target:
                return record.crs
        return None

    def assign_layer_crs(self, layer: Layer, data: Any, lod: Any = None) -> None:
        """Give ``layer`` the data read again with a CRS the user assigned (see
        :func:`viewer.pipeline.assign_crs`: ``data.metadata["assigned_crs"]`` holds the
        CRS's text, saved in the layer's project record). The scene takes the CRS when it
        had none. One undoable edit: undo brings back the layer's data as it was."""
        scene, project = self.scene, self.project
        before = (layer.data, layer.lod, scene.crs, project.crs)
        scene_crs = scene.crs if scene.crs is not None else data.crs
        after = (data, lod, scene_crs, project.crs if scene.crs is not None else
                 (crs_text(scene_crs) if scene_crs is not None else None))

        def apply(state: tuple) -> None:
            new_data, new_lod, new_scene_crs, new_project_crs = state
            if scene.crs is not new_scene_crs:
                scene.set_crs(new_scene_crs)
            project.crs = new_project_crs
            layer.lod = new_lod
            scene.update(layer, data=new_data)

        text = data.metadata.get(ASSIGNED_CRS) or crs_text(data.crs) or "no CRS"
        self.undo.push(Command(f"Assign CRS {text[:40]} to “{layer.name}”",
                               lambda: apply(after), lambda: apply(before)))

    def load_views(self) -> None:
        """Put the project's saved views into the scene."""
        self.scene.views = [SavedView(v.name, Camera(**{
            "position": tuple(v.camera["position"]),
            "focal_point": tuple(v.camera["focal_point"]),
            "view_up": tuple(v.camera["view_up"]),
            "parallel": bool(v.camera.get("parallel", False))})) for v in self.project.views]
        self._emit("views_changed")
