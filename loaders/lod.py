"""Level-of-detail point sources (no Qt, no VTK).

INTERFACE shared by the in-memory octree (built on load) and the COPC reader (local
file or HTTP range requests). The renderer only talks to this interface.

A source is an octree of nodes keyed like COPC/EPT: ``(depth, ix, iy, iz)``; the root
is ``(0, 0, 0, 0)`` and the children of ``(d, x, y, z)`` are
``(d+1, 2x+i, 2y+j, 2z+k)``. Each node holds a spatially uniform subsample of its cell,
and a node plus all its ancestors together give a uniform sample of the node's cell at
that node's density (Potree/COPC "additive" LOD). So drawing a set of nodes that is
closed under "parent of" shows every region at the density of its deepest drawn node.

Coordinates: node bounds and node point positions are *local* float32/float64 values
relative to ``source.origin`` (float64), exactly like :class:`PointCloud`.

class LodNode:                      (dataclass)
    key: tuple[int, int, int, int]
    lo, hi: np.ndarray              float64 (3,) cell bounds, local coordinates
    point_count: int
    children: list[key]             keys of existing children (may be filled lazily)

class LodSource:                    (abstract)
    origin: np.ndarray              float64 (3,)
    crs: pyproj.CRS | None
    metadata: dict                  format, source, header counts, warnings ...
    total_points: int
    attribute_names: list[str]      e.g. ["rgb", "intensity", "classification", ...]
    root: key = (0, 0, 0, 0)
    def node(key) -> LodNode
    def children(key) -> list[LodNode]      may block briefly (COPC hierarchy page)
    def is_resident(key) -> bool            get(key) would return without I/O
    def get(key) -> PointCloud              the node's own points; thread-safe; may block
                                            on I/O (COPC); raises LoadError on failure
    def preview(max_points=200_000) -> PointCloud
                                            the top levels as one cloud (for legends,
                                            colour ranges, properties, first frame)
    def close() -> None
"""

from __future__ import annotations
