"""The window's language: Qt translators for RealScene's own strings
(``translations/realscene_zh_CN.qm``) and Qt's (``qtbase_zh_CN.qm``: "Cancel", file
dialogs), chosen from the saved setting (View > Language) or else the system locale.

The core never imports this: callers pass :func:`current_language` ("en" / "zh") to it.
Strings of the window go through ``self.tr("...")`` or :func:`translate`; texts that must
change at once when the language is switched are registered with :func:`set_text`.
"""

from __future__ import annotations

import os
from pathlib import Path

import shiboken6
from PySide6 import QtCore
from PySide6.QtCore import QT_TR_NOOP

#: language code -> its own name (shown in View > Language, never translated)
LANGUAGES = {"en": "English", "zh": "简体中文"}
SETTINGS_KEY = "language"
TRANSLATIONS_DIR = Path(__file__).resolve().parents[2] / "translations"
#: the .qm basename of RealScene's catalogue for each language ("en": none, the source)
CATALOGUES = {"zh": "realscene_zh_CN"}
QT_CATALOGUES = {"zh": "qtbase_zh_CN"}

#: the readers' fixed progress words (the core stays English): the window's progress line
#: shows them through translate("", message)
CORE_PROGRESS = (
    QT_TR_NOOP("done"), QT_TR_NOOP("triangulating"), QT_TR_NOOP("reading OBJ"),
    QT_TR_NOOP("reading IFC header"), QT_TR_NOOP("generating IFC geometry"),
    QT_TR_NOOP("building mesh"), QT_TR_NOOP("building level of detail: reordering"),
    QT_TR_NOOP("Reading LAS header"), QT_TR_NOOP("reprojected"), QT_TR_NOOP("reading glTF"),
    QT_TR_NOOP("reading city objects"), QT_TR_NOOP("reading STL"), QT_TR_NOOP("reading OFF"),
    QT_TR_NOOP("reading OFF faces"), QT_TR_NOOP("reading CityJSON"), QT_TR_NOOP("parsing IFC"),
    QT_TR_NOOP("merging STL vertices"), QT_TR_NOOP("level of detail ready"),
    QT_TR_NOOP("building the model"), QT_TR_NOOP("building the IFC model tree"),
    QT_TR_NOOP("building level of detail: sorting"),
    QT_TR_NOOP("building level of detail: levels"), QT_TR_NOOP("building level of detail"),
    QT_TR_NOOP("assembling the IFC mesh"), QT_TR_NOOP("Reading the top level"),
    QT_TR_NOOP("Reading the COPC hierarchy"), QT_TR_NOOP("Reading the COPC header"),
    QT_TR_NOOP("Reading text point cloud"), QT_TR_NOOP("Reading PLY header"),
    QT_TR_NOOP("Opening E57 file"), QT_TR_NOOP("Checking the COPC file"),
    QT_TR_NOOP("COPC ready"), QT_TR_NOOP("Building the octree"),
    QT_TR_NOOP("Building level of detail"), QT_TR_NOOP("Building geometry"),
    QT_TR_NOOP("Already COPC"))

_translators: list[QtCore.QTranslator] = []
_language = "en"
#: (object, setter name, context, source text) re-applied by :func:`retranslate`
_registered: list[tuple[object, str, str, str]] = []


def translate(context: str, text: str) -> str:
    """``text`` in the current language (``pyside6-lupdate`` collects literal calls)."""
    return QtCore.QCoreApplication.translate(context, text)


def language_of_locale(name: str) -> str:
    """"zh" for a Chinese locale name (``zh_CN.UTF-8``, ``zh-Hans``, ``zh``), else "en"."""
    return "zh" if name.strip().lower().replace("-", "_").split("_")[0].split(".")[0] \
        == "zh" else "en"


def system_language() -> str:
    """The language of the user's locale: LC_ALL, LC_MESSAGES, LANG (the first set),
    else Qt's system locale (Windows, macOS)."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return language_of_locale(value)
    return language_of_locale(QtCore.QLocale.system().name())


def chosen_language(settings: QtCore.QSettings | None) -> str:
    """The language saved in ``settings`` (View > Language), else the system's."""
    saved = settings.value(SETTINGS_KEY) if settings is not None else None
    return str(saved) if saved and str(saved) in LANGUAGES else system_language()


def current_language() -> str:
    """The interface language now: "en" or "zh" (for the core: report export...)."""
    return _language


def install(language: str) -> str:
    """Load ``language``'s catalogues into the application (replacing the previous
    ones); returns the language installed ("en" when its catalogue is missing)."""
    global _language
    app = QtCore.QCoreApplication.instance()
    for translator in _translators:
        if app is not None:
            app.removeTranslator(translator)
    _translators.clear()
    language = language if language in LANGUAGES else "en"
    if language != "en" and app is not None:
        ours = QtCore.QTranslator(app)
        if not ours.load(CATALOGUES[language], str(TRANSLATIONS_DIR)):
            language = "en"
        else:
            qt = QtCore.QTranslator(app)
            qt_dir = QtCore.QLibraryInfo.path(QtCore.QLibraryInfo.TranslationsPath)
            if qt.load(QT_CATALOGUES[language], qt_dir):
                app.installTranslator(qt)
                _translators.append(qt)
            app.installTranslator(ours)
            _translators.append(ours)
    _language = language
    return language


def set_text(obj, setter: str, context: str, source: str) -> None:
    """Call ``obj.setter(translate(context, source))`` now and again after each
    :func:`retranslate` (``source`` is marked with ``QT_TRANSLATE_NOOP(context, ...)``)."""
    getattr(obj, setter)(translate(context, source))
    _registered.append((obj, setter, context, source))


def retranslate() -> None:
    """Re-apply every registered text in the current language (objects deleted since
    are dropped)."""
    alive = []
    for entry in _registered:
        obj, setter, context, source = entry
        if isinstance(obj, shiboken6.Shiboken.Object) and not shiboken6.isValid(obj):
            continue
        getattr(obj, setter)(translate(context, source))
        alive.append(entry)
    _registered[:] = alive
