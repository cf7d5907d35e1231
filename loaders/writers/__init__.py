"""Writers beside the readers: plain data (or a file RealScene reads) -> a file others read.

One module per output format, Qt- and VTK-free like the rest of :mod:`loaders`:

- :mod:`loaders.writers.copc` -- a COPC 1.0 copy of a LAS/LAZ file (``realscene index``,
  File > Index to COPC), so it opens by streaming from then on.

GLB and 3D Tiles writers (curator exports, tiling a region) go here too.
"""
