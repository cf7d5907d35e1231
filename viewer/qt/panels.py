"""Dock panels: the layer tree and the properties of the selected layer.

Panels edit the scene model and listen to its events; they never talk to the renderer.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import QT_TR_NOOP

from loaders import Mesh, PointCloud

from ..scene import Layer, Scene
from .crs import describe_crs  # (the layer's CRS in the properties)

COLOR_MODE_LABELS = {
    "rgb": QT_TR_NOOP("RGB colour"),
    "intensity": QT_TR_NOOP("Intensity"),
    "classification": QT_TR_NOOP("Classification (ASPRS)"),
    "elevation": QT_TR_NOOP("Elevation"),
    "attribute": QT_TR_NOOP("Attribute…"),
    "solid": QT_TR_NOOP("Single colour"),
    "material": QT_TR_NOOP("Materials / textures"),
    "vertex": QT_TR_NOOP("Vertex colours"),
    "semantic": QT_TR_NOOP("Semantic surfaces"),
    "type": QT_TR_NOOP("Object type"),
    "hillshade": QT_TR_NOOP("Hillshade"),
    "texture": QT_TR_NOOP("Texture"),
}
#: the colour maps offered; rdbu_r and coolwarm are diverging (symmetric about zero: change)
COLORMAPS = ("viridis", "turbo", "gray", "terrain", "rdbu_r", "coolwarm")
#: the up-axis choice of a glTF layer: (value, label)
UP_AXES = (("Y", QT_TR_NOOP("Y (glTF standard)")),
           ("Z", QT_TR_NOOP("Z (stored against the standard)")))
#: the same choice for any other mesh or point layer without a CRS
UP_AXES_OTHER = (("Y", QT_TR_NOOP("Y (turn it upright)")),
                 ("Z", QT_TR_NOOP("Z (as stored)")))
#: a layer's length units (viewer.units): (value, label); None: no units
UNITS = ((None, QT_TR_NOOP("none (units)")), ("mm", QT_TR_NOOP("millimetres (mm)")),
         ("cm", QT_TR_NOOP("centimetres (cm)")), ("m", QT_TR_NOOP("metres (m)")),
         ("ft", QT_TR_NOOP("feet (ft)")))


def _tr(text: str) -> str:
    """``text`` (a QT_TR_NOOP source) in the interface language."""
    return QtCore.QCoreApplication.translate("", text)


class LayerPanel(QtWidgets.QWidget):
    """The layer tree: check to show/hide, select, reorder, remove. With a session,
    removing and reordering are commands on its undo stack."""

    def __init__(self, scene: Scene, parent: QtWidgets.QWidget | None = None,
                 session=None) -> None:
        super().__init__(parent)
        self.scene = scene
        #: a ProjectSession: when given, removal and reordering can be undone
        self.session = session
        self.tree = QtWidgets.QTreeWidget()
        self.tree.setObjectName("layerTree")
        self.tree.setHeaderLabels([self.tr("Layer"), self.tr("Type"), self.tr("Count")])
        self.tree.setRootIsDecorated(False)
        self.tree.setSelectionMode(QtWidgets.QAbstractItemView.SingleSelection)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, QtWidgets.QHeaderView.Stretch)
        self.tree.setContextMenuPolicy(QtCore.Qt.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        #: callables (menu, layer) adding a tool's actions to a layer's context menu
        self.context_extensions: list = []
        self.up_button = QtWidgets.QToolButton(text="▲", toolTip=self.tr("Move layer up"))
        self.down_button = QtWidgets.QToolButton(text="▼", toolTip=self.tr("Move layer down"))
        self.remove_button = QtWidgets.QToolButton(text="✕", toolTip=self.tr("Remove layer (Del)"))
        self.up_button.clicked.connect(lambda: self._move(-1))
        self.down_button.clicked.connect(lambda: self._move(+1))
        self.remove_button.clicked.connect(self.remove_selected)
        buttons = QtWidgets.QHBoxLayout()
        for b in (self.up_button, self.down_button, self.remove_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.tree)
        layout.addLayout(buttons)
        delete = QtGui.QShortcut(QtGui.QKeySequence.Delete, self.tree)
        delete.activated.connect(self.remove_selected)

        self._updating = False
        self.tree.itemChanged.connect(self._item_changed)
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        for name in ("layer_added", "layer_removed", "layers_reordered", "layer_changed",
                     "selection_changed"):
            scene.connect(name, self._on_scene)
        self.refresh()

    # -- scene -> widget -------------------------------------------------------------
    def _on_scene(self, event: str, **kw) -> None:
        if event == "layer_changed" and kw.get("field") not in ("visible", "name", "data",
                                                                "loading"):
            return
        self.refresh()

    def refresh(self) -> None:
        self._updating = True
        try:
            self.tree.clear()
            for layer in self.scene.layers:
                data = layer.data
                if getattr(data, "kind", None) == "tiles":  # streamed: the format
                    kind = self.tr("tiles ({format})").format(
                        format=data.metadata.get("format") or data.format_name)
                    count = self.tr("streamed")
                elif isinstance(data, PointCloud):
                    total = getattr(layer.lod, "total_points", None) or data.point_count
                    kind, count = self.tr("points"), f"{total:,}"
                    if getattr(layer.lod, "metadata", {}).get("format") == "COPC":
                        kind = self.tr("points (COPC)")
                    if layer.loading:
                        count += self.tr(" (loading…)")
                elif layer.is_feature_model:
                    kind = self.tr("IFC model") if data.model_format == "IFC" \
                        else self.tr("city model")
                    count = self.tr("{n} obj").format(n=f"{len(data.features):,}")
                else:
                    kind, count = self.tr("mesh"), f"{data.triangle_count:,} ▲"
                name = layer.name
                tip = [layer.path or layer.name]
                if data.crs is None:
                    name = "⚠ " + name
                    tip.append(self.tr("No coordinate reference system: assumed to be in "
                                       "the scene CRS. Use the Align panel if it is not in "
                                       "place."))
                elif data.metadata.get("reprojected_from"):
                    tip.append(self.tr("Transformed from {crs} into the scene CRS").format(
                        crs=data.metadata['reprojected_from']))
                item = QtWidgets.QTreeWidgetItem([name, kind, count])
                item.setData(0, QtCore.Qt.UserRole, layer.id)
                item.setFlags(item.flags() | QtCore.Qt.ItemIsUserCheckable)
                item.setCheckState(0, QtCore.Qt.Checked if layer.visible else QtCore.Qt.Unchecked)
                item.setToolTip(0, "\n".join(tip))
                self.tree.addTopLevelItem(item)
                if layer is self.scene.selected:
                    item.setSelected(True)
                    self.tree.setCurrentItem(item)
            self.tree.resizeColumnToContents(1)
            self.tree.resizeColumnToContents(2)
        finally:
            self._updating = False

    def _layer_for(self, item: QtWidgets.QTreeWidgetItem | None) -> Layer | None:
        if item is None:
            return None
        lid = item.data(0, QtCore.Qt.UserRole)
        return next((l for l in self.scene.layers if l.id == lid), None)

    # -- widget -> scene -------------------------------------------------------------
    def _item_changed(self, item: QtWidgets.QTreeWidgetItem, column: int) -> None:
        if self._updating:
            return
        layer = self._layer_for(item)
        if layer is not None:
            visible = item.checkState(0) == QtCore.Qt.Checked
            if visible != layer.visible:
                self.scene.update(layer, visible=visible)

    def _selection_changed(self) -> None:
        if self._updating:
            return
        items = self.tree.selectedItems()
        self.scene.select(self._layer_for(items[0]) if items else None)

    def _move(self, step: int) -> None:
        layer = self.scene.selected
        if layer is None:
            return
        index = self.scene.layers.index(layer) + step
        if self.session is not None:
            self.session.move_layer(layer, index)
        else:
            self.scene.move(layer, index)

    def remove_selected(self) -> None:
        layer = self.scene.selected
        if layer is None:
            return
        if self.session is not None:
            self.session.remove_layer(layer)
        else:
            self.scene.remove(layer)

    def _context_menu(self, pos: QtCore.QPoint) -> None:
        layer = self._layer_for(self.tree.itemAt(pos))
        if layer is None:
            return
        menu = QtWidgets.QMenu(self)
        menu.addAction(self.tr("Zoom to layer"), lambda: self.window().fit_selection())
        menu.addAction(self.tr("Move up"), lambda: self._move(-1))
        menu.addAction(self.tr("Move down"), lambda: self._move(+1))
        for extend in self.context_extensions:
            extend(menu, layer)
        menu.addSeparator()
        menu.addAction(self.tr("Remove"), self.remove_selected)
        menu.exec(self.tree.viewport().mapToGlobal(pos))


class PropertiesPanel(QtWidgets.QWidget):
    """Display properties of the selected layer, its CRS and its class legend."""

    def __init__(self, scene: Scene, parent: QtWidgets.QWidget | None = None,
                 session=None) -> None:
        super().__init__(parent)
        self.scene = scene
        #: a ProjectSession: when given, every change goes through its undo stack
        self.session = session
        self.layer: Layer | None = None
        self._updating = False

        self.title = QtWidgets.QLabel(self.tr("No layer selected"))
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.color_mode = QtWidgets.QComboBox(objectName="colorMode")
        self.attribute = QtWidgets.QComboBox(objectName="attribute")
        self.colormap = QtWidgets.QComboBox(objectName="colormap")
        self.colormap.addItems(COLORMAPS)
        self.point_size = QtWidgets.QDoubleSpinBox(objectName="pointSize", minimum=1.0,
                                                   maximum=20.0, singleStep=1.0, decimals=0)
        self.point_size_mode = QtWidgets.QComboBox(objectName="pointSizeMode")
        self.point_size_mode.addItem(self.tr("Adaptive"), "adaptive")
        self.point_size_mode.addItem(self.tr("Fixed"), "fixed")
        self.point_size_mode.setToolTip(self.tr(
            "Adaptive: points grow with the level of detail's spacing as you come closer, "
            "so close-ups show a closed surface (the point size is the smallest). Fixed: "
            "every point is the point size in pixels."))
        self.round_points = QtWidgets.QCheckBox(self.tr("Round points"),
                                                objectName="roundPoints")
        self.round_points.setToolTip(self.tr("Draw points as round splats instead of squares"))
        self.opacity = QtWidgets.QSlider(QtCore.Qt.Horizontal, objectName="opacity")
        self.opacity.setRange(5, 100)
        self.solid_color = QtWidgets.QPushButton(self.tr("Choose…"), objectName="solidColor")
        self.contrast_lo = QtWidgets.QDoubleSpinBox(minimum=0, maximum=50, decimals=1,
                                                    suffix=" %", objectName="contrastLow")
        self.contrast_hi = QtWidgets.QDoubleSpinBox(minimum=50, maximum=100, decimals=1,
                                                    suffix=" %", objectName="contrastHigh")
        contrast = QtWidgets.QHBoxLayout()
        contrast.addWidget(self.contrast_lo)
        contrast.addWidget(self.contrast_hi)
        self.crs = QtWidgets.QLabel("", objectName="crsLabel")
        self.crs.setWordWrap(True)
        self.crs.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        self.info = QtWidgets.QLabel("", objectName="infoLabel")
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        self.up_axis = QtWidgets.QComboBox(objectName="upAxis")
        for value, label in UP_AXES:
            self.up_axis.addItem(_tr(label), value)
        self.up_axis.setToolTip(self.tr("Which axis of the file points up. glTF files are "
                                        "Y-up by the standard; choose Z for a file stored "
                                        "Z-up (a model lying on its side)."))
        self.units = QtWidgets.QComboBox(objectName="layerUnits")
        for value, label in UNITS:
            self.units.addItem(_tr(label), value)
        self.units.setToolTip(self.tr(
            "The length unit of a file without a coordinate system: the layer is scaled "
            "into metres. None: it measures in \"units\"."))
        self.classes = QtWidgets.QListWidget(objectName="classList")
        self.classes.setToolTip(self.tr("Classes (ASPRS): uncheck to hide"))

        form = QtWidgets.QFormLayout()
        form.addRow(self.title)
        form.addRow(self.tr("Colour by"), self.color_mode)
        form.addRow(self.tr("Attribute"), self.attribute)
        form.addRow(self.tr("Colour map"), self.colormap)
        form.addRow(self.tr("Contrast"), contrast)
        point_size = QtWidgets.QHBoxLayout()  # size, its mode: one row (the view's room)
        point_size.addWidget(self.point_size, 1)
        point_size.addWidget(self.point_size_mode, 1)
        form.addRow(self.tr("Point size"), point_size)
        form.addRow("", self.round_points)
        form.addRow(self.tr("Opacity"), self.opacity)
        form.addRow(self.tr("Colour"), self.solid_color)
        from .tiles_panel import TileLayerBox

        # a tile layer's detail, memory, status and drape (hidden for other layers)
        self.tiles = TileLayerBox(scene, session, self)
        form.addRow(self.tiles)
        # a mesh layer's drape (tile layers have theirs in the tiles box)
        self.drape_mesh_button = QtWidgets.QPushButton(self.tr("Drape orthophoto…"),
                                                       objectName="drapeMeshOrtho")
        self.drape_mesh_button.setToolTip(self.tr(
            "Show an orthophoto GeoTIFF on this mesh, projected from above, as its texture"))
        self.drape_mesh_button.clicked.connect(
            lambda _=False: self.tiles.drape_dialog(layer=self.layer))
        form.addRow("", self.drape_mesh_button)
        self.undrape_mesh_button = QtWidgets.QPushButton(self.tr("Remove orthophoto"),
                                                         objectName="undrapeMeshOrtho")
        self.undrape_mesh_button.setToolTip(self.tr(
            "Take the draped orthophoto off: the mesh's own materials again"))
        self.undrape_mesh_button.clicked.connect(
            lambda _=False: self.tiles.undrape(layer=self.layer))
        form.addRow("", self.undrape_mesh_button)
        self.up_axis_label = QtWidgets.QLabel(self.tr("Up axis"))
        form.addRow(self.up_axis_label, self.up_axis)
        self.units_label = QtWidgets.QLabel(self.tr("Units"))
        form.addRow(self.units_label, self.units)
        form.addRow(self.tr("CRS"), self.crs)
        self.assign_crs_button = QtWidgets.QPushButton(self.tr("Assign CRS…"),
                                                       objectName="assignCrs")
        self.assign_crs_button.setToolTip(self.tr(
            "Give this layer a coordinate system: when its file has none or a wrong one"))
        self.assign_crs_button.clicked.connect(self._assign_crs)
        form.addRow("", self.assign_crs_button)
        form.addRow(self.tr("Data"), self.info)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(form)
        self.classes_label = QtWidgets.QLabel(self.tr("Classes"))
        layout.addWidget(self.classes_label)
        layout.addWidget(self.classes, 1)

        self.color_mode.currentIndexChanged.connect(self._color_mode_changed)
        self.attribute.currentTextChanged.connect(
            lambda t: self._set(attribute=t or None, color_mode="attribute") if t else None)
        self.colormap.currentTextChanged.connect(lambda t: self._set(colormap=t))
        self.point_size.valueChanged.connect(lambda v: self._set(point_size=float(v)))
        self.point_size_mode.currentIndexChanged.connect(
            lambda i: self._set(point_size_mode=self.point_size_mode.itemData(i)))
        self.round_points.toggled.connect(
            lambda on: self._set(point_shape="round" if on else "square"))
        self.opacity.valueChanged.connect(lambda v: self._set(opacity=v / 100.0))
        self.contrast_lo.valueChanged.connect(self._contrast_changed)
        self.contrast_hi.valueChanged.connect(self._contrast_changed)
        self.solid_color.clicked.connect(self._choose_color)
        self.up_axis.currentIndexChanged.connect(self._up_axis_changed)
        self.units.currentIndexChanged.connect(self._units_changed)
        self.classes.itemChanged.connect(self._class_toggled)
        scene.connect("selection_changed", lambda **kw: self.set_layer(kw["layer"]))
        scene.connect("layer_changed", self._on_layer_changed)
        scene.connect("layer_removed", lambda **kw: self.set_layer(scene.selected))
        self.set_layer(scene.selected)

    # -- scene -> widgets --------------------------------------------------------------
    def _on_layer_changed(self, layer: Layer, field: str, **kw) -> None:
        if layer is self.layer and not self._updating:
            self.set_layer(layer)

    def set_layer(self, layer: Layer | None) -> None:
        self.layer = layer
        self.tiles.set_layer(layer)
        self.drape_mesh_button.setVisible(layer is not None and isinstance(layer.data, Mesh))
        self.undrape_mesh_button.setVisible(isinstance(getattr(layer, "data", None), Mesh)
                                            and bool(layer.data.metadata.get("ortho")))
        self._updating = True
        try:
            enabled = layer is not None
            for w in (self.color_mode, self.attribute, self.colormap, self.point_size,
                      self.point_size_mode, self.round_points, self.opacity, self.solid_color,
                      self.contrast_lo, self.contrast_hi,
                      self.classes):
                w.setEnabled(enabled)
            self.assign_crs_button.setEnabled(bool(enabled and layer.path
                                                   and self.session is not None))
            self.color_mode.clear()
            self.attribute.clear()
            self.classes.clear()
            if layer is None:
                self.title.setText(self.tr("No layer selected"))
                self.crs.setText("")
                self.info.setText("")
                return
            self.title.setText(layer.name)
            for mode in layer.available_color_modes():
                self.color_mode.addItem(_tr(COLOR_MODE_LABELS.get(mode, mode)), mode)
            idx = self.color_mode.findData(layer.color_mode)
            self.color_mode.setCurrentIndex(max(idx, 0))
            self.attribute.addItem("")
            self.attribute.addItems(layer.scalar_attributes())
            if layer.attribute:
                self.attribute.setCurrentText(layer.attribute)
            if self.colormap.findText(layer.colormap) < 0:  # one a tool chose (ylorrd…)
                self.colormap.addItem(layer.colormap)
            self.colormap.setCurrentText(layer.colormap)
            self.point_size.setValue(layer.point_size)
            self.opacity.setValue(int(round(layer.opacity * 100)))
            self.contrast_lo.setValue(layer.contrast[0])
            self.contrast_hi.setValue(layer.contrast[1])
            is_points = isinstance(layer.data, PointCloud) or \
                getattr(layer.data, "points", None) is not None
            self.point_size.setEnabled(is_points)
            is_cloud = isinstance(layer.data, PointCloud)  # (size mode / shape: clouds)
            self.point_size_mode.setCurrentIndex(
                max(self.point_size_mode.findData(layer.point_size_mode), 0))
            self.round_points.setChecked(layer.point_shape == "round")
            self.point_size_mode.setEnabled(is_cloud)
            self.round_points.setEnabled(is_cloud)
            has_axis = layer.up_axis is not None
            self.up_axis.setVisible(has_axis)
            self.up_axis_label.setVisible(has_axis)
            self.up_axis.setEnabled(has_axis)
            if has_axis:
                generic = layer.data.metadata.get("up_axis_generic") or \
                    "up_axis" not in layer.data.metadata
                for i, (_value, label) in enumerate(UP_AXES_OTHER if generic else UP_AXES):
                    self.up_axis.setItemText(i, _tr(label))
                self.up_axis.setCurrentIndex(max(self.up_axis.findData(layer.up_axis), 0))
            has_units = layer.data.crs is None and isinstance(layer.data, (PointCloud, Mesh))
            self.units.setVisible(has_units)
            self.units_label.setVisible(has_units)
            self.units.setEnabled(has_units)
            if has_units:
                self.units.setCurrentIndex(max(self.units.findData(layer.units), 0))
            self.attribute.setEnabled(bool(layer.scalar_attributes()))
            scalar = layer.color_mode in ("intensity", "elevation", "attribute")
            self.colormap.setEnabled(scalar)
            self.contrast_lo.setEnabled(scalar)
            self.contrast_hi.setEnabled(scalar)
            crs_text = describe_crs(layer.data.crs)
            if layer.data.metadata.get("auto_crs"):  # degrees drawn in a metric CRS
                crs_text += f"; {layer.data.metadata['auto_crs']}"
            self.crs.setText(crs_text)
            self.info.setText(describe_data(layer))
            self._fill_classes(layer)
        finally:
            self._updating = False

    def _fill_classes(self, layer: Layer) -> None:
        show = isinstance(layer.data, PointCloud) and "classification" in layer.data.attributes
        self.classes.setVisible(show)
        self.classes_label.setVisible(show)
        if not show:
            return
        from ..colors import class_legend

        for code, name, rgb, count in class_legend(layer):
            item = QtWidgets.QListWidgetItem(f"{code:>3}  {name}  ({count:,})")
            item.setData(QtCore.Qt.UserRole, int(code))
            pix = QtGui.QPixmap(12, 12)
            pix.fill(QtGui.QColor(*[int(c) for c in rgb]))
            item.setIcon(QtGui.QIcon(pix))
            item.setFlags(item.flags() | QtCore.Qt.ItemIsUserCheckable)
            item.setCheckState(QtCore.Qt.Unchecked if code in layer.hidden_classes
                               else QtCore.Qt.Checked)
            self.classes.addItem(item)

    # -- widgets -> scene ----------------------------------------------------------------
    def _set(self, **changes) -> None:
        if self._updating or self.layer is None:
            return
        attrs = getattr(self.layer.data, "attributes", None)
        name = changes.get("attribute")
        if name and hasattr(attrs, "is_deferred") and attrs.is_deferred(name):
            self.read_deferred(self.layer, changes)  # in the file still: read it first
            return
        self._updating = True
        try:
            self._update(self.layer, **changes)
        finally:
            self._updating = False
        if "color_mode" in changes or "up_axis" in changes:
            self.set_layer(self.layer)

    def read_deferred(self, layer: Layer, changes: dict):
        """Read ``layer``'s attributes that stayed in its file (GPS time, scan angle...:
        :class:`loaders.ingest.DeferredAttributes`) in the background, with progress and
        Cancel in the window's progress bar; then apply ``changes``. Returns the job."""
        from loaders import LoadCancelled

        from .jobs import WindowJob, start_in_window

        window = self.window()
        attrs = layer.data.attributes
        job = WindowJob(lambda progress, cancel: attrs.load(progress),
                        lambda: self.tr("Reading {name}").format(name=layer.name),
                        (LoadCancelled,), path=str(getattr(layer, "path", "") or ""),
                        name="read-attributes", raise_on_cancel=LoadCancelled)
        self.deferred_job = job

        def finished(_job, _result) -> None:
            if self.layer is layer:
                self._set(**changes)
                self.set_layer(layer)
            elif layer in self.scene.layers:
                self._update(layer, **changes)

        def failed(_job, message: str) -> None:
            window.statusBar().showMessage(message, 10000)
            if self.layer is layer:
                self.set_layer(layer)  # the combo back to the layer's attribute

        def cancelled(_job) -> str:
            if self.layer is layer:
                self.set_layer(layer)
            return self.tr("Reading the attributes cancelled")

        return start_in_window(
            window, job, progress_text=lambda j, f, m: self.tr(
                "Reading {name}: {percent}").format(name=layer.name, percent=f"{f:.0%}"),
            finished=finished, failed=failed, cancelled=cancelled)

    def _update(self, layer: Layer, **changes) -> None:
        if self.session is not None:
            self.session.update_layer(layer, **changes)
        else:
            self.scene.update(layer, **changes)

    def _color_mode_changed(self, index: int) -> None:
        mode = self.color_mode.itemData(index)
        if mode is None or self.layer is None or self._updating:
            return
        changes = {"color_mode": mode}
        if mode == "attribute" and not self.layer.attribute and self.layer.scalar_attributes():
            changes["attribute"] = self.layer.scalar_attributes()[0]
        self._set(**changes)

    def _up_axis_changed(self, index: int) -> None:
        axis = self.up_axis.itemData(index)
        if axis is None or self.layer is None or self._updating \
                or self.layer.up_axis in (None, axis):
            return
        self._set(up_axis=axis)

    def _units_changed(self, index: int) -> None:
        if self.layer is None or self._updating:
            return
        units = self.units.itemData(index)
        if units == self.layer.units:
            return
        try:
            self._set(units=units)
        except ValueError as exc:  # a streamed layer: say why, show what it has
            window = self.window()
            if hasattr(window, "statusBar"):
                window.statusBar().showMessage(str(exc), 8000)
        self.set_layer(self.layer)

    def _contrast_changed(self, *_):
        self._set(contrast=(self.contrast_lo.value(), self.contrast_hi.value()))

    def _choose_color(self) -> None:
        if self.layer is None:
            return
        r, g, b = (int(c * 255) for c in self.layer.solid_color)
        color = QtWidgets.QColorDialog.getColor(QtGui.QColor(r, g, b), self,
                                              self.tr("Layer colour"))
        if color.isValid():
            self._set(solid_color=(color.redF(), color.greenF(), color.blueF()),
                      color_mode="solid")

    def _class_toggled(self, item: QtWidgets.QListWidgetItem) -> None:
        if self._updating or self.layer is None:
            return
        code = item.data(QtCore.Qt.UserRole)
        hidden = set(self.layer.hidden_classes)
        if item.checkState() == QtCore.Qt.Checked:
            hidden.discard(code)
        else:
            hidden.add(code)
        self._updating = True
        try:
            self._update(self.layer, hidden_classes=hidden)
        finally:
            self._updating = False

    def _assign_crs(self) -> None:
        """Assign CRS…: the dialog of viewer.qt.crs, through the session (undoable)."""
        from .crs import assign_crs_to_layer

        if self.layer is None or self.session is None or not self.layer.path:
            return
        assign_crs_to_layer(self.window(), self.session, self.layer,
                            getattr(self.window(), "settings", None))


