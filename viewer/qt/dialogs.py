"""The window's questions and small dialogs, apart from the window class.

Each function shows one question and returns the answer as plain Python; the caller
(:mod:`viewer.qt.project_actions`, :mod:`viewer.qt.main_window`) does the work, through
the session. Message boxes keep their object names (``unsavedChangesDialog``,
``recoveryDialog``, ``untitledRecoveryDialog``, ``redirectDialog``, ``loadErrorDialog``),
which tests and scripted sessions use to find them. The CRS dialog is
:class:`viewer.qt.crs.CrsDialog`.
"""

from __future__ import annotations

from typing import Callable

from PySide6 import QtWidgets

from .i18n import translate

Box = QtWidgets.QMessageBox


def ask_unsaved_changes(parent: QtWidgets.QWidget, name: str, before: str) -> str:
    """"save", "discard" or "cancel": what to do with ``name``'s unsaved changes before
    ``before`` (e.g. "closing")."""
    box = Box(Box.Warning, translate("dialogs", "Unsaved changes"),
              translate("dialogs", "{name} has unsaved changes. Save them before {before}?"
                        ).format(name=name, before=translate("", before)),
              Box.Save | Box.Discard | Box.Cancel, parent)
    box.setObjectName("unsavedChangesDialog")
    box.setDefaultButton(Box.Save)
    box.setEscapeButton(Box.Cancel)
    answer = box.exec()
    if answer == Box.Save:
        return "save"
    if answer == Box.Discard:
        return "discard"
    return "cancel"


def _yes_no(parent: QtWidgets.QWidget, object_name: str, title: str, text: str) -> bool:
    box = Box(Box.Question, title, text, Box.Yes | Box.No, parent)
    box.setObjectName(object_name)
    return box.exec() == Box.Yes


def ask_recover_last_project(parent: QtWidgets.QWidget, name: str) -> bool:
    """At start: recover the last project's unsaved work from its recovery file?"""
    return _yes_no(parent, "recoveryDialog", translate("dialogs", "Recover unsaved work?"),
                   translate("dialogs", "RealScene did not close normally. {name} has unsaved "
                             "changes in its recovery file. Recover them?").format(name=name))


def ask_recover_untitled(parent: QtWidgets.QWidget) -> bool:
    """At start: recover the unsaved work of an untitled project?"""
    return _yes_no(parent, "untitledRecoveryDialog",
                   translate("dialogs", "Recover unsaved work?"),
                   translate("dialogs", "RealScene did not close normally. Unsaved work of an "
                             "untitled project was kept in a recovery file. Recover it?"))


def ask_recover_on_open(parent: QtWidgets.QWidget, name: str) -> bool:
    """Opening a project that has a recovery file newer than itself: recover it?"""
    return _yes_no(parent, "openRecoveryDialog", translate("dialogs", "Recover unsaved work?"),
                   translate("dialogs", "{name} has unsaved changes from a session that ended "
                             "unexpectedly. Recover them?").format(name=name))


def warn(parent: QtWidgets.QWidget, title: str, message: str) -> None:
    """A modal warning (cannot save, cannot import...)."""
    Box.warning(parent, title, message)


def show_load_error(parent: QtWidgets.QWidget, message: str) -> Box:
    """A file could not be opened: said without blocking (other files go on loading)."""
    box = Box(Box.Warning, translate("dialogs", "Cannot open file"), message, Box.Ok,
              parent)
    box.setObjectName("loadErrorDialog")
    box.setInformativeText(translate("dialogs", "The other layers are not affected."))
    box.setModal(False)
    box.show()
    return box


def ask_redirect(parent: QtWidgets.QWidget, url: str, host: str, target: str,
                 answered: Callable[[bool], None]) -> Box:
    """A URL redirects to another host: ask whether to follow it, without blocking;
    ``answered(True)`` when the user allows it, ``answered(False)`` otherwise."""
    box = Box(Box.Question, translate("dialogs", "Redirect to another host"),
              translate("dialogs", "{url} redirects to {host}. Allow?").format(url=url,
                                                                               host=host),
              Box.Yes | Box.No, parent)
    box.setObjectName("redirectDialog")
    box.setInformativeText(translate(
        "dialogs", "It points to {target}\nAllow it only if you trust {host}.").format(
            target=target, host=host))
    box.setDefaultButton(Box.No)

    def finished(_result: int) -> None:
        answered(box.standardButton(box.clickedButton()) == Box.Yes)
        box.deleteLater()

    box.finished.connect(finished)
    box.setModal(False)
    box.show()
    return box


def ask_url(parent: QtWidgets.QWidget, last: str) -> str | None:
    """The URL of a COPC point cloud or a 3D Tiles tileset.json to stream, or None."""
    url, ok = QtWidgets.QInputDialog.getText(
        parent, translate("dialogs", "Open URL"),
        translate("dialogs", "URL of a COPC point cloud or a 3D Tiles tileset.json "
                  "(http:// or https://):"), text=last)
    url = url.strip()
    return url if ok and url else None


def ask_view_name(parent: QtWidgets.QWidget, default: str) -> str | None:
    """A name for a bookmarked view, or None."""
    name, ok = QtWidgets.QInputDialog.getText(parent, translate("dialogs", "Save view"),
                                              translate("dialogs", "Name of the view:"),
                                              text=default)
    return name.strip() if ok and name.strip() else None


# the screenshot dialog (sizes up to 8K, transparency) lives with the picture jobs
from .media_dialogs import ScreenshotDialog  # noqa: E402,F401
