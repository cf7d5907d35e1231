"""Fonts that can draw a given text (Chinese included): no Qt, no VTK.

VTK (labels and legends in the 3D view) and fpdf2 (PDF reports) draw with a font file
they are given; DejaVu Sans and VTK's built-in Arial have no CJK glyphs, so a Chinese
title came out as "—" or nothing. :func:`font_for` finds an installed font whose
character map (read with fontTools) covers the text, looking in order at

1. ``REALSCENE_FONT``: a .ttf / .otf / .ttc chosen by the user;
2. fontconfig (``fc-match -s``, Simplified Chinese first), when ``fc-match`` exists;
3. known files and folders (Noto Sans CJK / Source Han Sans from Debian's
   ``fonts-noto-cjk``, Microsoft YaHei, PingFang, ...).

``REALSCENE_SYSTEM_FONTS=0`` turns 2 and 3 off (only ``REALSCENE_FONT`` is used; the tests
use it to show the message given when no font can draw a text). In a font collection
(.ttc) the Simplified Chinese face is preferred ("Noto Sans CJK SC"); its index is kept
in :class:`FontChoice`, and :func:`single_face_file` writes that face alone to the user's
cache folder for renderers that only read a file's first face (VTK's FreeType).
Results are cached per process; :func:`clear_cache` forgets them.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ENV_FONT = "REALSCENE_FONT"
ENV_SYSTEM_FONTS = "REALSCENE_SYSTEM_FONTS"
FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
#: how many files of a folder walk are looked at, at most (a huge fonts folder stays quick)
MAX_SCANNED_FILES = 3000
#: preferred faces of a collection, best first (Simplified Chinese, then any CJK face)
_PREFERRED = ("sc", "simplified", "gb", "hans", "yahei", "pingfang sc", "simhei", "simsun")

_KNOWN_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/adobe-source-han-sans/SourceHanSansSC-Regular.otf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Light.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
)
_KNOWN_BOLD = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Bold.otf",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
)
_WINDOWS_FILES = ("msyh.ttc", "simhei.ttf", "simsun.ttc", "arialuni.ttf")
_WINDOWS_BOLD = ("msyhbd.ttc",)


@dataclass(frozen=True)
class FontChoice:
    """A font face: ``path`` of the file, ``index`` of the face in a collection (0 for a
    .ttf / .otf), its ``family`` name."""

    path: Path
    index: int
    family: str


class NoFontError(ValueError):
    """No installed font can draw ``text``: ``missing`` are the characters none has."""

    def __init__(self, text: str, missing: str) -> None:
        self.text = text
        self.missing = missing
        super().__init__(no_font_message(text, missing))


def no_font_message(text: str, missing: str) -> str:
    shown = text if len(text) <= 40 else text[:39] + "…"
    chars = " ".join(f"{c} U+{ord(c):04X}" for c in missing[:8])
    more = f" and {len(missing) - 8} more" if len(missing) > 8 else ""
    return (f"no installed font can draw {shown!r} ({chars}{more}); install fonts-noto-cjk "
            f"or set {ENV_FONT} to a .ttf/.otf/.ttc that has these characters")


def drawn_chars(text: str) -> str:
    """The characters of ``text`` a font must have (no spaces or control characters),
    each once, in order."""
    seen: dict[str, None] = {}
    for c in text:
        if not c.isspace() and ord(c) >= 0x20 and c not in "\u200b\u200c\u200d\ufeff":
            seen[c] = None
    return "".join(seen)


def missing_glyphs(text: str, font: FontChoice) -> str:
    """The characters of ``text`` that ``font`` has no glyph for ("" when it has all)."""
    cmap = _cmap(str(font.path), font.index)
    return "".join(c for c in drawn_chars(text) if ord(c) not in cmap)


def font_for(text: str, *, bold: bool = False) -> FontChoice | None:
    """A font that draws every character of ``text``; None when none does (see
    :func:`require_font`)."""
    chars = drawn_chars(text)
    for font in candidates(bold=bold):
        if not missing_glyphs(chars, font):
            return font
    if bold:  # a regular face is better than none
        return font_for(text)
    return None


def require_font(text: str, *, bold: bool = False) -> FontChoice:
    """:func:`font_for`, raising :class:`NoFontError` (naming the characters no font has)
    when there is none."""
    font = font_for(text, bold=bold)
    if font is not None:
        return font
    raise NoFontError(text, unreachable_chars(text))


def unreachable_chars(text: str) -> str:
    """The characters of ``text`` that no candidate font has."""
    left = drawn_chars(text)
    for font in candidates():
        left = missing_glyphs(left, font)
        if not left:
            break
    return left


def candidates(*, bold: bool = False) -> tuple[FontChoice, ...]:
    """The fonts :func:`font_for` tries, in order (see the module's docstring)."""
    system = os.environ.get(ENV_SYSTEM_FONTS, "1").strip().lower() not in ("0", "no", "off",
                                                                           "false")
    return _candidates(os.environ.get(ENV_FONT, "").strip(), system, bold)


def clear_cache() -> None:
    """Forget the fonts found and the character maps read (e.g. after installing fonts or
    changing ``REALSCENE_FONT``)."""
    _candidates.cache_clear()
    _cmap.cache_clear()
    _faces.cache_clear()


# ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _candidates(override: str, system: bool, bold: bool) -> tuple[FontChoice, ...]:
    files: list[tuple[str, int | None]] = []  # (path, face index or None: choose one)
    if override:
        files.append((override, None))
    if system:
        files.extend(_fontconfig(bold))
        known = (_KNOWN_BOLD if bold else ()) + _KNOWN_FILES
        windir = Path(os.environ.get("WINDIR", "C:/Windows")) / "Fonts"
        if sys.platform == "win32":
            known += tuple(str(windir / n) for n in
                           (_WINDOWS_BOLD if bold else ()) + _WINDOWS_FILES)
        files.extend((f, None) for f in known)
        files.extend((f, None) for f in _scan_folders())
    out: list[FontChoice] = []
    seen: set[tuple[str, int]] = set()
    for path, index in files:
        for face in _choose_faces(path, index):
            key = (str(face.path), face.index)
            if key not in seen:
                seen.add(key)
                out.append(face)
    return tuple(out)


def _choose_faces(path: str, index: int | None) -> list[FontChoice]:
    """The faces of ``path`` to try: ``index`` if given, else all of a collection with the
    Simplified Chinese ones first."""
    faces = _faces(path)
    if index is not None:
        return [f for f in faces if f.index == index]

    def rank(face: FontChoice) -> tuple[int, int]:
        name = face.family.lower()
        words = name.replace("-", " ").split()
        pref = next((i for i, p in enumerate(_PREFERRED) if p in words or
                     (" " in p and p in name)), len(_PREFERRED))
        return (1 if "mono" in words else 0, pref)

    return sorted(faces, key=rank)


@functools.lru_cache(maxsize=256)
def _faces(path: str) -> tuple[FontChoice, ...]:
    """Every face of a font file (one for .ttf / .otf), () when it is not a readable
    font."""
    p = Path(path)
    if p.suffix.lower() not in FONT_SUFFIXES or not p.is_file():
        return ()
    try:
        from fontTools.ttLib import TTCollection, TTFont

        if p.suffix.lower() in (".ttc", ".otc"):
            fonts = list(TTCollection(str(p), lazy=True).fonts)
        else:
            fonts = [TTFont(str(p), lazy=True)]
        return tuple(FontChoice(p, i, str(f["name"].getDebugName(1) or p.stem))
                     for i, f in enumerate(fonts))
    except Exception:  # noqa: BLE001 - a broken font file is just not a candidate
        return ()


@functools.lru_cache(maxsize=64)
def _cmap(path: str, index: int) -> frozenset[int]:
    try:
        from fontTools.ttLib import TTFont

        font = TTFont(path, fontNumber=index, lazy=True)
        return frozenset((font.getBestCmap() or {}).keys())
    except Exception:  # noqa: BLE001
        return frozenset()


def _fontconfig(bold: bool) -> list[tuple[str, int | None]]:
    """fontconfig's fonts for Simplified Chinese sans-serif text, best first."""
    exe = shutil.which("fc-match")
    if not exe:
        return []
    pattern = "sans-serif:lang=zh-cn" + (":weight=bold" if bold else "")
    try:
        done = subprocess.run([exe, "-s", "-f", "%{file}\t%{index}\n", pattern],
                              capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    out: list[tuple[str, int | None]] = []
    for row in done.stdout.splitlines()[:60]:
        path, _, index = row.partition("\t")
        if path:
            out.append((path, int(index) if index.strip().isdigit() else None))
    return out


def _scan_folders() -> list[str]:
    folders = [Path.home() / ".local/share/fonts", Path.home() / ".fonts",
               Path("/usr/local/share/fonts"), Path("/usr/share/fonts"),
               Path("/Library/Fonts"), Path("/System/Library/Fonts")]
    found: list[str] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for root, _dirs, names in os.walk(folder):
            for name in sorted(names):
                if name.lower().endswith(FONT_SUFFIXES):
                    found.append(os.path.join(root, name))
                    if len(found) >= MAX_SCANNED_FILES:
                        return found
    # CJK-looking names first: they are the ones a label in Chinese needs
    return sorted(found, key=lambda f: 0 if any(k in f.lower() for k in
                                                ("cjk", "han", "hei", "ming", "song"))
                  else 1)


def single_face_file(font: FontChoice) -> Path:
    """A file whose first face is ``font``: the file itself for a .ttf / .otf or face 0
    of a collection; else the face written alone (once) to the user's cache folder. Falls
    back to ``font.path`` when the cache cannot be written."""
    if font.index == 0:
        return font.path
    try:
        import platformdirs

        st = font.path.stat()
        cache = Path(platformdirs.user_cache_dir("realscene")) / "fonts"
        out = cache / f"{font.path.stem}-{font.index}-{st.st_size:x}-{int(st.st_mtime):x}.otf"
        if out.is_file():
            return out
        cache.mkdir(parents=True, exist_ok=True)
        from fontTools.ttLib import TTFont

        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        TTFont(str(font.path), fontNumber=font.index, lazy=False).save(str(tmp))
        os.replace(tmp, out)
        return out
    except Exception:  # noqa: BLE001 - face 0 of the collection is still a CJK face
        return font.path