def describe_data(layer: Layer) -> str:
    data = layer.data
    md = data.metadata
    fmt = md.get("format", "?")
    version = md.get("version")
    lines = [f"{fmt}{' ' + str(version) if version else ''}"]
    if getattr(data, "kind", None) == "tiles":
        lines.append(_tr(QT_TR_NOOP("a tileset streamed by level of detail: only the tiles "
                                    "the view needs are loaded")))
    elif isinstance(data, PointCloud):
        total = getattr(layer.lod, "total_points", None)
        if total and total != data.point_count:
            lines.append(_tr(QT_TR_NOOP(
                "{total} points (streamed; class counts and ranges below from the {n} of "
                "the top levels)")).format(total=f"{total:,}", n=f"{data.point_count:,}"))
        else:
            lines.append(_tr(QT_TR_NOOP("{n} points")).format(n=f"{data.point_count:,}"))
        if md.get("point_format") is not None:
            lines[0] += _tr(QT_TR_NOOP(", point format {n}")).format(n=md['point_format'])
        attrs = ", ".join(k for k in data.attributes)
        if attrs:
            lines.append(_tr(QT_TR_NOOP("attributes: {names}")).format(names=attrs))
    else:
        lines.append(_tr(QT_TR_NOOP("{v} vertices, {t} triangles")).format(
            v=f"{data.vertex_count:,}", t=f"{data.triangle_count:,}"))
        extra = []
        if getattr(data, "points", None) is not None:
            extra.append(_tr(QT_TR_NOOP("{n} points")).format(n=f"{len(data.points):,}"))
        if getattr(data, "lines", None) is not None:
            extra.append(_tr(QT_TR_NOOP("{n} line segments")).format(n=f"{len(data.lines):,}"))
        if extra:
            lines.append(", ".join(extra))
        if data.parts:
            lines.append(_tr(QT_TR_NOOP("{n} parts")).format(n=len(data.parts)))
    if md.get("up_axis_note"):
        lines.append(str(md["up_axis_note"]))
    for w in data.metadata.get("warnings", [])[:5]:
        lines.append(f"⚠ {w}")
    return "\n".join(lines)
