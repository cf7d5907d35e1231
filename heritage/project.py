"""The project document: one human-readable JSON file that never loses work.

- ``Project.to_dict()`` / ``Project.from_dict()``: the document (schema in
  ``heritage/schema/project.schema.json``; ``SCHEMA_VERSION`` is the current version).
- ``save``: atomic (temp file in the same folder, flush + fsync, rename, fsync folder),
  so a crash at any moment leaves either the old or the new file, never a torn one.
- ``autosave`` writes a recovery file beside the project; ``recovery_candidate`` finds
  one that is newer than the project after a crash.
- Older schema versions are migrated on open; a newer one is refused, never rewritten.
- Layer paths are stored relative to the project; a missing layer file is reported in
  ``Project.missing_layers()`` and can be relinked with ``relink``.

Projects come from strangers too, so opening one is bounded and strict: the file is read
only if it is a regular file; JSON nested too deeply, numbers with thousands of digits,
``NaN``/``Infinity`` and numbers that overflow, unpaired surrogates (text that could never
be saved again) and NUL bytes in paths are each one :class:`ProjectError` naming the file
and the place; the document is checked against the JSON Schema with a compiled validator
(``jsonschema_rs``, cached; ``jsonschema`` when it is missing), display values included.
Layer paths that lead outside the project folder (``..``, absolute, links) still open --
the user chose them when saving -- but each is named in ``Project.warnings``.

Saving keeps the file's permissions (a new file gets the umask default), cleans up temp
files left by a save that was killed (:func:`stale_temp_files`; a complete one newer than
the project becomes the recovery file), and its errors name the project, never the temp
file. :func:`same_file` tells whether an output would overwrite an input.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import math
import os
import re
import secrets
import stat
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Callable, Iterator

from loaders.safety import UnsafePath, open_regular

from .model import Annotation, Measurement, Tour, View, Vocabulary, now_iso

SCHEMA_ID = "https://realscene.example/schema/project.schema.json"
FORMAT_NAME = "realscene-project"
SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).with_name("schema") / "project.schema.json"

#: version -> function upgrading a document of that version to version + 1
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


class ProjectError(Exception):
    """A project file cannot be opened or saved; the message says why and what to do."""

    def __init__(self, path: str | Path, reason: str, hint: str = "") -> None:
        self.path, self.reason, self.hint = str(path), reason, hint
        super().__init__(f"{path}: {reason}" + (f" ({hint})" if hint else ""))


# ---------------------------------------------------------------------------------------
# reading JSON from strangers
# ---------------------------------------------------------------------------------------

#: an unpaired (or any) surrogate written as a JSON escape; checked precisely when present
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
#: integers with more digits than this do not fit a float (10**308)
_MAX_INT_DIGITS = 308


class _Flags:
    __slots__ = ("numbers",)

    def __init__(self) -> None:
        self.numbers = False


def parse_json(text: str, where: str | Path) -> Any:
    """``json.loads`` for a document from someone else, every problem one ProjectError:
    nesting too deep, numbers with too many digits, NaN/Infinity (literals, or numbers
    that overflow a float) and unpaired surrogates -- the last two named by their place
    in the document."""
    flags = _Flags()

    def constant(name: str) -> float:
        flags.numbers = True
        return float(name)

    def number(literal: str) -> float:
        value = float(literal)
        if value - value != 0.0:  # inf (NaN cannot come from a literal)
            flags.numbers = True
        return value

    def integer(literal: str) -> int:
        if len(literal) > _MAX_INT_DIGITS:
            flags.numbers = True
        return int(literal)

    try:
        doc = json.loads(text, parse_constant=constant, parse_float=number,
                         parse_int=integer)
    except RecursionError:
        raise ProjectError(where, "JSON nested too deeply", "the file is damaged or was "
                           "made to crash readers") from None
    except json.JSONDecodeError as exc:
        raise ProjectError(where, f"not valid JSON (line {exc.lineno}: {exc.msg})",
                           "the file is damaged; look for a recovery file") from None
    except ValueError as exc:  # int(): more digits than sys.get_int_max_str_digits()
        if "digits" in str(exc):
            raise ProjectError(where, "a number has thousands of digits",
                               "the file is damaged or was made to crash readers") from None
        raise ProjectError(where, f"not valid JSON ({exc})") from None
    surrogates = _SURROGATE_ESCAPE.search(text) is not None
    if flags.numbers or surrogates:
        problem = find_unsavable(doc)
        if problem:
            raise ProjectError(where, problem, "the file is damaged or was made to "
                               "crash readers")
    return doc


def _json_path(path: tuple) -> str:
    return "/".join(str(p) for p in path) or "(top level)"


def find_unsavable(doc: Any) -> str | None:
    """The first value (in document order) that cannot be saved as strict JSON in UTF-8:
    a NaN, an infinity, an integer too large for a float, text with an unpaired
    surrogate -> "PLACE: what is wrong"; None when there is none."""
    stack: list[tuple[tuple, Any]] = [((), doc)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            items = list(value.items())
            for key, _ in items:
                if isinstance(key, str) and _unpaired(key):
                    return (f"{_json_path(path)}: the name {_shown(key)} holds an unpaired "
                            "surrogate (not valid Unicode; it could never be saved)")
            stack.extend(((*path, k), v) for k, v in reversed(items))
        elif isinstance(value, list):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(value))))
        elif isinstance(value, str):
            if _unpaired(value):
                return (f"{_json_path(path)}: text {_shown(value)} holds an unpaired "
                        "surrogate (not valid Unicode; it could never be saved)")
        elif isinstance(value, float):
            if not math.isfinite(value):
                return (f"{_json_path(path)}: {value!r} is not a finite number (NaN and "
                        "Infinity are not allowed)")
        elif isinstance(value, int) and not isinstance(value, bool):
            if abs(value) >= 1 << 1024:
                return f"{_json_path(path)}: a number too large for a float"
    return None


def _unpaired(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _shown(text: str, limit: int = 40) -> str:
    shown = text.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
    return repr(shown if len(shown) <= limit else shown[:limit] + "...")


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


@dataclass
class LayerRecord:
    """A layer as the project stores it: where the file is and how it is displayed."""

    path: str  # relative to the project folder (absolute only if on another drive)
    name: str = ""
    sha256: str | None = None
    transform: list[list[float]] | None = None
    display: dict[str, Any] = field(default_factory=dict)
    #: a CRS the user assigned to the layer ("EPSG:4547", PROJ or WKT): used instead of
    #: the file's own (which is missing or wrong); None: the file's
    crs: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"path": self.path, "name": self.name, "sha256": self.sha256,
               "transform": self.transform, "display": self.display}
        if self.crs:
            out["crs"] = self.crs
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LayerRecord:
        return cls(path=d["path"], name=d.get("name", ""), sha256=d.get("sha256"),
                   transform=d.get("transform"), display=dict(d.get("display") or {}),
                   crs=d.get("crs") or None)


@dataclass
class Project:
    path: Path | None = None
    title: str = ""
    crs: str | None = None  # "EPSG:28992" or WKT
    layers: list[LayerRecord] = field(default_factory=list)
    views: list[View] = field(default_factory=list)
    tours: list[Tour] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    #: annotations proposed from detected change, not accepted yet (not exported)
    proposals: list[Annotation] = field(default_factory=list)
    vocabulary: Vocabulary = field(default_factory=Vocabulary)
    created: str = field(default_factory=now_iso)
    modified: str = field(default_factory=now_iso)
    #: what opening the file noticed without refusing it (layers outside the folder...)
    warnings: list[str] = field(default_factory=list, compare=False, repr=False)

    # -- paths -----------------------------------------------------------------------
    @property
    def folder(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def relative(self, file: str | Path) -> str:
        if is_remote(file):  # a streamed URL (COPC, 3D Tiles) is kept as it is
            return str(file)
        file = Path(file).resolve()
        try:
            return os.path.relpath(file, self.folder.resolve()).replace(os.sep, "/")
        except ValueError:  # another drive (Windows)
            return str(file)

    def absolute(self, stored: str) -> Path:
        p = Path(stored)
        return p if p.is_absolute() else (self.folder / p).resolve()

    def location(self, stored: str) -> str | Path:
        """Where a layer is read from: a URL as stored, else :meth:`absolute`."""
        return stored if is_remote(stored) else self.absolute(stored)

    def outside_folder(self, record: LayerRecord) -> bool:
        """True when the layer's file lies outside the project folder (an absolute path,
        ``..``, or a link leading out). Such layers still open (the user chose them when
        saving), but :attr:`warnings` names each one when the project is opened. A URL
        is not in the folder either (the warning names the host it streams from)."""
        if is_remote(record.path):
            return True
        base = os.path.realpath(self.folder)
        target = os.path.realpath(self.absolute(record.path))
        try:
            return os.path.commonpath([base, target]) != base
        except ValueError:  # another drive
            return True

    def missing_layers(self) -> list[LayerRecord]:
        # a URL is never missing (it is asked for when read); a tileset folder is a dir
        return [rec for rec in self.layers if not is_remote(rec.path)
                and not (self.absolute(rec.path).is_file() or self.absolute(rec.path).is_dir())]

    def relink(self, record: LayerRecord, new_file: str | Path) -> None:
        record.path = self.relative(new_file)
        record.sha256 = file_sha256(new_file)

    def annotation(self, ann_id: str) -> Annotation:
        for a in self.annotations:
            if a.id == ann_id:
                return a
        raise KeyError(ann_id)

    # -- document ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "$schema": SCHEMA_ID,
            "format": FORMAT_NAME,
            "schema_version": SCHEMA_VERSION,
            "title": self.title,
            "created": self.created,
            "modified": self.modified,
            "crs": self.crs,
            "layers": [l.to_dict() for l in self.layers],
            "views": [v.to_dict() for v in self.views],
            "tours": [t.to_dict() for t in self.tours],
            "vocabulary": self.vocabulary.to_dict(),
            "annotations": [a.to_dict() for a in self.annotations],
            "measurements": [m.to_dict() for m in self.measurements],
            **({"proposals": [a.to_dict() for a in self.proposals]} if self.proposals else {}),
        }

    def to_json(self) -> str:
        """The document as strict JSON: NaN, Infinity and unpaired surrogates are refused
        (ValueError naming the place) instead of written as text nothing reads back."""
        d = self.to_dict()
        try:
            text = json.dumps(d, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
            text.encode("utf-8")
        except (ValueError, OverflowError):
            raise ValueError(find_unsavable(d) or "a value cannot be written as JSON") \
                from None
        return text

    @classmethod
    def from_dict(cls, d: dict[str, Any], path: str | Path | None = None) -> Project:
        where = path or "<project>"
        d = upgrade(d, where)
        validate(d, where)
        try:
            return cls(
                path=Path(path) if path else None,
                title=d.get("title", ""),
                crs=d.get("crs"),
                layers=[LayerRecord.from_dict(l) for l in d.get("layers", [])],
                views=[View.from_dict(v) for v in d.get("views", [])],
                tours=[Tour.from_dict(t) for t in d.get("tours", [])],
                annotations=[Annotation.from_dict(a) for a in d.get("annotations", [])],
                measurements=[Measurement.from_dict(m) for m in d.get("measurements", [])],
                proposals=[Annotation.from_dict(a) for a in d.get("proposals", [])],
                vocabulary=Vocabulary.from_dict(d.get("vocabulary")),
                created=d.get("created") or now_iso(),
                modified=d.get("modified") or now_iso(),
            )
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise ProjectError(where, f"invalid project content: {exc}",
                               "restore a backup or the recovery file") from None

    # -- files ---------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path) -> Project:
        path = Path(path)
        text = read_text(path)
        clean_stale_temp_files(path)
        d = parse_json(text, path)
        del text  # (the document is as large again; keep one of them)
        if not isinstance(d, dict):
            raise ProjectError(path, "not a RealScene project (top level is not an object)")
        project = cls.from_dict(d, path)
        for rec in project.layers:
            if is_remote(rec.path):
                from urllib.parse import urlsplit

                project.warnings.append(
                    f"layer {rec.name or rec.path!r} streams from "
                    f"{urlsplit(rec.path).hostname}; it is opened because the project names it")
            elif project.outside_folder(rec):
                project.warnings.append(
                    f"layer {rec.name or rec.path!r} is outside the project folder "
                    f"({rec.path}); it is opened because the project names it")
        return project

    def save(self, path: str | Path | None = None) -> Path:
        """Write the project atomically; ``path`` (if given) becomes the project path.

        Layer paths are rewritten relative to the new location. The recovery file is
        removed after a successful save.
        """
        if path is not None:
            new = Path(path).resolve()
            if self.path is not None and new != self.path.resolve():
                for rec in self.layers:
                    if is_remote(rec.path):
                        continue
                    absolute = self.absolute(rec.path)
                    rec.path = os.path.relpath(absolute, new.parent).replace(os.sep, "/")
            self.path = new
        if self.path is None:
            raise ProjectError("<project>", "no file name to save to")
        self.modified = now_iso()
        try:
            text = self.to_json()
        except ValueError as exc:
            raise ProjectError(self.path, f"cannot save: {exc}",
                               "correct that value and save again") from None
        clean_stale_temp_files(self.path, recover=False)
        try:
            atomic_write_text(self.path, text)
        except OSError as exc:
            raise ProjectError(self.path, f"cannot save: {exc.strerror or exc}",
                               "choose another folder or free some space") from None
        try:
            recovery_path(self.path).unlink()
        except FileNotFoundError:
            pass
        except OSError:
            pass
        return self.path

    def autosave(self) -> Path | None:
        """Write the recovery file (atomically); the project file itself is untouched."""
        if self.path is None:
            return None
        target = recovery_path(self.path)
        try:
            text = self.to_json()
        except ValueError as exc:
            raise ProjectError(self.path, f"cannot autosave: {exc}") from None
        try:
            atomic_write_text(target, text)
        except OSError as exc:
            raise ProjectError(self.path, f"cannot write the recovery file: "
                               f"{exc.strerror or exc}") from None
        return target

    def update_hashes(self) -> None:
        for rec in self.layers:
            if is_remote(rec.path):
                continue
            p = self.absolute(rec.path)
            if p.is_file():
                rec.sha256 = file_sha256(p)


def is_remote(path: str | Path) -> bool:
    """True for an http(s) URL (a streamed layer), which is not a path in the folder."""
    from loaders.copc import is_url

    return is_url(path)


def recovery_path(project_path: str | Path) -> Path:
    p = Path(project_path)
    return p.with_name(f".{p.name}.recovery")


def recovery_candidate(project_path: str | Path) -> Path | None:
    """A recovery file newer than the project (left by a crash), or None."""
    rec = recovery_path(project_path)
    if not rec.is_file():
        return None
    project = Path(project_path)
    if project.is_file() and project.stat().st_mtime_ns >= rec.stat().st_mtime_ns:
        return None
    return rec


def read_text(path: Path, where: str | Path | None = None) -> str:
    """A project's text: a regular file only (a FIFO or device is refused, never waited
    for), UTF-8; every problem one ProjectError naming ``where`` (default: ``path``)."""
    where = path if where is None else where
    try:
        with open_regular(path) as fh:
            data = fh.read()
    except FileNotFoundError:
        raise ProjectError(where, "project file not found") from None
    except UnsafePath as exc:
        raise ProjectError(where, f"cannot read project file: it {exc.reason}") from None
    except IsADirectoryError:
        raise ProjectError(where, "cannot read project file: it is a folder") from None
    except OSError as exc:
        raise ProjectError(where, f"cannot read project file: {exc.strerror or exc}") \
            from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProjectError(where, f"not UTF-8 text (byte {exc.start})",
                           "the file is damaged or not a RealScene project") from None


def same_file(a: str | Path, b: str | Path) -> bool:
    """True when ``a`` and ``b`` are the same file (links, hard links and ``..``
    included), so writing one would overwrite the other."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


