"""Reader registry: picks a reader by normalised extension and content sniffing.

Each format module registers a :class:`ReaderSpec`. :func:`read` first sniffs the
file's leading bytes against every reader that can sniff; a confident content match
wins over the extension, so a mis-named file is still read (or rejected with a reason).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .safety import describe_non_regular
from .types import Dataset, LoadCancelled, LoadError, ProgressFn

SNIFF_BYTES = 4096


@dataclass(frozen=True)
class ReaderSpec:
    """One file format.

    name: short format name shown to users ("LAS", "E57"...).
    extensions: normalised extensions without a dot, lower case ("las", "city.json").
    read: ``read(path, progress) -> PointCloud | Mesh``; raises LoadError.
    sniff: ``sniff(head_bytes, path) -> bool``: True when the content is this format.
    score: breaks ties when several readers claim a file (higher wins).
    folder: ``folder(path) -> bool``: True when this reader opens the *folder* ``path``
        (an OSGB tileset: metadata.xml + Data/); any other folder is "a folder, not a file".
    """

    name: str
    extensions: tuple[str, ...]
    read: Callable[[Path, ProgressFn | None], Dataset]
    sniff: Callable[[bytes, Path], bool] | None = None
    score: int = 0
    folder: Callable[[Path], bool] | None = None


class LoaderRegistry:
    def __init__(self) -> None:
        self._readers: list[ReaderSpec] = []
        self._by_ext: dict[str, list[ReaderSpec]] = {}

    def register(self, spec: ReaderSpec, *, override: bool = False) -> None:
        for existing in self._readers:
            clash = set(existing.extensions) & set(spec.extensions)
            if clash and existing.name == spec.name and not override:
                raise ValueError(f"reader {spec.name} already registered for {clash}")
        self._readers.append(spec)
        self._by_ext.clear()

    @property
    def readers(self) -> list[ReaderSpec]:
        return list(self._readers)

    def extensions(self) -> list[str]:
        return sorted({e for r in self._readers for e in r.extensions})

    def by_extension(self, path: str | Path) -> list[ReaderSpec]:
        ext = normalised_extension(path)
        found = self._by_ext.get(ext)
        if found is None:
            found = self._by_ext[ext] = sorted(
                (r for r in self._readers if ext in r.extensions), key=lambda r: -r.score)
        return list(found)

    def choose(self, path: str | Path) -> ReaderSpec:
        return self._choose(path if isinstance(path, Path) else Path(path))[0]

    def _choose(self, path: Path) -> tuple[ReaderSpec, int]:
        """The reader for ``path`` and the file's size in bytes."""
        by_ext = self.by_extension(path)
        try:  # (os-level calls: no file object, as this runs for every file opened)
            # non-blocking open: a FIFO with no writer must not hang the caller
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            try:
                st = os.fstat(fd)
                if not stat.S_ISREG(st.st_mode):
                    if stat.S_ISDIR(st.st_mode):
                        raise IsADirectoryError(str(path))
                    raise LoadError(path, f"is {describe_non_regular(st.st_mode)}, not a "
                                    "regular file", "open a regular file") from None
                if hasattr(os, "set_blocking"):
                    os.set_blocking(fd, True)
                size = st.st_size
                head = os.read(fd, SNIFF_BYTES)
            finally:
                os.close(fd)
        except FileNotFoundError:
            raise LoadError(path, "file not found", "check the path") from None
        except IsADirectoryError:
            for r in self._readers:
                if r.folder is not None and _opens_folder(r, path):
                    return r, 0
            raise LoadError(path, "is a folder, not a file", "open a file inside it") from None
        except OSError as exc:
            if os.path.isdir(path):
                for r in self._readers:
                    if r.folder is not None and _opens_folder(r, path):
                        return r, 0
                raise LoadError(path, "is a folder, not a file",
                                "open a file inside it") from None
            raise LoadError(path, f"cannot open file: {exc.strerror or exc}",
                            "check that it exists and is readable") from None
        if not head:
            raise LoadError(path, "file is empty", "re-export or re-download it")
        # content wins: prefer a reader that both matches the extension and sniffs ok,
        # then any reader that sniffs ok (highest score), then the extension's reader
        # (it will explain). The extension's readers are sniffed first, so the usual
        # case (a correctly named file) asks one sniffer.
        for r in by_ext:
            if _sniffs(r, head, path):
                return r, size
        sniffed = [r for r in self._readers if r not in by_ext and _sniffs(r, head, path)]
        if sniffed:
            return max(sniffed, key=lambda r: r.score), size
        if by_ext:
            return by_ext[0], size
        known = ", ".join(self.extensions())
        raise LoadError(path, f"unrecognised file type '.{normalised_extension(path)}'",
                        f"RealScene reads: {known}")

    def read(self, path: str | Path, progress: ProgressFn | None = None) -> Dataset:
        """Read ``path`` with the best reader; always raises LoadError on failure."""
        if not isinstance(path, Path):
            path = Path(path)
        spec, size = self._choose(path)
        try:
            data = spec.read(path, progress)
        except (LoadError, LoadCancelled):
            raise
        except MemoryError:
            raise LoadError(path, "not enough memory to read this file",
                            "close other layers or open a smaller file") from None
        except RecursionError:
            raise LoadError(path, f"malformed {spec.name} file (nesting too deep)",
                            "re-export the file") from None
        except BaseException as exc:  # lazrs raises PanicException (a BaseException)
            if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
                raise
            raise LoadError(path, f"cannot read {spec.name} file: {_describe(exc)}",
                            "the file may be truncated or corrupt; re-export it") from None
        data.metadata.setdefault("source", str(path))
        data.metadata.setdefault("format", spec.name)
        data.metadata.setdefault("file_size", size)
        _check_crs(data)
        return data


def _check_crs(data: Dataset) -> None:
    """Warn when the data's eastings do not fit its CRS (a Gauss-Krüger zone prefix
    mismatch, see loaders.crs.easting_warning); LAS files are checked by their reader."""
    if getattr(data, "crs", None) is None:
        return
    from .crs import data_crs_warnings

    try:  # (a LAS header's bounds: no pass over the points)
        meta = data.metadata
        lo, hi = (meta["bounds_min"], meta["bounds_max"]) if "bounds_min" in meta \
            else data.bounds
    except Exception:  # noqa: BLE001 - a check must never fail a read
        return
    warnings = data.metadata.setdefault("warnings", [])
    warnings += [w for w in data_crs_warnings(data.crs, lo, hi) if w not in warnings]


def _sniffs(spec: ReaderSpec, head: bytes, path: Path) -> bool:
    if spec.sniff is None:
        return False
    try:
        return bool(spec.sniff(head, path))
    except Exception:  # a sniffer must never break reading
        return False


def _opens_folder(spec: ReaderSpec, path: Path) -> bool:
    try:
        return bool(spec.folder(path))  # type: ignore[misc]
    except Exception:  # a folder check must never break reading
        return False


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = type(exc).__name__
    return f"{name}: {text}"[:300] if text else name


def normalised_extension(path: str | Path) -> str:
    name = os.path.basename(os.fspath(path)).lower()
    for compound in ("city.json", "city.jsonl", "copc.laz"):
        if name.endswith("." + compound):
            return compound
    suffix = os.path.splitext(name)[1]
    return suffix[1:] if suffix else ""


REGISTRY = LoaderRegistry()
