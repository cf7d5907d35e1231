"""Writers beside the readers: plain data (or a file RealScene reads) -> a file others read.

One module per output format, Qt- and VTK-free like the rest of :mod:`loaders`:

- :mod:`loaders.writers.copc` -- a COPC 1.0 copy of a LAS/LAZ file (``realscene index``,
  File > Index to COPC), so it opens by streaming from then on.

- :mod:`loaders.writers.glb` -- meshes, point clouds and city/IFC models (object ids and
  attributes as EXT_mesh_features / EXT_structural_metadata) with marker nodes, in one GLB
  (curator exports, :mod:`heritage.exhibits.glb`).

The 3D Tiles writer (curator exports, tiling a region) goes here too.
"""