# -- atomic writes --------------------------------------------------------------------------

def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(6)}.tmp")


def _temp_pattern(name: str) -> re.Pattern:
    # ".NAME.<pid>-<hex>.tmp" (this version) or ".NAME.<8 chars>.tmp" (tempfile.mkstemp,
    # earlier versions)
    return re.compile(r"^\." + re.escape(name) + r"\.(?:(\d+)-[0-9a-f]+|[a-z0-9_]{8})\.tmp$")


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill would terminate it; assume alive, decided by age below
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, owned by someone else
        return True
    return True


def stale_temp_files(project_path: str | Path, *, min_age_s: float = 3600.0) -> list[Path]:
    """Temp files that a killed save of this project (or of its recovery file) left
    behind, oldest first. A temp file belongs to a save still running when its process
    is alive (its id is in the name); without a live process (or where that cannot be
    told) it is stale; one without a process id (earlier versions) is stale once
    ``min_age_s`` old."""
    project = Path(project_path)
    folder = project.parent
    patterns = [_temp_pattern(project.name), _temp_pattern(recovery_path(project).name)]
    now = time.time()
    found = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for entry in entries:
        for rx in patterns:
            m = rx.match(entry.name)
            if not m:
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                break
            if not stat.S_ISREG(st.st_mode):
                break
            old = now - st.st_mtime >= min_age_s
            if m.group(1) is not None:
                pid = int(m.group(1))
                stale = not _process_alive(pid) or (os.name == "nt" and old)
                if pid == os.getpid():
                    stale = False
            else:
                stale = old
            if stale:
                found.append((st.st_mtime_ns, Path(entry.path)))
            break
    return [p for _, p in sorted(found)]


