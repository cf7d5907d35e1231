"""Media named by a project or an annotation file: untrusted paths, decoded images only.

A project or an imported annotation file may name, as an annotation's media,
``../../secret.jpg``, ``/home/me/.ssh/id_rsa``, ``file:///etc/passwd`` or a link to
``/dev/zero``. Nothing of that kind may reach what a user sends back (a condition report)
or what the window hands to the system opener:

- :func:`resolve_media` resolves a reference inside the project folder (links included)
  and refuses everything else with :class:`MediaRefused` (a ``ValueError`` whose message
  names the reference and the reason);
- :func:`openable` is the file the GUI may hand to the system opener: an image or a
  document (:data:`OPENABLE_EXTENSIONS`) inside the project folder whose content matches
  its kind, else None;
- :func:`embeddable_image` decodes an image with Pillow (only the formats in
  :data:`IMAGE_FORMATS`; at most :data:`MAX_IMAGE_PIXELS` pixels, so a decompression bomb
  is refused before it is decoded) and writes it afresh as PNG or JPEG from the decoded
  pixels: no byte and no metadata (EXIF, GPS, ICC, comments) of the original travels.

No Qt, no VTK.
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from loaders.safety import UnsafePath, open_regular, resolve_inside

#: kinds of file the GUI may open with the system's default application
OPENABLE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".pdf", ".txt")
#: Pillow formats an embedded image may be in (no EPS: Pillow runs Ghostscript for it)
IMAGE_FORMATS = ("JPEG", "PNG", "TIFF", "WEBP", "GIF", "BMP")
#: larger images are refused before decoding (a 50-megapixel photo is fine)
MAX_IMAGE_PIXELS = 100_000_000
#: larger media files are not read at all
MAX_MEDIA_BYTES = 512 * 1024 * 1024
#: long side of an embedded image
MAX_EMBED_PX = 1600

_MAGIC = {
    ".jpg": (b"\xff\xd8\xff",), ".jpeg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".tif": (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"),
    ".tiff": (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"),
    ".pdf": (b"%PDF-",),
}


class MediaRefused(ValueError):
    """A media reference that is not used: outside the project folder, not a regular
    file, not a decodable image... ``str()`` names the reference and the reason."""

    def __init__(self, reference: str, reason: str) -> None:
        self.reference, self.reason = reference, reason
        shown = reference.replace("\x00", "\\0")
        super().__init__(f"{shown!r} {reason}")


def resolve_media(project_dir: str | os.PathLike, reference: str) -> Path:
    """The real path of ``reference`` (relative to ``project_dir``, ``file:`` URIs
    allowed), which must be an existing regular file inside ``project_dir``; symbolic
    links are followed and must stay inside too. Raises :class:`MediaRefused`."""
    try:
        return resolve_inside(project_dir, reference)
    except UnsafePath as exc:
        reason = exc.reason
        if "outside" in reason or "absolute" in reason or "URL" in reason:
            reason += " (media are read only from the project folder)"
        raise MediaRefused(str(reference), reason) from None


def refusal_reason(project_dir: str | os.PathLike, reference: str) -> str | None:
    """Why ``reference`` may not be handed to the system opener (None: it may)."""
    try:
        path = resolve_media(project_dir, reference)
    except MediaRefused as exc:
        return exc.reason
    ext = path.suffix.lower()
    if ext not in OPENABLE_EXTENSIONS:
        return (f"is not an image or document ({path.suffix or 'no extension'}); only "
                + ", ".join(OPENABLE_EXTENSIONS) + " files are opened")
    try:
        with open_regular(path) as fh:
            head = fh.read(65536)
    except UnsafePath as exc:
        return exc.reason
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if ext in _MAGIC:
        ok = head.startswith(_MAGIC[ext])
    elif ext == ".webp":
        ok = head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    else:  # .txt: text has no NUL bytes
        ok = b"\x00" not in head
    return None if ok else f"is named {ext} but its content is not of that kind"


def openable(project_dir: str | os.PathLike, reference: str) -> Path | None:
    """The file to hand to the system opener for ``reference``, or None: only an image
    or a document (:data:`OPENABLE_EXTENSIONS`) inside the project folder, whose first
    bytes match its kind (a program named ``photo.jpg`` is not opened).
    :func:`refusal_reason` says why not."""
    if refusal_reason(project_dir, reference) is not None:
        return None
    return resolve_media(project_dir, reference)


@dataclass
class EmbeddedImage:
    """An image re-encoded from its decoded pixels."""

    data: bytes
    mime: str  # image/png or image/jpeg
    size: tuple[int, int]  # pixels of ``data``
    original_size: tuple[int, int]  # pixels of the source


def decode_image(data: bytes, label: str, *, max_px: int = MAX_EMBED_PX,
                 prefer_png: bool = False) -> EmbeddedImage:
    """Decode ``data`` (one of :data:`IMAGE_FORMATS`, at most :data:`MAX_IMAGE_PIXELS`)
    and encode it afresh -- PNG when it has transparency or ``prefer_png``, else JPEG --
    downscaled to ``max_px`` on the long side, EXIF orientation applied, no metadata
    kept. Raises :class:`MediaRefused` (naming ``label``) when it cannot."""
    from PIL import Image, ImageOps

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS)) as im:
                w, h = im.size
                if w <= 0 or h <= 0 or w * h > MAX_IMAGE_PIXELS:
                    raise MediaRefused(label, f"is an image of {w:,} x {h:,} pixels, more "
                                       f"than the {MAX_IMAGE_PIXELS:,} allowed")
                if im.format == "JPEG":
                    im.draft("RGB", (max_px, max_px))  # decode at a reduced scale
                im.load()
                im = ImageOps.exif_transpose(im)
                alpha = im.mode in ("RGBA", "LA", "PA") or (
                    im.mode == "P" and "transparency" in im.info)
                im = im.convert("RGBA" if alpha else "RGB")
                if max(im.size) > max_px:
                    im.thumbnail((max_px, max_px))
                out = io.BytesIO()
                if alpha or prefer_png:
                    im.save(out, "PNG", optimize=True)
                    mime = "image/png"
                else:
                    im.save(out, "JPEG", quality=85)
                    mime = "image/jpeg"
                return EmbeddedImage(out.getvalue(), mime, im.size, (w, h))
    except MediaRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MediaRefused(label, "is an image too large to decode (decompression "
                           "bomb?)") from None
    except MemoryError:
        raise MediaRefused(label, "is an image too large to decode") from None
    except Exception as exc:  # Pillow raises many kinds for damaged or foreign data
        detail = " ".join(str(exc).split())[:120]
        raise MediaRefused(label, f"is not an image RealScene embeds ({detail})") from None


def embeddable_image(project_dir: str | os.PathLike, reference: str, *,
                     max_px: int = MAX_EMBED_PX) -> EmbeddedImage:
    """The media ``reference`` as a freshly encoded image fit to embed in a report.
    Raises :class:`MediaRefused` for anything outside the project folder, not a regular
    file, larger than :data:`MAX_MEDIA_BYTES`, or not a decodable image."""
    path = resolve_media(project_dir, reference)
    try:
        with open_regular(path, MAX_MEDIA_BYTES) as fh:
            data = fh.read(MAX_MEDIA_BYTES + 1)
    except UnsafePath as exc:
        raise MediaRefused(reference, exc.reason) from None
    except OSError as exc:
        raise MediaRefused(reference, f"cannot be read ({exc.strerror or exc})") from None
    return decode_image(data, reference, max_px=max_px,
                        prefer_png=path.suffix.lower() == ".png")


__all__ = ["EmbeddedImage", "IMAGE_FORMATS", "MAX_IMAGE_PIXELS", "MediaRefused",
           "OPENABLE_EXTENSIONS", "decode_image", "embeddable_image", "openable",
           "refusal_reason", "resolve_media"]
