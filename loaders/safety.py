"""Opening files that come from strangers: regular files only, paths kept inside their folder.

Every file RealScene opens on behalf of a file someone sent (an OBJ's material library
and textures, a glTF's buffers and images, a project's layers and media, an annotation
import's media) goes through :func:`resolve_inside`; every file opened at all goes
through :func:`check_regular_file` or :func:`open_regular`, so that a FIFO or a device
gives a clear error instead of a hang or an endless read.

No Qt, no VTK; used by ``loaders`` and ``heritage``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from urllib.parse import unquote, urlsplit


class UnsafePath(ValueError):
    """A path named inside a file points somewhere it must not (outside the file's
    folder, through a link that leaves it, at something that is not a regular file)."""

    def __init__(self, reference: str, reason: str) -> None:
        self.reference = reference
        self.reason = reason
        super().__init__(f"{reference!r} {reason}")


def describe_non_regular(mode: int) -> str:
    """What a non-regular file is, in words ("a named pipe (FIFO)", "a device"...)."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_regular_file(path: str | os.PathLike) -> os.stat_result:
    """``os.stat`` of ``path`` (links followed); raises ``UnsafePath`` unless it is a
    regular file. ``FileNotFoundError``/``PermissionError`` propagate as they are."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise UnsafePath(os.fspath(path), f"is {describe_non_regular(st.st_mode)}, "
                                          "not a regular file")
    return st


def open_regular(path: str | os.PathLike, max_bytes: int | None = None):
    """Open ``path`` for binary reading, refusing anything but a regular file.

    The file is opened without blocking (so a FIFO with no writer cannot hang the
    caller), checked with ``fstat`` on the open descriptor (no race between the check and
    the open), then switched back to blocking reads. ``max_bytes`` refuses larger files.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                 | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafePath(os.fspath(path), f"is {describe_non_regular(st.st_mode)}, "
                                              "not a regular file")
        if max_bytes is not None and st.st_size > max_bytes:
            raise UnsafePath(os.fspath(path), f"is {st.st_size:,} bytes, more than the "
                                              f"{max_bytes:,} expected")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike, max_bytes: int | None = None) -> bytes:
    """The whole content of a regular file of at most ``max_bytes`` bytes."""
    with open_regular(path, max_bytes) as fh:
        return fh.read() if max_bytes is None else fh.read(max_bytes + 1)[:max_bytes]


def resolve_inside(base_dir: str | os.PathLike, reference: str, *,
                   must_exist: bool = True) -> Path:
    """Resolve ``reference`` (a relative path or ``file:`` URI written inside a file) against
    ``base_dir`` and return the real path, which must lie inside ``base_dir``.

    Refused with :class:`UnsafePath`: absolute paths, drive letters, NUL bytes, URLs other
    than relative ones, ``..`` escapes, symbolic links that lead out of the folder, and
    (when ``must_exist``) anything that is not an existing regular file.
    """
    if not isinstance(reference, str) or not reference:
        raise UnsafePath(str(reference), "is not a file name")
    if "\x00" in reference:
        raise UnsafePath(reference.replace("\x00", "\\0"), "contains a NUL byte")
    ref = reference
    parts = urlsplit(ref)
    if parts.scheme and len(parts.scheme) > 1:  # (one letter: a Windows drive, below)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            raise UnsafePath(reference, "is a URL, not a file beside this one")
        ref = unquote(parts.path)
    if "\x00" in ref:
        raise UnsafePath(reference, "contains a NUL byte")
    if os.path.isabs(ref) or ref.startswith(("/", "\\")) or (
            len(ref) > 1 and ref[1] == ":" and ref[0].isalpha()):
        raise UnsafePath(reference, "is an absolute path; only files inside the same "
                                    "folder are read")
    base = os.path.realpath(base_dir)
    target = os.path.realpath(os.path.join(base, ref.replace("\\", "/")))
    try:
        inside = os.path.commonpath([base, target]) == base
    except ValueError:  # different drives
        inside = False
    if not inside:
        raise UnsafePath(reference, "points outside its own folder (through '..' or a link)")
    if must_exist:
        try:
            check_regular_file(target)
        except FileNotFoundError:
            raise UnsafePath(reference, "does not exist") from None
        except UnsafePath as exc:
            raise UnsafePath(reference, exc.reason) from None
        except OSError as exc:  # a link loop, no permission...
            raise UnsafePath(reference, f"cannot be opened ({exc.strerror or exc})") from None
    return Path(target)


__all__ = ["UnsafePath", "check_regular_file", "describe_non_regular", "open_regular",
           "read_regular", "resolve_inside"]


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """True when ``a`` and ``b`` name the same file (the same path once resolved, or the
    same inode through a link): an output must never overwrite its own input."""
    a, b = Path(a), Path(b)
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False
