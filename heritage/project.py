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
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

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

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "name": self.name, "sha256": self.sha256,
                "transform": self.transform, "display": self.display}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LayerRecord:
        return cls(path=d["path"], name=d.get("name", ""), sha256=d.get("sha256"),
                   transform=d.get("transform"), display=dict(d.get("display") or {}))


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
    vocabulary: Vocabulary = field(default_factory=Vocabulary)
    created: str = field(default_factory=now_iso)
    modified: str = field(default_factory=now_iso)

    # -- paths -----------------------------------------------------------------------
    @property
    def folder(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def relative(self, file: str | Path) -> str:
        file = Path(file).resolve()
        try:
            return os.path.relpath(file, self.folder.resolve()).replace(os.sep, "/")
        except ValueError:  # another drive (Windows)
            return str(file)

    def absolute(self, stored: str) -> Path:
        p = Path(stored)
        return p if p.is_absolute() else (self.folder / p).resolve()

    def missing_layers(self) -> list[LayerRecord]:
        return [rec for rec in self.layers if not self.absolute(rec.path).is_file()]

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
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

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
                vocabulary=Vocabulary.from_dict(d.get("vocabulary")),
                created=d.get("created") or now_iso(),
                modified=d.get("modified") or now_iso(),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProjectError(where, f"invalid project content: {exc}",
                               "restore a backup or the recovery file") from None

    # -- files ---------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path) -> Project:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ProjectError(path, "project file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ProjectError(path, f"cannot read project file: {exc}") from None
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProjectError(path, f"not valid JSON (line {exc.lineno}: {exc.msg})",
                               "the file is damaged; look for a recovery file") from None
        if not isinstance(d, dict):
            raise ProjectError(path, "not a RealScene project (top level is not an object)")
        return cls.from_dict(d, path)

    def save(self, path: str | Path | None = None) -> Path:
        """Write the project atomically; ``path`` (if given) becomes the project path.

        Layer paths are rewritten relative to the new location. The recovery file is
        removed after a successful save.
        """
        if path is not None:
            new = Path(path).resolve()
            if self.path is not None and new != self.path.resolve():
                for rec in self.layers:
                    absolute = self.absolute(rec.path)
                    rec.path = os.path.relpath(absolute, new.parent).replace(os.sep, "/")
            self.path = new
        if self.path is None:
            raise ProjectError("<project>", "no file name to save to")
        self.modified = now_iso()
        atomic_write_text(self.path, self.to_json())
        try:
            recovery_path(self.path).unlink()
        except FileNotFoundError:
            pass
        return self.path

    def autosave(self) -> Path | None:
        """Write the recovery file (atomically); the project file itself is untouched."""
        if self.path is None:
            return None
        target = recovery_path(self.path)
        atomic_write_text(target, self.to_json())
        return target

    def update_hashes(self) -> None:
        for rec in self.layers:
            p = self.absolute(rec.path)
            if p.is_file():
                rec.sha256 = file_sha256(p)


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


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) so that readers only ever see the old or the new content."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: temp file in the same folder, flush + fsync,
    rename over the target, fsync the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


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


_validator = None


def validate(d: dict[str, Any], where: str | Path = "<project>") -> None:
    """Validate against the JSON Schema shipped in the repository."""
    global _validator
    import jsonschema

    if _validator is None:
        schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
        _validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(_validator.iter_errors(d), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        at = "/".join(str(p) for p in e.path) or "(top level)"
        raise ProjectError(where, f"invalid project at {at}: {e.message}",
                           "restore a backup or the recovery file")
