"""Media linked to annotations (photos, documents): which stored references may be used.

Media references come from projects and annotation imports, i.e. from strangers. A
reference may be handed to the system opener (which would also run scripts or open
anything else) only when it resolves, links included, to a regular file inside the
project folder and is an image or a document by its extension.

(Minimal version written for the GUI's system opener; the report side may extend it.)
"""

from __future__ import annotations

import os
from pathlib import Path

from loaders.safety import UnsafePath, resolve_inside

#: what the system opener may be given: images and documents
OPENABLE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp",
                                 ".pdf", ".txt"})


def refusal_reason(project_dir: str | os.PathLike, reference: str) -> str | None:
    """Why ``reference`` may not be opened from ``project_dir`` (None: it may)."""
    try:
        path = resolve_inside(project_dir, reference)
    except UnsafePath as exc:
        return exc.reason
    if path.suffix.lower() not in OPENABLE_EXTENSIONS:
        return (f"is not an image or document ({path.suffix or 'no extension'}); only "
                + ", ".join(sorted(OPENABLE_EXTENSIONS)) + " files are opened")
    return None


def openable(project_dir: str | os.PathLike, reference: str) -> Path | None:
    """The real path of ``reference`` if it is an image or document inside
    ``project_dir`` that may be handed to the system opener; None when refused."""
    if refusal_reason(project_dir, reference) is not None:
        return None
    return resolve_inside(project_dir, reference)