def clean_stale_temp_files(project_path: str | Path, *, recover: bool = True) -> list[Path]:
    """Delete :func:`stale_temp_files` of a project (quietly: a read-only folder is left
    as it is). With ``recover``, a complete project temp file newer than the project and
    than its recovery file becomes the recovery file (:func:`recovery_candidate` then
    offers it) instead of being deleted. -> the files removed or moved."""
    project = Path(project_path)
    done = []
    try:
        project_mtime = project.stat().st_mtime_ns
    except OSError:
        project_mtime = None
    rec = recovery_path(project)
    for tmp in stale_temp_files(project):
        try:
            if recover and tmp.name.startswith(f".{project.name}.") and project_mtime is \
                    not None and _complete_project(tmp, project_mtime, rec):
                os.replace(tmp, rec)
            else:
                tmp.unlink()
            done.append(tmp)
        except OSError:
            pass
    return done


def _complete_project(tmp: Path, project_mtime: int, rec: Path) -> bool:
    try:
        st = tmp.stat()
        if st.st_mtime_ns <= project_mtime:
            return False
        if rec.exists() and rec.stat().st_mtime_ns >= st.st_mtime_ns:
            return False
        doc = json.loads(read_text(tmp, tmp))
    except (OSError, ProjectError, ValueError, RecursionError):
        return False
    return isinstance(doc, dict) and doc.get("format") == FORMAT_NAME


