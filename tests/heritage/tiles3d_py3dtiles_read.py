"""Independent read-back of a 3D Tiles tileset with py3dtiles (run by the tests with the
py3dtiles tool environment's python, ``.venv/tools/py3dtiles``; py3dtiles pins numpy and
mapbox_earcut below the app's, so it cannot live in the app's environment).

usage: python tests/heritage/tiles3d_py3dtiles_read.py TILESET_JSON  -> JSON on stdout
"""

import json
import sys
from pathlib import Path

import numpy as np
from py3dtiles.tileset.content.gltf import PointsGltf
from py3dtiles.tileset.tileset import TileSet


def main(path: str) -> None:
    ts = TileSet.from_file(Path(path))
    root = ts.root_tile
    tiles = [root] + root.get_all_children()
    out = {"tiles": len(tiles), "points": 0, "triangles": 0, "contents": 0,
           "transform": None if root.transform is None else np.asarray(root.transform).tolist(),
           "min": [np.inf] * 3, "max": [-np.inf] * 3, "fields": {}, "rgb_sum": 0,
           "boxes_ok": True}
    lo, hi = np.full(3, np.inf), np.full(3, -np.inf)
    for tile in tiles:
        if not tile.has_content():
            continue
        content = tile.get_or_fetch_content(ts.root_uri)
        out["contents"] += 1
        gltf = content._gltf
        t = np.array(gltf.nodes[0].translation or [0, 0, 0], np.float64)
        v = np.asarray(content.get_vertices(), np.float64).reshape(-1, 3) + t
        enu = np.column_stack([v[:, 0], -v[:, 2], v[:, 1]])  # y-up -> z-up
        tlo, thi = enu.min(axis=0), enu.max(axis=0)
        lo, hi = np.minimum(lo, tlo), np.maximum(hi, thi)
        box = np.asarray(tile.bounding_volume.to_dict()["box"], np.float64)
        c, h = box[:3], np.abs(box[3:].reshape(3, 3)).sum(axis=0)
        if np.any(tlo < c - h - 1e-3) or np.any(thi > c + h + 1e-3):
            out["boxes_ok"] = False
        if isinstance(content, PointsGltf):
            out["points"] += len(v)
            colors = content.get_colors()
            if colors is not None:
                out["rgb_sum"] += int(np.asarray(colors, np.int64)[:, :3].sum())
            for name in sorted(content.get_extra_field_names()):
                values = content.get_extra_field(name)
                d = out["fields"].setdefault(name, {"sum": 0, "count": 0})
                d["sum"] += int(np.asarray(values, np.int64).sum())
                d["count"] += len(values)
        else:
            for mesh in gltf.meshes:
                for prim in mesh.primitives:
                    out["triangles"] += gltf.accessors[prim.indices].count // 3
    out["min"], out["max"] = lo.tolist(), hi.tolist()
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
