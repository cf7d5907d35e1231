"""The Change dock: the distribution of the selected layer's change distances.

A histogram drawn with QPainter (bars in the layer's colour map, so it doubles as the
colour key), mean / median / p95 of |d| and the share significant (M3C2), from
:func:`viewer.change_layer.layer_change_stats`; a "Significant only" switch greys change
below the level of detection in the view. Updated when the selection or the layer's
colouring or data change.
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from .. import change_layer, colors


class HistogramView(QtWidgets.QWidget):
    """Bars of ``counts`` over ``edges``, coloured by ``colormap`` over [vmin, vmax]."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("changeHistogram")
        self.setMinimumSize(120, 110)
        self.counts: list[int] = []
        self.edges: list[float] = []
        self.colormap = change_layer.CHANGE_COLORMAP
        self.vmin, self.vmax = -1.0, 1.0

    def set_data(self, counts, edges, colormap: str, vmin: float, vmax: float) -> None:
        self.counts, self.edges = list(counts), list(edges)
        self.colormap, self.vmin, self.vmax = colormap, vmin, vmax
        self.update()

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        p = QtGui.QPainter(self)
        p.fillRect(self.rect(), self.palette().base())
        if not self.counts:
            return
        w, h = self.width(), self.height()
        fm = p.fontMetrics()
        bottom = h - fm.height() - 4
        top = 4
        peak = max(max(self.counts), 1)
        n = len(self.counts)
        centres = (np.asarray(self.edges[:-1]) + np.asarray(self.edges[1:])) / 2.0
        rgb = colors.apply_colormap(centres, self.vmin, self.vmax, self.colormap)
        bw = (w - 8) / n
        for i, c in enumerate(self.counts):
            bh = (bottom - top) * (c / peak) ** 0.5  # square root: the tails stay visible
            p.fillRect(QtCore.QRectF(4 + i * bw, bottom - bh, max(bw - 0.5, 1.0), bh),
                       QtGui.QColor(*(int(v) for v in rgb[i])))
        p.setPen(self.palette().text().color())
        lo, hi = self.edges[0], self.edges[-1]
        if lo < 0 < hi:  # zero
            x = 4 + (w - 8) * (0 - lo) / (hi - lo)
            p.drawLine(QtCore.QPointF(x, top), QtCore.QPointF(x, bottom))
        p.drawLine(4, bottom, w - 4, bottom)
        p.drawText(4, h - 3, f"{lo:.3g}")
        text = f"{hi:.3g}"
        p.drawText(w - 4 - fm.horizontalAdvance(text), h - 3, text)


class HistogramPanel(QtWidgets.QWidget):
    """Histogram and statistics of the selected layer's change attribute."""

    def __init__(self, scene, session=None, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.scene, self.session = scene, session
        self.layer = None
        self.stats = None
        self.title = QtWidgets.QLabel(objectName="changeTitle", wordWrap=True)
        self.view = HistogramView()
        self.summary = QtWidgets.QLabel(objectName="changeSummary", wordWrap=True)
        self.summary.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        self.significant_only = QtWidgets.QCheckBox(self.tr("Significant only"),
                                                    objectName="changeSignificantOnly")
        self.significant_only.setToolTip(self.tr(
            "Draw change below the level of detection in grey"))
        self.significant_only.toggled.connect(self._significant_toggled)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.significant_only)
        for name in ("selection_changed", "layer_changed", "layer_removed"):
            scene.connect(name, self._on_scene)
        self.refresh()

    def _on_scene(self, event: str, **kw) -> None:
        if event == "layer_changed" and kw.get("layer") is not self.scene.selected:
            return
        if event == "layer_changed" and kw.get("field") not in (
                "data", "attribute", "colormap", "contrast", "significant_only",
                "color_mode"):
            return
        self.refresh()

    def refresh(self) -> None:
        layer = self.scene.selected
        name = change_layer.change_attribute(layer)
        self.layer = layer if name else None
        self.stats = None
        if name is None:
            self.title.setText(self.tr("Select a layer compared with an epoch "
                                       "(Tools > Compare epochs…)."))
            self.view.set_data([], [], change_layer.CHANGE_COLORMAP, -1.0, 1.0)
            self.summary.setText("")
            self.significant_only.setEnabled(False)
            return
        stats = change_layer.layer_change_stats(layer, name)
        self.stats = stats
        self.title.setText(f"{layer.name}: {name}")
        if layer.color_mode == "attribute" and layer.attribute == name:
            info = colors.scalar_info(layer)
            cmap, lo, hi = info.colormap, info.vmin, info.vmax
        else:
            lo, hi = colors.symmetric_range(layer.data.attributes[name])
            cmap = change_layer.CHANGE_COLORMAP
        self.view.set_data(stats.histogram_counts, stats.histogram_edges, cmap, lo, hi)
        lines = [self.tr("Mean {v} m").format(v=f"{stats.mean:.4f}"),
                 self.tr("Median {v} m").format(v=f"{stats.median:.4f}"),
                 self.tr("95% of |d| below {v} m").format(v=f"{stats.p95_abs:.4f}"),
                 self.tr("{n} points").format(n=f"{stats.valid:,}")]
        if stats.share_significant is not None:
            lines.append(self.tr("Significant: {share} ({n} points)").format(
                share=f"{stats.share_significant:.1%}", n=f"{stats.significant:,}"))
        self.summary.setText("\n".join(lines))
        has_sig = colors.significance_attribute(layer) is not None or \
            (name[: -len("_distance")] + "_significant") in layer.data.attributes
        self.significant_only.setEnabled(has_sig)
        self.significant_only.blockSignals(True)
        self.significant_only.setChecked(bool(layer.significant_only))
        self.significant_only.blockSignals(False)

    def _significant_toggled(self, on: bool) -> None:
        layer = self.layer
        if layer is None or bool(layer.significant_only) == on:
            return
        if self.session is not None:
            self.session.update_layer(layer, significant_only=on)
        else:
            self.scene.update(layer, significant_only=on)
