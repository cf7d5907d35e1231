"""Properties of a tiled layer (3D Tiles, OSGB, terrain): detail, memory, live status.

A tile layer (:class:`loaders.tiles.TileSet` data) streams: the renderer's
:class:`viewer.tile_layer.TileDraw` keeps a :class:`loaders.tiles.TileStream` that loads
the tiles the view needs in the background. This box, shown in the Properties panel for
such a layer, edits what the scene model keeps of it (``max_sse``: the screen-space
error in pixels a tile may show before its children replace it, ``tile_memory_mb``: the
cache of loaded tiles), through the session so the changes can be undone and are saved
in projects, and shows the stream's status ("tiles: drawn / loaded / pending, MB") on a
QTimer (twice a second, not per frame: reading the counts is cheap, a label update per
frame is not). The tileset's warnings (tiles that failed to load, the CRS it is drawn in)
are listed here and each said once in the status bar. Every tile layer (a terrain, OSGB,
3D Tiles: ``TileSet.drape``) offers "Drape orthophoto…": the GeoTIFF is opened in a
background job, then the layer's tiles are read again, textured, as one undoable edit
of the session (Edit > Undo); "Remove orthophoto" takes it off (undoable too). The
Properties panel's buttons for mesh layers use the same dialog and undrape.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6 import QtCore, QtWidgets

from ..scene import Layer, Scene

# the detail control's range (maximum screen-space error, pixels) and default
SSE_RANGE = (1, 64)
DEFAULT_SSE = 16
# the memory budget's range (MB of loaded tiles) and default (TileStream's 768 MB)
MEMORY_RANGE = (64, 16384)
DEFAULT_MEMORY_MB = 768
# how often the status line is refreshed while a tile layer is shown (ms)
STATUS_MS = 500
# warnings listed in the box (the rest are counted)
SHOWN_WARNINGS = 4


def is_draped(layer: Layer | None) -> bool:
    """True for a layer with an orthophoto draped on it (a mesh, terrain or tiles)."""
    return layer is not None and bool(getattr(layer.data, "metadata", {}).get("ortho"))


def is_tile_layer(layer: Layer | None) -> bool:
    """True for a layer whose data is a tiled dataset (kind "tiles")."""
    return layer is not None and getattr(layer.data, "kind", None) == "tiles"


def format_status(status: dict[str, Any] | None) -> str:
    """The numbers of a status line: "drawn / loaded / pending, MB" (the caller
    translates the words around them)."""
    if not status:
        return ""
    pending = int(status.get("pending", 0))
    mb = status.get("megabytes")
    if mb is None:
        mb = status.get("bytes", 0) / 2**20
    return QtCore.QCoreApplication.translate(
        "TileLayerBox", "tiles: {drawn} drawn / {loaded} loaded / {pending} pending, "
        "{mb} MB").format(drawn=int(status.get("drawn", 0)),
                          loaded=int(status.get("loaded", 0)), pending=pending,
                          mb=f"{float(mb):.1f}" if float(mb) < 10 else f"{float(mb):.0f}")


class TileLayerBox(QtWidgets.QGroupBox):
    """Detail, memory budget, live status, warnings and drape of the selected tile
    layer. ``status_for(layer)`` (set by the window: the renderer's counts) gives the
    status dict (drawn, loaded, pending, megabytes, warnings) or None."""

    def __init__(self, scene: Scene, session=None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tileLayerBox")
        self.setTitle(self.tr("Tiles"))
        self.scene = scene
        self.session = session
        self.layer: Layer | None = None
        self.status_for: Callable[[Layer], dict[str, Any] | None] | None = None
        # warnings already said in the status bar, per layer id (said once)
        self._said: dict[int, set[str]] = {}
        self._updating = False
        self.drape_job = None

        self.detail = QtWidgets.QSpinBox(objectName="tileDetail")
        self.detail.setRange(*SSE_RANGE)
        self.detail.setValue(DEFAULT_SSE)
        self.detail.setSuffix(self.tr(" px"))
        self.detail.setToolTip(self.tr(
            "Maximum screen-space error: how many pixels of error a tile may show before "
            "finer tiles replace it. Smaller: more detail, more tiles to load."))
        self.memory = QtWidgets.QSpinBox(objectName="tileMemory")
        self.memory.setRange(*MEMORY_RANGE)
        self.memory.setSingleStep(64)
        self.memory.setValue(DEFAULT_MEMORY_MB)
        self.memory.setSuffix(self.tr(" MB"))
        self.memory.setToolTip(self.tr(
            "Memory for loaded tiles: beyond it the tiles not drawn are dropped first"))
        self.status = QtWidgets.QLabel("", objectName="tileStatus")
        self.status.setWordWrap(True)
        self.warnings = QtWidgets.QLabel("", objectName="tileWarnings")
        self.warnings.setWordWrap(True)
        self.warnings.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        self.drape_button = QtWidgets.QPushButton(self.tr("Drape orthophoto…"),
                                                  objectName="drapeOrtho")
        self.drape_button.setToolTip(self.tr(
            "Show an orthophoto GeoTIFF on this terrain as its texture"))
        form = QtWidgets.QFormLayout(self)
        form.setContentsMargins(4, 4, 4, 4)
        form.addRow(self.tr("Detail"), self.detail)
        form.addRow(self.tr("Memory"), self.memory)
        form.addRow(self.status)
        form.addRow(self.warnings)
        form.addRow(self.drape_button)
        self.undrape_button = QtWidgets.QPushButton(self.tr("Remove orthophoto"),
                                                    objectName="undrapeOrtho")
        self.undrape_button.setToolTip(self.tr(
            "Take the draped orthophoto off: the layer's own look again (Edit > Undo "
            "brings it back)"))
        form.addRow(self.undrape_button)

        self.detail.valueChanged.connect(lambda v: self._set(max_sse=float(v)))
        self.memory.editingFinished.connect(
            lambda: self._set(tile_memory_mb=int(self.memory.value())))
        self.drape_button.clicked.connect(lambda _=False: self.drape_dialog())
        self.undrape_button.clicked.connect(lambda _=False: self.undrape())
        self.timer = QtCore.QTimer(self, interval=STATUS_MS)
        self.timer.timeout.connect(self.refresh_status)
        scene.connect("layer_changed", self._on_layer_changed)
        self.set_layer(None)

    # -- scene -> widgets ----------------------------------------------------------------
    def _on_layer_changed(self, layer: Layer, field: str, **kw) -> None:
        if layer is self.layer and not self._updating and field in (
                "max_sse", "tile_memory_mb", "data"):
            self.set_layer(layer)

    def set_layer(self, layer: Layer | None) -> None:
        """Show ``layer``'s settings (hidden for a layer that is not tiled)."""
        self.layer = layer if is_tile_layer(layer) else None
        self.setVisible(self.layer is not None)
        if self.layer is None:
            self.timer.stop()
            return
        self._updating = True
        try:
            sse = getattr(self.layer, "max_sse", None)
            self.detail.setValue(int(round(sse)) if sse else DEFAULT_SSE)
            mb = getattr(self.layer, "tile_memory_mb", None)
            self.memory.setValue(int(mb) if mb else DEFAULT_MEMORY_MB)
            can_set = hasattr(self.layer, "max_sse")
            self.detail.setEnabled(can_set)
            self.memory.setEnabled(hasattr(self.layer, "tile_memory_mb"))
            self.drape_button.setVisible(callable(getattr(self.layer.data, "drape", None)))
            self.undrape_button.setVisible(is_draped(self.layer))
        finally:
            self._updating = False
        self.refresh_status()
        self.timer.start()

    def refresh_status(self) -> None:
        """The stream's counts and the layer's warnings (new ones said once in the
        window's status bar)."""
        layer = self.layer
        if layer is None or layer not in self.scene.layers:
            self.timer.stop()
            return
        status = self.status_for(layer) if self.status_for is not None else None
        self.status.setText(format_status(status) if status else
                            self.tr("tiles: waiting for the first view"))
        warnings = list((status or {}).get("warnings") or
                        getattr(layer.data, "warnings", []) or [])
        lines = [f"⚠ {w}" for w in warnings[:SHOWN_WARNINGS]]
        if len(warnings) > SHOWN_WARNINGS:
            lines.append(self.tr("… and {n} more").format(n=len(warnings) - SHOWN_WARNINGS))
        self.warnings.setText("\n".join(lines))
        self.warnings.setVisible(bool(lines))
        said = self._said.setdefault(layer.id, set())
        new = [w for w in warnings if w not in said]
        if new:
            said.update(new)
            window = self.window()
            if hasattr(window, "statusBar"):
                window.statusBar().showMessage(
                    self.tr("{name}: {n} new warning(s): {first}").format(
                        name=layer.name, n=len(new), first=new[0]), 10000)

    # -- widgets -> scene ----------------------------------------------------------------
    def _set(self, **changes: Any) -> None:
        layer = self.layer
        if self._updating or layer is None:
            return
        changes = {k: v for k, v in changes.items()
                   if hasattr(layer, k) and getattr(layer, k) != v}
        if not changes:
            return
        self._updating = True
        try:
            if self.session is not None:
                self.session.update_layer(layer, **changes)
            else:
                self.scene.update(layer, **changes)
        finally:
            self._updating = False

    def drape_dialog(self, path: str | None = None, layer: Layer | None = None):
        """Drape orthophoto…: choose a GeoTIFF (or ``path``) and drape it on the terrain
        or tile layer shown (the tiles are read again with it), or on the mesh ``layer``
        (the Properties panel's button for mesh layers: UVs and texture made in the job,
        shown after), in a background job (progress bar, Cancel)."""
        from loaders import Mesh

        layer = layer or self.layer
        is_mesh = layer is not None and isinstance(layer.data, Mesh)
        if layer is None or not (is_mesh or callable(getattr(layer.data, "drape", None))):
            return None
        window = self.window()
        if path is None:
            settings = getattr(window, "settings", None)
            start = str(settings.value("last_dir", str(Path.home()))) if settings else ""
            path, _ = QtWidgets.QFileDialog.getOpenFileName(
                self, self.tr("Drape an orthophoto"), start,
                self.tr("GeoTIFF orthophotos (*.tif *.tiff);;All files (*)"))
            if not path:
                return None
        from .. import pipeline
        from .jobs import WindowJob, start_in_window

        name = Path(path).name

        def work(progress, cancel):
            progress(0.1, "")
            return pipeline.prepare_drape(layer, str(path))

        def finished(job, prepared) -> None:
            self.drape_job = None
            if layer not in self.scene.layers:
                return
            if self.session is not None:  # one undoable edit (Edit > Undo)
                pipeline.drape_layer(self.session, layer, str(path), prepared)
            else:
                pipeline.drape(self.scene, layer, str(path), prepared)
            window.statusBar().showMessage(
                self.tr("{name} draped on {layer}").format(name=name, layer=layer.name), 6000)

        def failed(job, message: str) -> None:
            self.drape_job = None
            from .jobs import warning_box

            self.drape_error = warning_box(self, self.tr("Cannot drape the orthophoto"),
                                           message, "drapeErrorDialog")

        job = WindowJob(work, lambda: self.tr("Draping {name}").format(name=name),
                        path=str(path), name="drape")
        self.drape_job = job
        return start_in_window(
            window, job, progress_text=lambda j, f, m: self.tr("Draping {name}…").format(
                name=name),
            finished=finished, failed=failed,
            cancelled=lambda j: self.tr("Draping cancelled"))

    def undrape(self, layer: Layer | None = None) -> bool:
        """Remove orthophoto: take the orthophoto draped on ``layer`` (default the tile
        layer shown) off, one undoable edit (its own look again: a mesh's materials, a
        terrain's elevation or hillshade colours). False when none is draped."""
        from .. import pipeline

        layer = layer or self.layer
        if layer is None or not is_draped(layer):
            return False
        if self.session is not None:
            done = pipeline.undrape_layer(self.session, layer)
        else:
            done = pipeline.undrape(self.scene, layer)
        window = self.window()
        if done and hasattr(window, "statusBar"):
            window.statusBar().showMessage(
                self.tr("Orthophoto removed from {layer}").format(layer=layer.name), 6000)
        return done
