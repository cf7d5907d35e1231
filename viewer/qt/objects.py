"""The Objects panel: browse, search, show/hide, colour, filter and inspect the objects of a
city model (CityJSON) or building model (IFC) layer.

The panel edits the scene through the session (undoable) and listens to scene events;
the renderer is only used to point the camera at an object.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import numpy as np
from PySide6 import QtCore, QtWidgets
from PySide6.QtCore import QT_TR_NOOP

from loaders import FeatureMesh

from ..features import attribute_names, compile_filter, filter_mask, search_features
from ..scene import Layer, Scene

SEARCH_LIMIT = 200
PLACEHOLDER_TEXT = QT_TR_NOOP("Select a city model or IFC layer")
#: the labels of an object's own fields in the properties tree (QT_TR_NOOP sources)
ROW_LABELS = {"id": QT_TR_NOOP("id"), "type": QT_TR_NOOP("type"), "name": QT_TR_NOOP("name"),
              "storey": QT_TR_NOOP("storey"), "parent": QT_TR_NOOP("parent"),
              "LODs": QT_TR_NOOP("LODs"), "centre": QT_TR_NOOP("centre"),
              "Attributes": QT_TR_NOOP("Attributes")}


def _tr(text: str) -> str:
    return QtCore.QCoreApplication.translate("", text)
FID_ROLE = QtCore.Qt.UserRole          # feature id (str) of a feature item
TYPE_ROLE = QtCore.Qt.UserRole + 1     # type name (str) of a "group by type" node
INDEX_ROLE = QtCore.Qt.UserRole + 2    # feature index (int) of a feature item
FILLED_ROLE = QtCore.Qt.UserRole + 3   # children of this item have been created


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list, tuple)):
        try:
            return json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            return str(value)
    return str(value)


class ObjectsPanel(QtWidgets.QWidget):
    """Objects of the selected FeatureMesh layer: search, hierarchy / type tree with
    show/hide check boxes, colour by, attribute filter, LOD and object properties."""

    def __init__(self, scene: Scene, renderer: Any, session: Any,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.scene = scene
        self.renderer = renderer
        self.session = session
        self.layer: Layer | None = None
        #: callable(true xyz) -> "EPSG:n: coordinates" in a second CRS, or "" (optional)
        self.second_coordinates = None
        self._updating = False
        self._items: dict[str, QtWidgets.QTreeWidgetItem] = {}
        self._type_items: dict[str, QtWidgets.QTreeWidgetItem] = {}
        self._children: dict[int, list[int]] = {}
        self._roots: list[int] = []
        self._parent: dict[int, int] = {}
        self._by_type: dict[str, list[int]] = {}

        self.placeholder = QtWidgets.QLabel(_tr(PLACEHOLDER_TEXT))
        self.placeholder.setObjectName("objectPlaceholder")
        self.placeholder.setAlignment(QtCore.Qt.AlignCenter)
        self.placeholder.setWordWrap(True)

        # search
        self.search = QtWidgets.QLineEdit(placeholderText=self.tr("Search id, name or type…"))
        self.search.setObjectName("objectSearch")
        self.search.setClearButtonEnabled(True)
        self.results = QtWidgets.QListWidget()
        self.results.setObjectName("objectResults")
        self.results.setMaximumHeight(110)
        self.results.setVisible(False)
        self.search.textChanged.connect(self._run_search)
        self.search.returnPressed.connect(self._search_enter)
        self.results.itemActivated.connect(self._result_activated)
        self.results.itemClicked.connect(self._result_activated)

        # group by / colour by / LOD
        self.tree_mode = QtWidgets.QComboBox()
        self.tree_mode.setObjectName("objectTreeMode")
        self.tree_mode.addItem(self.tr("Hierarchy"), "hierarchy")
        self.tree_mode.addItem(self.tr("Type"), "type")
        self.tree_mode.currentIndexChanged.connect(lambda *_: self._build_tree())
        self.color_by = QtWidgets.QComboBox()
        self.color_by.setObjectName("objectColorBy")
        self.color_by.currentIndexChanged.connect(self._color_changed)
        self.lod = QtWidgets.QComboBox()
        self.lod.setObjectName("objectLod")
        self.lod.currentIndexChanged.connect(self._lod_changed)
        self.lod_label = QtWidgets.QLabel(self.tr("LOD:"))
        form = QtWidgets.QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(self.tr("Group by:"), self.tree_mode)
        form.addRow(self.tr("Colour by:"), self.color_by)
        form.addRow(self.lod_label, self.lod)

        # filter
        self.filter_edit = QtWidgets.QLineEdit(
            placeholderText=self.tr('Filter, e.g. type == "Building" and measuredHeight > 20'))
        self.filter_edit.setObjectName("objectFilter")
        self.filter_apply = QtWidgets.QPushButton(self.tr("Apply"))
        self.filter_apply.setObjectName("objectFilterApply")
        self.filter_clear = QtWidgets.QPushButton(self.tr("Clear"))
        self.filter_clear.setObjectName("objectFilterClear")
        self.filter_apply.clicked.connect(self.apply_filter)
        self.filter_clear.clicked.connect(self.clear_filter)
        self.filter_edit.returnPressed.connect(self.apply_filter)
        self.filter_error = QtWidgets.QLabel()
        self.filter_error.setObjectName("objectFilterError")
        self.filter_error.setStyleSheet("color: #c62828;")
        self.filter_error.setWordWrap(True)
        self.filter_error.setVisible(False)
        self.filter_status = QtWidgets.QLabel()
        self.filter_status.setObjectName("objectFilterStatus")
        filter_row = QtWidgets.QHBoxLayout()
        filter_row.addWidget(self.filter_edit, 1)
        filter_row.addWidget(self.filter_apply)
        filter_row.addWidget(self.filter_clear)

        # tree + properties
        self.tree = QtWidgets.QTreeWidget()
        self.tree.setObjectName("objectTree")
        self.tree.setHeaderLabels([self.tr("Object"), self.tr("Type")])
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QtWidgets.QAbstractItemView.SingleSelection)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, QtWidgets.QHeaderView.Stretch)
        self.tree.header().setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeToContents)
        self.tree.itemChanged.connect(self._item_changed)
        self.tree.itemExpanded.connect(self._fill)
        self.tree.itemSelectionChanged.connect(self._tree_selection)
        self.tree.itemDoubleClicked.connect(self._tree_double_clicked)
        self.properties = QtWidgets.QTreeWidget()
        self.properties.setObjectName("objectProperties")
        self.properties.setHeaderLabels([self.tr("Property"), self.tr("Value")])
        self.properties.setUniformRowHeights(True)
        from .deviation_dialog import DeviationList

        # per-object deviation from a scan (Tools > Scan vs model…), hidden until measured
        self.deviation = DeviationList(scene, renderer)
        splitter = QtWidgets.QSplitter(QtCore.Qt.Vertical)
        splitter.addWidget(self.tree)
        splitter.addWidget(self.properties)
        splitter.addWidget(self.deviation)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setStretchFactor(2, 2)

        content = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.results)
        layout.addLayout(form)
        layout.addLayout(filter_row)
        layout.addWidget(self.filter_error)
        layout.addWidget(self.filter_status)
        layout.addWidget(splitter, 1)
        self.content = content

        self.stack = QtWidgets.QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(content)
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(2, 2, 2, 2)
        outer.addWidget(self.stack)

        for name in ("selection_changed", "layer_changed", "layer_removed",
                     "feature_selected"):
            scene.connect(name, self._on_scene)
        self.set_layer(scene.selected)

    # -- helpers -----------------------------------------------------------------------
    @property
    def model(self) -> FeatureMesh | None:
        return self.layer.data if self.layer is not None else None

    def _descendants(self, index: int) -> list[int]:
        out, stack, seen = [], [index], {index}
        while stack:
            for c in self._children.get(stack.pop(), ()):
                if c not in seen:
                    seen.add(c)
                    out.append(c)
                    stack.append(c)
        return out

    def _ancestors(self, index: int) -> list[int]:
        out, seen = [], {index}
        p = self._parent.get(index, -1)
        while p >= 0 and p not in seen:
            seen.add(p)
            out.append(p)
            p = self._parent.get(p, -1)
        return out

    # -- scene -> widget ---------------------------------------------------------------
    def _on_scene(self, event: str, **kw: Any) -> None:
        layer = kw.get("layer")
        if event == "selection_changed":
            if layer is not None and layer.is_feature_model:
                self.set_layer(layer)
            elif layer is None or layer is not self.layer:
                self.set_layer(layer)
        elif event == "layer_removed":
            if layer is self.layer:
                self.set_layer(self.scene.selected if self.scene.selected is not layer
                               else None)
        elif event == "layer_changed":
            if layer is not self.layer or self.layer is None:
                return
            field = kw.get("field")
            if field == "data":
                self.set_layer(layer, force=True)
            elif field == "hidden_features":
                self._sync_checks()
            elif field == "feature_filter":
                self._sync_filter()
            elif field == "city_lod":
                self._sync_lod()
            elif field in ("color_mode", "attribute"):
                self._sync_color()
        elif event == "feature_selected":
            if layer is not None and layer is not self.layer and layer.is_feature_model:
                self.set_layer(layer)
            if layer is None or layer is self.layer:
                self._show_feature(kw.get("feature_id"))

    def set_layer(self, layer: Layer | None, force: bool = False) -> None:
        if layer is not None and not layer.is_feature_model:
            layer = None
        if layer is self.layer and not force:
            return
        self.layer = layer
        self.deviation.set_layer(layer)
        if layer is None:
            self.stack.setCurrentWidget(self.placeholder)
            self._updating = True
            try:
                self.tree.clear()
                self.properties.clear()
                self.results.clear()
            finally:
                self._updating = False
            self._items.clear()
            self._type_items.clear()
            return
        self.stack.setCurrentWidget(self.content)
        self._index_model()
        self._fill_color_combo()
        self._sync_lod()
        self._sync_filter()
        self._run_search(self.search.text())
        self._build_tree()
        sel = self.scene.selected_feature
        self._show_feature(sel[1] if sel and sel[0] is layer else None)

    def _index_model(self) -> None:
        model = self.model
        from ..features import parent_index

        parent = parent_index(model)
        self._parent = {i: int(p) for i, p in enumerate(parent) if p >= 0}
        children: dict[int, list[int]] = defaultdict(list)
        for i, p in self._parent.items():
            children[p].append(i)
        for lst in children.values():
            lst.sort()
        self._children = dict(children)
        self._roots = [i for i in range(len(model.features)) if i not in self._parent]
        by_type: dict[str, list[int]] = defaultdict(list)
        for i, f in enumerate(model.features):
            by_type[f.type or "(no type)"].append(i)
        self._by_type = dict(sorted(by_type.items()))

    # -- tree --------------------------------------------------------------------------
    def _feature_item(self, index: int, hierarchy: bool) -> QtWidgets.QTreeWidgetItem:
        f = self.model.features[index]
        label = f.name if f.name and f.name != f.id else f.id
        if f.name and f.name != f.id:
            label = f"{f.name}  ({f.id})"
        item = QtWidgets.QTreeWidgetItem([label, f.type or ""])
        item.setData(0, FID_ROLE, f.id)
        item.setData(0, INDEX_ROLE, index)
        item.setFlags(item.flags() | QtCore.Qt.ItemIsUserCheckable)
        item.setCheckState(0, QtCore.Qt.Unchecked if f.id in self.layer.hidden_features
                           else QtCore.Qt.Checked)
        if hierarchy and self._children.get(index):
            item.setChildIndicatorPolicy(QtWidgets.QTreeWidgetItem.ShowIndicator)
        else:
            item.setChildIndicatorPolicy(QtWidgets.QTreeWidgetItem.DontShowIndicator)
            item.setData(0, FILLED_ROLE, True)
        self._items[f.id] = item
        return item

    def _build_tree(self) -> None:
        if self.layer is None:
            return
        self._updating = True
        self.tree.setUpdatesEnabled(False)
        self.tree.blockSignals(True)
        try:
            self.tree.clear()
            self._items.clear()
            self._type_items.clear()
            if self.tree_mode.currentData() == "type":
                for ftype, indices in self._by_type.items():
                    node = QtWidgets.QTreeWidgetItem([f"{ftype} ({len(indices)})", ""])
                    node.setData(0, TYPE_ROLE, ftype)
                    node.setFlags(node.flags() | QtCore.Qt.ItemIsUserCheckable)
                    node.setChildIndicatorPolicy(QtWidgets.QTreeWidgetItem.ShowIndicator)
                    self._type_items[ftype] = node
                    self.tree.addTopLevelItem(node)
                self._sync_type_checks()
            else:
                self.tree.addTopLevelItems([self._feature_item(i, True) for i in self._roots])
                if len(self._roots) <= 3:  # e.g. IfcProject: show the next level
                    for i in range(self.tree.topLevelItemCount()):
                        item = self.tree.topLevelItem(i)
                        self._fill(item)
                        item.setExpanded(True)
        finally:
            self.tree.blockSignals(False)
            self.tree.setUpdatesEnabled(True)
            self._updating = False

    def _fill(self, item: QtWidgets.QTreeWidgetItem) -> None:
        """Create the children of ``item`` the first time it is expanded."""
        if item.data(0, FILLED_ROLE) or self.layer is None:
            return
        item.setData(0, FILLED_ROLE, True)
        ftype = item.data(0, TYPE_ROLE)
        if ftype is not None:
            indices, hierarchy = self._by_type.get(ftype, []), False
        else:
            indices, hierarchy = self._children.get(item.data(0, INDEX_ROLE), []), True
        blocked = self.tree.blockSignals(True)
        was = self._updating
        self._updating = True
        try:
            item.addChildren([self._feature_item(i, hierarchy) for i in indices])
        finally:
            self._updating = was
            self.tree.blockSignals(blocked)

    def _ensure_item(self, fid: str) -> QtWidgets.QTreeWidgetItem | None:
        if fid in self._items:
            return self._items[fid]
        try:
            index = self.model.feature_index(fid)
        except KeyError:
            return None
        if self.tree_mode.currentData() == "type":
            node = self._type_items.get(self.model.features[index].type or "(no type)")
            if node is not None:
                self._fill(node)
        else:
            for a in reversed(self._ancestors(index)):
                item = self._items.get(self.model.features[a].id)
                if item is not None:
                    self._fill(item)
        return self._items.get(fid)

    def _sync_checks(self) -> None:
        if self.layer is None:
            return
        hidden = self.layer.hidden_features
        blocked = self.tree.blockSignals(True)
        self.tree.setUpdatesEnabled(False)
        try:
            for fid, item in self._items.items():
                state = QtCore.Qt.Unchecked if fid in hidden else QtCore.Qt.Checked
                if item.checkState(0) != state:
                    item.setCheckState(0, state)
            self._sync_type_checks()
        finally:
            self.tree.setUpdatesEnabled(True)
            self.tree.blockSignals(blocked)

    def _sync_type_checks(self) -> None:
        hidden = self.layer.hidden_features
        features = self.model.features
        for ftype, node in self._type_items.items():
            n = sum(1 for i in self._by_type[ftype] if features[i].id in hidden)
            total = len(self._by_type[ftype])
            node.setCheckState(0, QtCore.Qt.Checked if n == 0 else
                               QtCore.Qt.Unchecked if n == total else
                               QtCore.Qt.PartiallyChecked)

    def _item_changed(self, item: QtWidgets.QTreeWidgetItem, column: int) -> None:
        if self._updating or self.layer is None or column != 0:
            return
        features = self.model.features
        hidden = set(self.layer.hidden_features)
        show = item.checkState(0) != QtCore.Qt.Unchecked
        ftype = item.data(0, TYPE_ROLE)
        if ftype is not None:
            ids = {features[i].id for i in self._by_type.get(ftype, [])}
        else:
            index = item.data(0, INDEX_ROLE)
            if index is None:
                return
            ids = {features[j].id for j in [index, *self._descendants(index)]}
            if show:  # showing a child shows its (hidden) ancestors, not their siblings
                ids |= {features[a].id for a in self._ancestors(index)}
        new = hidden - ids if show else hidden | ids
        if new != hidden:
            self.session.update_layer(self.layer, hidden_features=new)
        else:
            self._sync_checks()

    def _tree_selection(self) -> None:
        if self._updating or self.layer is None:
            return
        items = self.tree.selectedItems()
        fid = items[0].data(0, FID_ROLE) if items else None
        if fid:
            self.scene.select_feature(self.layer, fid)

    def _tree_double_clicked(self, item: QtWidgets.QTreeWidgetItem, _column: int) -> None:
        fid = item.data(0, FID_ROLE)
        if fid and self.layer is not None:
            self.scene.select_feature(self.layer, fid)
            self.renderer.fit_feature(self.layer, fid)

    # -- selected feature --------------------------------------------------------------
    def _show_feature(self, fid: str | None) -> None:
        self._updating = True
        try:
            self.deviation.select(fid)
            if fid is None or self.layer is None:
                self.tree.clearSelection()
                self.properties.clear()
                return
            item = self._ensure_item(fid)
            if item is not None:
                self.tree.setCurrentItem(item)
                parent = item.parent()
                while parent is not None:
                    parent.setExpanded(True)
                    parent = parent.parent()
                self.tree.scrollToItem(item)
        finally:
            self._updating = False
        self._fill_properties(fid)

    def refresh_properties(self) -> None:
        """Fill the properties again (e.g. after the second CRS changed)."""
        sel = self.scene.selected_feature
        if sel is not None and sel[0] is self.layer:
            self._fill_properties(sel[1])

    def _feature_centre(self, fid: str):
        """Centre of the bounding box of the object and its parts, in the scene's true
        coordinates (the layer's alignment applied); None without geometry."""
        model = self.model
        if model is None or self.layer is None:
            return None
        ids = [model.feature_index(fid), *self._descendants(model.feature_index(fid))]
        faces = model.faces[np.isin(model.face_feature, ids)]
        if not len(faces):
            return None
        xyz = model.vertices[np.unique(faces)].astype(np.float64) + model.origin
        centre = (xyz.min(axis=0) + xyz.max(axis=0)) / 2
        from loaders.georef import apply_matrix

        return apply_matrix(self.layer.transform, centre)[0]

    def _fill_properties(self, fid: str) -> None:
        self.properties.clear()
        try:
            f = self.model.features[self.model.feature_index(fid)]
        except (KeyError, IndexError):
            return
        rows = [("id", f.id), ("type", f.type), ("name", f.name), ("storey", f.storey),
                ("parent", f.parent or "")]
        if f.lods:
            rows.append(("LODs", ", ".join(f.lods)))
        centre = self._feature_centre(fid)
        if centre is not None:
            rows.append(("centre", "X {:.3f}  Y {:.3f}  Z {:.3f}".format(*centre)))
            second = self.second_coordinates(centre) if self.second_coordinates else ""
            if second:
                name, _, text = second.partition(": ")
                rows.append((self.tr("centre ({crs})").format(crs=name), text))
        items = [QtWidgets.QTreeWidgetItem([_tr(ROW_LABELS.get(k, k)), _text(v)]) for k, v in rows
                 if k in ("id", "type") or _text(v)]
        groups = [(_tr(ROW_LABELS["Attributes"]), f.attributes or {})]
        groups += [(name, values) for name, values in (f.properties or {}).items()]
        for name, values in groups:
            if not values:
                continue
            group = QtWidgets.QTreeWidgetItem([name, ""])
            if isinstance(values, dict):
                group.addChildren([QtWidgets.QTreeWidgetItem([str(k), _text(v)])
                                   for k, v in values.items()])
            else:
                group.setText(1, _text(values))
            items.append(group)
        self.properties.addTopLevelItems(items)
        self.properties.expandAll()
        self.properties.resizeColumnToContents(0)

    # -- search ------------------------------------------------------------------------
    def _run_search(self, text: str) -> None:
        self.results.clear()
        if self.layer is None or not text.strip():
            self.results.setVisible(False)
            return
        found = search_features(self.model, text, limit=SEARCH_LIMIT)[:SEARCH_LIMIT]
        features = self.model.features
        for i in found:
            f = features[i]
            label = f"{f.id}  {f.type}" + (f"  {f.name}" if f.name else "")
            item = QtWidgets.QListWidgetItem(label)
            item.setData(FID_ROLE, f.id)
            self.results.addItem(item)
        if not found:
            item = QtWidgets.QListWidgetItem(self.tr("No matching objects"))
            item.setFlags(QtCore.Qt.NoItemFlags)
            self.results.addItem(item)
        self.results.setVisible(True)

    def _search_enter(self) -> None:
        self._run_search(self.search.text())
        if self.results.count() and self.results.item(0).data(FID_ROLE):
            self._result_activated(self.results.item(0))

    def _result_activated(self, item: QtWidgets.QListWidgetItem) -> None:
        fid = item.data(FID_ROLE)
        if fid and self.layer is not None:
            self.select_and_fit(fid)

    def select_and_fit(self, fid: str) -> None:
        self.scene.select_feature(self.layer, fid)
        self.renderer.fit_feature(self.layer, fid)

    # -- colour by ---------------------------------------------------------------------
    def _fill_color_combo(self) -> None:
        modes = self.layer.available_color_modes()
        self.color_by.blockSignals(True)
        try:
            self.color_by.clear()
            if "material" in modes:
                self.color_by.addItem(self.tr("Materials"), ("material", None))
            if "semantic" in modes:
                self.color_by.addItem(self.tr("Semantic surfaces"), ("semantic", None))
            self.color_by.addItem(self.tr("Object type"), ("type", None))
            for name in attribute_names(self.model):
                self.color_by.addItem(self.tr("Attribute: {name}").format(name=name),
                                      ("attribute", name))
        finally:
            self.color_by.blockSignals(False)
        self._sync_color()

    def _sync_color(self) -> None:
        layer = self.layer
        key = (layer.color_mode, layer.attribute if layer.color_mode == "attribute" else None)
        index = -1
        for i in range(self.color_by.count()):
            if tuple(self.color_by.itemData(i)) == key:
                index = i
                break
        self.color_by.blockSignals(True)
        self.color_by.setCurrentIndex(index)
        self.color_by.blockSignals(False)

    def _color_changed(self, index: int) -> None:
        if self.layer is None or index < 0:
            return
        mode, attribute = self.color_by.itemData(index)
        if mode == "attribute":
            if (self.layer.color_mode, self.layer.attribute) != (mode, attribute):
                self.session.update_layer(self.layer, color_mode=mode, attribute=attribute)
        elif self.layer.color_mode != mode:
            self.session.update_layer(self.layer, color_mode=mode)

    # -- filter ------------------------------------------------------------------------
    def apply_filter(self) -> None:
        if self.layer is None:
            return
        text = self.filter_edit.text().strip()
        if not text:
            self.clear_filter()
            return
        try:
            predicate = compile_filter(text)
        except ValueError as exc:
            self.filter_error.setText(str(exc))
            self.filter_error.setVisible(True)
            return
        self.filter_error.setVisible(False)
        if self.layer.feature_filter != text:
            self.session.update_layer(self.layer, feature_filter=text)
        self._update_filter_status(predicate)

    def clear_filter(self) -> None:
        self.filter_error.setVisible(False)
        self.filter_edit.clear()
        if self.layer is not None and self.layer.feature_filter is not None:
            self.session.update_layer(self.layer, feature_filter=None)
        self.filter_status.setText("")

    def _sync_filter(self) -> None:
        expr = self.layer.feature_filter
        if self.filter_edit.text().strip() != (expr or ""):
            self.filter_edit.setText(expr or "")
        self.filter_error.setVisible(False)
        if not expr:
            self.filter_status.setText("")
            return
        try:
            self._update_filter_status(compile_filter(expr))
        except ValueError as exc:
            self.filter_error.setText(str(exc))
            self.filter_error.setVisible(True)

    def _update_filter_status(self, predicate: Any) -> None:
        mask = filter_mask(self.model, predicate)
        self.filter_status.setText(self.tr("{n} of {total} objects match").format(
            n=f"{int(mask.sum()):,}", total=f"{len(mask):,}"))

    # -- LOD ---------------------------------------------------------------------------
    def _sync_lod(self) -> None:
        names = list(self.model.lod_names)
        self.lod.blockSignals(True)
        try:
            self.lod.clear()
            self.lod.addItem(self.tr("Highest per object"), None)
            for name in names:
                self.lod.addItem(f"LOD {name}", name)
            index = self.lod.findData(self.layer.city_lod) if self.layer.city_lod else 0
            self.lod.setCurrentIndex(max(index, 0))
        finally:
            self.lod.blockSignals(False)
        visible = len(names) > 1
        self.lod.setVisible(visible)
        self.lod_label.setVisible(visible)

    def _lod_changed(self, index: int) -> None:
        if self.layer is None or index < 0:
            return
        value = self.lod.itemData(index)
        if value != self.layer.city_lod:
            self.session.update_layer(self.layer, city_lod=value)
