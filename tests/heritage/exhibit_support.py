"""Helpers for the export tests: independent readers and validators of what exports write.

- :func:`validate_glb` runs the Khronos glTF validator (npm ``gltf-validator``, installed
  into node_modules/ by ``./run``) under node; skips the test with a clear message only
  where node or the package is missing.
- :func:`gltf_scene_points` reads a GLB with pygltflib (not RealScene's reader) and returns
  every POSITION in true scene coordinates (node transforms + ``asset.extras.realscene``
  origin applied), per mesh name; :func:`gltf_nodes_world` gives named nodes' positions.
- :func:`property_table` decodes an ``EXT_structural_metadata`` string property table.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE_PROJECT = REPO / "assets" / "sample_site" / "delft.realscene.json"

_VALIDATE_JS = r"""
const fs = require('fs');
const v = require(process.argv[1]);
const b = fs.readFileSync(process.argv[2]);
const u = new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
v.validateBytes(u, {maxIssues: 0}).then(
  r => process.stdout.write(JSON.stringify(r)),
  e => { process.stdout.write(JSON.stringify({fatal: String(e)})); });
"""


def node_tool(package: str) -> Path:
    """The installed npm package folder, or skip the test saying how to get it."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the glTF validator cannot run (install Node.js)")
    folder = REPO / "node_modules" / package
    if not (folder / "package.json").is_file():
        pytest.skip(f"npm package {package} is not installed: run ./run once "
                    "(it installs package.json's tools into node_modules/)")
    return folder


def validate_glb(path: str | Path) -> dict:
    """The validator's report for ``path``; the test fails on any error."""
    folder = node_tool("gltf-validator")
    proc = subprocess.run(["node", "-e", _VALIDATE_JS, str(folder), str(path)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert "fatal" not in report, report
    return report


def glb_errors(report: dict) -> list[dict]:
    return [m for m in report["issues"]["messages"] if m["severity"] == 0]


def _node_matrix(node) -> np.ndarray:
    if node.matrix:
        return np.asarray(node.matrix, dtype=np.float64).reshape(4, 4).T
    m = np.eye(4)
    if node.scale:
        m = m @ np.diag(list(node.scale) + [1.0])
    if node.rotation:
        x, y, z, w = node.rotation
        r = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                      [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                      [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
        rot = np.eye(4)
        rot[:3, :3] = r
        m = rot @ m
    if node.translation:
        t = np.eye(4)
        t[:3, 3] = node.translation
        m = t @ m
    return m


def _world(gltf) -> dict[int, np.ndarray]:
    out: dict[int, np.ndarray] = {}

    def walk(i: int, parent: np.ndarray) -> None:
        m = parent @ _node_matrix(gltf.nodes[i])
        out[i] = m
        for c in gltf.nodes[i].children or []:
            walk(c, m)

    for i in gltf.scenes[gltf.scene or 0].nodes:
        walk(i, np.eye(4))
    return out


def origin_of(gltf) -> np.ndarray:
    return np.asarray(gltf.asset.extras["realscene"]["origin"], dtype=np.float64)


def to_scene(gltf) -> np.ndarray:
    """4x4 from glTF world coordinates back to the scene frame (relative to the origin):
    the inverse of the root node's matrix (the Z-up -> Y-up rotation)."""
    name = gltf.asset.extras["realscene"]["root"]
    root = next(n for n in gltf.nodes if n.name == name)
    return np.linalg.inv(_node_matrix(root))


def accessor_array(gltf, index: int) -> np.ndarray:
    acc = gltf.accessors[index]
    bv = gltf.bufferViews[acc.bufferView]
    blob = gltf.binary_blob()
    dtype = {5126: np.float32, 5121: np.uint8, 5123: np.uint16, 5125: np.uint32}[
        acc.componentType]
    width = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}[acc.type]
    start = (bv.byteOffset or 0) + (acc.byteOffset or 0)
    a = np.frombuffer(blob, dtype=dtype, count=acc.count * width, offset=start)
    return a.reshape(acc.count, width) if width > 1 else a


def gltf_scene_points(gltf) -> dict[str, dict]:
    """{mesh name: {"xyz": true scene coordinates, "triangles": n, "points": n}}."""
    origin = origin_of(gltf)
    back = to_scene(gltf)
    world = {i: back @ m for i, m in _world(gltf).items()}
    out: dict[str, dict] = {}
    for ni, m in world.items():
        node = gltf.nodes[ni]
        if node.mesh is None:
            continue
        mesh = gltf.meshes[node.mesh]
        entry = out.setdefault(mesh.name, {"xyz": [], "triangles": 0, "points": 0})
        for prim in mesh.primitives:
            p = accessor_array(gltf, prim.attributes.POSITION).astype(np.float64)
            xyz = p @ m[:3, :3].T + m[:3, 3] + origin
            entry["xyz"].append(xyz)
            if prim.mode == 0:
                entry["points"] += len(p)
            else:
                entry["triangles"] += gltf.accessors[prim.indices].count // 3
    for entry in out.values():
        entry["xyz"] = np.concatenate(entry["xyz"])
    return out


def gltf_nodes_world(gltf) -> dict[str, np.ndarray]:
    """{node name: true scene position of the node's origin}."""
    origin = origin_of(gltf)
    back = to_scene(gltf)
    return {gltf.nodes[i].name: (back @ m)[:3, 3] + origin for i, m in _world(gltf).items()}


def property_table(gltf, index: int = 0) -> dict[str, list[str]]:
    """Decode the string columns of EXT_structural_metadata property table ``index``."""
    table = gltf.extensions["EXT_structural_metadata"]["propertyTables"][index]
    blob = gltf.binary_blob()
    cols = {}
    for name, prop in table["properties"].items():
        vb = gltf.bufferViews[prop["values"]]
        ob = gltf.bufferViews[prop["stringOffsets"]]
        offsets = np.frombuffer(blob, np.uint32, table["count"] + 1, ob.byteOffset or 0)
        raw = blob[vb.byteOffset or 0:(vb.byteOffset or 0) + vb.byteLength]
        cols[name] = [raw[offsets[i]:offsets[i + 1]].decode("utf-8")
                      for i in range(table["count"])]
    return cols
