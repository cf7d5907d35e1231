"""Curator exports: what a museum kiosk or a tourism web page is made from.

Hotspots from annotations, a Smithsonian Voyager scene, a static web exhibit, IIIF
manifests and the media that go with them. Each export works on a project (its layers,
annotations, views and tours) and the plain data of :mod:`loaders`, writes through
:mod:`loaders.writers` (GLB, 3D Tiles) and never on widgets, so the window, the command line
and a script make the same exhibit.

No Qt, no VTK (import-linter contracts in ``pyproject.toml``); pictures of the scene come
from the off-screen renderer handed in by the caller, like reports do.
"""