@contextmanager
def atomic_writer(path: str | Path, mode: str = "w") -> Iterator[IO]:
    """Write a file so that readers only ever see the old or the new content: a temp file
    in the same folder (named after the target and this process, see
    :func:`stale_temp_files`), flushed and fsynced, renamed over the target, the folder
    fsynced. The new file keeps the old one's permissions (and owner, where allowed); a
    new file gets the default permissions (the umask). ``mode`` is "w" (UTF-8 text) or
    "wb". An OSError names ``path``, never the temp file."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            old = os.stat(path)
        except FileNotFoundError:
            old = None
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) \
            | getattr(os, "O_BINARY", 0)
        for _ in range(100):
            tmp = _temp_name(path)
            try:
                fd = os.open(tmp, flags, 0o666)  # the umask applies, as for any new file
                break
            except FileExistsError:
                continue
        else:
            raise FileExistsError(f"no free temp file name beside {path}")
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from None
    try:
        fh = os.fdopen(fd, "wb") if mode == "wb" else \
            os.fdopen(fd, "w", encoding="utf-8", newline="")
        with fh:
            if old is not None and stat.S_ISREG(old.st_mode):
                _copy_mode_and_owner(fh.fileno(), tmp, old)
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from None
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def _copy_mode_and_owner(fd: int, tmp: Path, old: os.stat_result) -> None:
    mode = stat.S_IMODE(old.st_mode)
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)
    else:
        os.chmod(tmp, mode)
    if hasattr(os, "fchown") and (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
        try:
            os.fchown(fd, old.st_uid, old.st_gid)
        except OSError:  # not root: keep our own owner, and the group where allowed
            try:
                os.fchown(fd, -1, old.st_gid)
            except OSError:
                pass


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) so that readers only ever see the old or the new content."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_writer`)."""
    with atomic_writer(path, "wb") as fh:
        fh.write(data)


