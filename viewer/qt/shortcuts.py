"""Keyboard shortcuts of the window: the annotation/measurement tools' keys, tooltips
that show an action's key, and Help > Keyboard shortcuts… (built from the actions
themselves, so the list cannot go stale)."""

from __future__ import annotations

from PySide6 import QtGui, QtWidgets

from . import i18n

#: the click tools' keys (none clashes with F, Shift+F, 1-4, E, M, Ctrl+B/E/I/U,
#: Return, Escape, nor the standard Open/Save/Undo/Redo/Quit keys)
TOOL_SHORTCUTS = {
    "pin": "P", "polyline": "L", "polygon": "G", "box": "B",
    "distance": "D", "horizontal_distance": "H", "vertical_distance": "V",
    "height_difference": "Shift+H", "polyline_length": "Shift+L", "area": "A",
    "projected_area": "Shift+A", "angle": "N",
}


def plain_text(action: QtGui.QAction) -> str:
    """The action's text as read (mnemonic ``&`` and trailing ``…`` removed)."""
    text = action.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
    return text.rstrip("…").rstrip(".").strip()


def key_text(action: QtGui.QAction) -> str:
    """The action's shortcuts as shown on this platform ("Ctrl+B", "F"), "" if none."""
    return "; ".join(k.toString(QtGui.QKeySequence.NativeText) for k in action.shortcuts()
                     if not k.isEmpty())


class _ShortcutTip:
    """Sets "text (key)" as the action's tooltip now and after each language change."""

    def __init__(self, action: QtGui.QAction) -> None:
        self.action = action

    def apply(self, _text: str = "") -> None:
        if not shiboken_valid(self.action):
            return
        keys = key_text(self.action)
        text = plain_text(self.action)
        self.action.setToolTip(f"{text} ({keys})" if keys else text)


def shiboken_valid(obj) -> bool:
    import shiboken6

    return shiboken6.isValid(obj)


def show_shortcut_in_tooltip(action: QtGui.QAction) -> None:
    """The action's tooltip names its key, in the current language, kept up to date by
    :func:`viewer.qt.i18n.retranslate` (registered after the action's own text)."""
    i18n.set_text(_ShortcutTip(action), "apply", "", "")


def shortcut_rows(window: QtWidgets.QWidget) -> list[tuple[str, str]]:
    """(action, keys) of every action of ``window`` that has a shortcut, sorted by name;
    an action without text (a separator) is left out, duplicates once."""
    rows = set()
    for action in window.findChildren(QtGui.QAction):
        keys = key_text(action)
        name = plain_text(action)
        if keys and name:
            rows.add((name, keys))
    return sorted(rows, key=lambda r: r[0].lower())


def clashing_shortcuts(window: QtWidgets.QWidget) -> dict[str, list[str]]:
    """Keys bound to more than one action of ``window``: {key: [action names]}."""
    seen: dict[str, list[str]] = {}
    for action in window.findChildren(QtGui.QAction):
        for k in action.shortcuts():
            if not k.isEmpty():
                seen.setdefault(k.toString(QtGui.QKeySequence.PortableText), []).append(
                    plain_text(action))
    return {k: v for k, v in seen.items() if len(v) > 1}


class ShortcutsDialog(QtWidgets.QDialog):
    """Help > Keyboard shortcuts…: a searchable two-column table of the window's keys."""

    def __init__(self, window: QtWidgets.QWidget) -> None:
        super().__init__(window)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle(self.tr("Keyboard shortcuts"))
        self.search = QtWidgets.QLineEdit(objectName="shortcutSearch",
                                          placeholderText=self.tr("Search…"))
        self.table = QtWidgets.QTableWidget(0, 2, objectName="shortcutTable")
        self.table.setHorizontalHeaderLabels([self.tr("Action"), self.tr("Shortcut")])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(
            0, QtWidgets.QHeaderView.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(
            1, QtWidgets.QHeaderView.ResizeToContents)
        self.rows = shortcut_rows(window)
        self.table.setRowCount(len(self.rows))
        for i, (name, keys) in enumerate(self.rows):
            self.table.setItem(i, 0, QtWidgets.QTableWidgetItem(name))
            self.table.setItem(i, 1, QtWidgets.QTableWidgetItem(keys))
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.search.textChanged.connect(self._filter)
        self.resize(460, 520)

    def _filter(self, text: str) -> None:
        text = text.strip().lower()
        for i, (name, keys) in enumerate(self.rows):
            self.table.setRowHidden(i, bool(text) and text not in f"{name} {keys}".lower())

    def lookup(self, name: str) -> str | None:
        """The keys of the row named ``name`` (tests, scripts), None if absent."""
        return next((keys for n, keys in self.rows if n == name), None)


class PreferencesDialog(QtWidgets.QDialog):
    """Edit > Preferences…: the default author of new annotations (saved in QSettings
    under ``author``; the session's :attr:`~viewer.session.ProjectSession.default_author`)."""

    def __init__(self, author: str, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("preferencesDialog")
        self.setWindowTitle(self.tr("Preferences"))
        self.author = QtWidgets.QLineEdit(author, objectName="prefAuthor")
        self.author.setPlaceholderText(self.tr("your name, e.g. Li Wei"))
        self.author.setToolTip(self.tr("Written as the author of new annotations"))
        form = QtWidgets.QFormLayout()
        form.addRow(self.tr("Default author"), self.author)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.Ok | QtWidgets.QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.setMinimumWidth(360)


__all__ = ["TOOL_SHORTCUTS", "ShortcutsDialog", "PreferencesDialog", "shortcut_rows",
           "clashing_shortcuts", "show_shortcut_in_tooltip", "key_text", "plain_text"]
