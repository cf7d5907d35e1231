"""View > Eye-dome lighting settings…: EDL on/off, strength and radius, with live preview.

Edits :class:`viewer.scene.Scene` only (``set_edl``), so the window's view, its
screenshots and ``realscene render --edl-strength --edl-radius`` shade the same way
(:mod:`viewer.edl`). Non-modal: every change shows in the view at once.
"""

from __future__ import annotations

from typing import Any

from PySide6 import QtWidgets

from .. import edl


class EdlDialog(QtWidgets.QDialog):
    """Eye-dome lighting settings of ``scene``; follows the scene when it changes."""

    def __init__(self, scene: Any, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.scene = scene
        self.setWindowTitle(self.tr("Eye-dome lighting"))
        self.enabled = QtWidgets.QCheckBox(self.tr("Eye-dome lighting on"))
        self.strength = QtWidgets.QDoubleSpinBox()
        self.strength.setRange(*edl.STRENGTH_RANGE)
        self.strength.setSingleStep(0.1)
        self.strength.setDecimals(2)
        self.strength.setToolTip(self.tr("How dark the edges behind nearer points get "
                                         "(Potree's default: 1.0)"))
        self.radius = QtWidgets.QDoubleSpinBox()
        self.radius.setRange(*edl.RADIUS_RANGE)
        self.radius.setSingleStep(0.1)
        self.radius.setDecimals(1)
        self.radius.setSuffix(self.tr(" px"))
        self.radius.setToolTip(self.tr("How far (in pixels) each point looks for nearer "
                                       "neighbours: the width of the dark edges (default 1.4)"))
        self.reset = QtWidgets.QPushButton(self.tr("Defaults"))
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Close)
        buttons.addButton(self.reset, QtWidgets.QDialogButtonBox.ResetRole)
        buttons.rejected.connect(self.close)
        form = QtWidgets.QFormLayout()
        form.addRow(self.enabled)
        form.addRow(self.tr("Strength"), self.strength)
        form.addRow(self.tr("Radius"), self.radius)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self._syncing = False
        self.sync()
        self.enabled.toggled.connect(self._apply)
        self.strength.valueChanged.connect(self._apply)
        self.radius.valueChanged.connect(self._apply)
        self.reset.clicked.connect(self.reset_defaults)
        scene.connect("edl_changed", self._on_scene_changed)

    def sync(self) -> None:
        """Show the scene's current values."""
        self._syncing = True
        try:
            self.enabled.setChecked(bool(self.scene.edl))
            self.strength.setValue(float(self.scene.edl_strength))
            self.radius.setValue(float(self.scene.edl_radius))
        finally:
            self._syncing = False

    def reset_defaults(self) -> None:
        """Potree's strength and radius (EDL stays on or off)."""
        self.scene.set_edl(strength=edl.DEFAULT_STRENGTH, radius=edl.DEFAULT_RADIUS)

    def _apply(self, *_: Any) -> None:
        if self._syncing:
            return
        # changing strength or radius turns EDL on: the preview shows what was changed
        on = self.enabled.isChecked() or self.sender() is not self.enabled
        self.scene.set_edl(on, strength=self.strength.value(), radius=self.radius.value())

    def _on_scene_changed(self, **_: Any) -> None:
        self.sync()