def upgrade(d: dict[str, Any], where: str | Path) -> dict[str, Any]:
    """Migrate an older document to the current schema version; refuse a newer one."""
    if d.get("format") != FORMAT_NAME:
        raise ProjectError(where, "not a RealScene project (missing \"format\": "
                           f"\"{FORMAT_NAME}\")")
    version = d.get("schema_version")
    if not isinstance(version, int) or version < 1:
        raise ProjectError(where, f"unknown project schema version {version!r}")
    if version > SCHEMA_VERSION:
        raise ProjectError(
            where, f"this project was written by a newer RealScene (schema version "
            f"{version}; this RealScene reads up to {SCHEMA_VERSION})",
            "update RealScene to open it; the file was not changed")
    while version < SCHEMA_VERSION:
        d = MIGRATIONS[version](dict(d))
        version += 1
        d["schema_version"] = version
    return d


@functools.lru_cache(maxsize=1)
def project_schema() -> dict[str, Any]:
    """The project JSON Schema shipped in ``heritage/schema/`` (parsed once)."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _compiled_validator() -> tuple[str, Any]:
    """The schema compiled once: jsonschema_rs (Rust; ~0.1 s for 200k annotations) or,
    without it, jsonschema (pure Python; ~50 s for the same)."""
    try:
        import jsonschema_rs

        return "rs", jsonschema_rs.Draft202012Validator(project_schema())
    except ImportError:
        return "py", reference_validator()


@functools.lru_cache(maxsize=1)
def reference_validator() -> Any:
    """The pure-Python jsonschema validator: the reference that decides what Rust cannot."""
    import jsonschema

    return jsonschema.Draft202012Validator(project_schema())


def first_schema_error(d: dict[str, Any]) -> tuple[str, str] | None:
    """(place, message) of the first schema violation in document order, or None."""
    kind, validator = _compiled_validator()
    if kind == "rs":
        try:
            if validator.is_valid(d):
                return None
            errors = [(list(e.instance_path), e.message)
                      for e in itertools.islice(validator.iter_errors(d), 200)]
        except (ValueError, OverflowError, TypeError, RecursionError):
            # a value Rust cannot take (e.g. an integer beyond 64 bits): the reference
            # implementation decides
            errors = None
        if errors is not None:
            if not errors:
                return None
            path, message = min(errors, key=lambda e: _order(e[0]))
            return _json_path(tuple(path)), message
    errors = sorted(reference_validator().iter_errors(d), key=lambda e: _order(e.path))
    if not errors:
        return None
    return _json_path(tuple(errors[0].path)), errors[0].message


def _order(path: Any) -> list[tuple[int, Any]]:
    return [(0, p) if isinstance(p, int) else (1, str(p)) for p in path]


def validate(d: dict[str, Any], where: str | Path = "<project>") -> None:
    """Validate against the JSON Schema shipped in the repository, then what a schema
    cannot say (finite numbers, NUL bytes in paths); the first problem is a ProjectError
    naming its place."""
    problem = None
    error = first_schema_error(d)
    if error is not None:  # a NaN or infinity reaches the validator as null: say so
        problem = find_unsavable(d) or f"{error[0]}: {error[1]}"
    else:
        problem = _nul_in_paths(d)
    if problem is not None:
        raise ProjectError(where, f"invalid project at {problem}",
                           "restore a backup or the recovery file")


def _nul_in_paths(d: dict[str, Any]) -> str | None:
    for i, layer in enumerate(d.get("layers") or ()):
        if isinstance(layer, dict) and "\x00" in str(layer.get("path", "")):
            return f"layers/{i}/path: the path contains a NUL byte"
    for i, ann in enumerate(d.get("annotations") or ()):
        media = ann.get("media") if isinstance(ann, dict) else None
        for j, m in enumerate(media or ()):
            if "\x00" in str(m):
                return f"annotations/{i}/media/{j}: the path contains a NUL byte"
    return None
