"""3D Tiles 1.1 implicit tiling: ``implicitTiling`` quadtrees / octrees with subtree files.

A tile with ``implicitTiling`` is the root of a uniform subdivision of its ``box`` or
``region`` (QUADTREE: x and y / longitude and latitude halved per level; OCTREE: z /
height too). Which tiles exist and which have content is read from subtree files
(binary ``subt`` or JSON), each covering ``subtreeLevels`` levels: bitstreams in Morton
order, level after level (``(N^level - 1) / (N - 1)`` bits before a level's first),
and ``childSubtreeAvailability`` saying which subtrees below exist. Subtrees are read
when the tiles in them are first expanded; every bitstream is checked against the bytes
that hold it, and subdivisions too large to index are refused.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..types import LoadError

HINT = "the implicit tileset is incomplete or corrupt; re-export it"
#: bits a subtree's availability may need (a subtree deeper than this is refused)
MAX_SUBTREE_BITS = 2**26
#: deepest level read
MAX_LEVELS = 30


@dataclass
class Availability:
    """A constant or a bitstream of availability bits."""

    constant: int | None = None
    bits: bytes = b""

    def __call__(self, index: int) -> bool:
        if self.constant is not None:
            return bool(self.constant)
        byte = index >> 3
        return byte < len(self.bits) and bool((self.bits[byte] >> (index & 7)) & 1)


@dataclass
class Subtree:
    tiles: Availability
    contents: list[Availability]
    children: Availability


@dataclass
class Implicit:
    """One implicit root: its subdivision, templates and the subtrees read so far."""

    dims: int  # 2 (quadtree) or 3 (octree)
    subtree_levels: int
    available_levels: int
    subtree_uri: str
    content_uris: list[str]
    volume: dict  # the root's box or region (in the root's own frame)
    error: float
    ref: str  # the tileset JSON the templates are relative to
    subtrees: dict[tuple[int, int, int, int], Subtree | None] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return 2 ** self.dims


def parse_implicit(js: dict, ref: str) -> Implicit:
    """The ``implicitTiling`` of tile JSON ``js`` (raises LoadError)."""
    it = js.get("implicitTiling")
    if not isinstance(it, dict):
        raise LoadError(ref, "implicitTiling is not an object", HINT)
    scheme = it.get("subdivisionScheme")
    dims = {"QUADTREE": 2, "OCTREE": 3}.get(scheme)  # type: ignore[arg-type]
    levels, available = it.get("subtreeLevels"), it.get("availableLevels")
    subtrees = it.get("subtrees")
    uri = subtrees.get("uri") if isinstance(subtrees, dict) else None
    if dims is None or not isinstance(levels, int) or not isinstance(available, int) \
            or levels < 1 or available < 1 or not isinstance(uri, str):
        raise LoadError(ref, "implicitTiling needs subdivisionScheme QUADTREE/OCTREE, "
                        "subtreeLevels, availableLevels and subtrees.uri", HINT)
    if (2 ** dims) ** levels > MAX_SUBTREE_BITS:
        raise LoadError(ref, f"implicit subtrees of {levels} levels are too large to index",
                        "re-export with fewer subtree levels")
    volume = js.get("boundingVolume") or {}
    if not isinstance(volume, dict) or not ("box" in volume or "region" in volume):
        raise LoadError(ref, "an implicit tile's boundingVolume must be a box or a region",
                        HINT)
    items = js.get("contents") if isinstance(js.get("contents"), list) else \
        [js["content"]] if isinstance(js.get("content"), dict) else []
    contents = [c["uri"] for c in items if isinstance(c, dict) and isinstance(c.get("uri"),
                                                                                str)]
    error = js.get("geometricError", 0)
    return Implicit(dims, levels, min(available, MAX_LEVELS), uri, contents, volume,
                    float(error) if isinstance(error, (int, float)) else 0.0, ref)


def expand_uri(template: str, level: int, x: int, y: int, z: int) -> str:
    return (template.replace("{level}", str(level)).replace("{x}", str(x))
            .replace("{y}", str(y)).replace("{z}", str(z)))


def morton(level: int, x: int, y: int, z: int, dims: int) -> int:
    m = 0
    for i in range(level):
        m |= ((x >> i) & 1) << (dims * i) | ((y >> i) & 1) << (dims * i + 1)
        if dims == 3:
            m |= ((z >> i) & 1) << (dims * i + 2)
    return m


def tile_volume(imp: Implicit, level: int, x: int, y: int, z: int) -> dict:
    """The bounding volume (box / region) of implicit tile (level, x, y, z)."""
    d = 2 ** level
    if "region" in imp.volume:
        w, s, e, n, lo, hi = (float(v) for v in imp.volume["region"])
        region = [w + (e - w) * x / d, s + (n - s) * y / d, w + (e - w) * (x + 1) / d,
                  s + (n - s) * (y + 1) / d, lo, hi]
        if imp.dims == 3:
            region[4:] = [lo + (hi - lo) * z / d, lo + (hi - lo) * (z + 1) / d]
        return {"region": region}
    b = np.asarray(imp.volume["box"], dtype=np.float64)
    c, hx, hy, hz = b[:3], b[3:6], b[6:9], b[9:12]
    centre = c + hx * ((2 * x + 1) / d - 1) + hy * ((2 * y + 1) / d - 1)
    if imp.dims == 3:
        centre = centre + hz * ((2 * z + 1) / d - 1)
        hz = hz / d
    return {"box": [*centre, *(hx / d), *(hy / d), *hz]}


def parse_subtree(data: bytes, name: str, imp: Implicit,
                  fetch: Callable[[str], bytes]) -> Subtree:
    """A subtree file (binary ``subt`` or JSON); ``fetch(uri)`` reads external buffers."""
    binary = b""
    if data[:4] == b"subt":
        if len(data) < 24:
            raise LoadError(name, "subtree file is truncated", HINT)
        _, version, jlen, blen = struct.unpack_from("<4sIQQ", data, 0)
        if 24 + jlen + blen > len(data):
            raise LoadError(name, f"subtree header says {24 + jlen + blen:,} bytes, the file "
                            f"holds {len(data):,}", HINT)
        raw, binary = data[24:24 + jlen], data[24 + jlen:24 + jlen + blen]
    else:
        raw = data
    try:
        js = json.loads(raw.rstrip(b" \x00").decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise LoadError(name, "subtree JSON is not valid", HINT) from None
    if not isinstance(js, dict):
        raise LoadError(name, "subtree JSON is not an object", HINT)
    buffers: list[bytes] = []
    for i, buf in enumerate(js.get("buffers") or []):
        if not isinstance(buf, dict):
            raise LoadError(name, f"subtree buffer {i} is not an object", HINT)
        data_i = fetch(buf["uri"]) if isinstance(buf.get("uri"), str) else binary
        length = buf.get("byteLength")
        if not isinstance(length, int) or length < 0 or length > len(data_i):
            raise LoadError(name, f"subtree buffer {i} byteLength {str(length)[:20]} does "
                            f"not fit its {len(data_i):,} bytes", HINT)
        buffers.append(data_i[:length])
    views = js.get("bufferViews") or []
    n = imp.n
    tile_bits = (n ** imp.subtree_levels - 1) // (n - 1)

    def avail(obj: Any, bits: int, what: str) -> Availability:
        if not isinstance(obj, dict):
            raise LoadError(name, f"subtree {what} is missing", HINT)
        if "constant" in obj:
            return Availability(constant=int(obj["constant"]))
        k = obj.get("bitstream", obj.get("bufferView"))
        if not isinstance(k, int) or not 0 <= k < len(views) or not isinstance(views[k], dict):
            raise LoadError(name, f"subtree {what} names no valid bufferView", HINT)
        v = views[k]
        b, off, ln = v.get("buffer", 0), v.get("byteOffset", 0), v.get("byteLength")
        if not isinstance(b, int) or not 0 <= b < len(buffers) or not isinstance(off, int) \
                or not isinstance(ln, int) or off < 0 or off + ln > len(buffers[b]) \
                or ln * 8 < bits:
            raise LoadError(name, f"subtree {what} bitstream does not fit its buffer "
                            f"({bits:,} bits needed)", HINT)
        return Availability(bits=buffers[b][off:off + ln])

    contents = js.get("contentAvailability") or []
    if isinstance(contents, dict):
        contents = [contents]
    return Subtree(tiles=avail(js.get("tileAvailability"), tile_bits, "tileAvailability"),
                   contents=[avail(c, tile_bits, "contentAvailability") for c in contents],
                   children=avail(js.get("childSubtreeAvailability"),
                                  n ** imp.subtree_levels, "childSubtreeAvailability"))


def locate(imp: Implicit, level: int, x: int, y: int, z: int
           ) -> tuple[tuple[int, int, int, int], int]:
    """(the subtree holding tile (level, x, y, z), the tile's bit index in it)."""
    s = imp.subtree_levels
    root_level = (level // s) * s
    local = level - root_level
    sx, sy, sz = x >> local, y >> local, z >> local
    index = (imp.n ** local - 1) // (imp.n - 1) + morton(
        local, x - (sx << local), y - (sy << local), z - (sz << local), imp.dims)
    return (root_level, sx, sy, sz), index


def subtree(imp: Implicit, key: tuple[int, int, int, int],
            read: Callable[[str], tuple[bytes, str]],
            fetch_near: Callable[[str, str], bytes]) -> Subtree | None:
    """The subtree rooted at ``key`` (None when its parent subtree says it does not
    exist), read on first use. ``read(uri)`` -> (bytes, name) resolves against the
    tileset, ``fetch_near(name, uri)`` against the subtree file."""
    if key in imp.subtrees:
        return imp.subtrees[key]
    level, x, y, z = key
    if level > 0:
        s = imp.subtree_levels
        parent = subtree(imp, (level - s, x >> s, y >> s, z >> s), read, fetch_near)
        bit = morton(s, x - ((x >> s) << s), y - ((y >> s) << s), z - ((z >> s) << s),
                     imp.dims)
        if parent is None or not parent.children(bit):
            imp.subtrees[key] = None
            return None
    data, name = read(expand_uri(imp.subtree_uri, level, x, y, z))
    sub = parse_subtree(data, name, imp, lambda uri: fetch_near(name, uri))
    imp.subtrees[key] = sub
    return sub


def available(imp: Implicit, coords: tuple[int, int, int, int],
              read: Callable[[str], tuple[bytes, str]],
              fetch_near: Callable[[str, str], bytes]) -> tuple[bool, list[bool]]:
    """(does the tile exist, does it have each content)."""
    level, x, y, z = coords
    if level >= imp.available_levels:
        return False, []
    key, index = locate(imp, level, x, y, z)
    sub = subtree(imp, key, read, fetch_near)
    if sub is None or not sub.tiles(index):
        return False, []
    return True, [c(index) for c in sub.contents]
