"""Property-based robustness tests: the mesh readers fed mangled versions of REAL files.

Every example takes one of the real meshes in shared/data/meshes (or an STL/OFF export
of the real gargo.ply scan), damages it (truncation, overwritten/inserted/deleted bytes,
numbers replaced by huge/negative/NaN/non-numeric tokens, deleted lines, mutated glTF
JSON values) and reads it with the format's reader *directly* (not through the
registry, which would turn any crash into a vague LoadError).

The only acceptable outcomes are a well-formed :class:`Mesh` or a :class:`LoadError`
with a reason. Anything else is a reader bug: another exception, a hang (pytest-timeout)
or a huge allocation (reads run under an address-space cap, so an allocation driven by
a corrupt count shows up as MemoryError instead of swapping the machine).

Hypothesis runs derandomized (same examples on every run) and without a database so
that CI is reproducible and the checkout is not written to.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import struct
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loaders import LoadError, Mesh
from loaders.formats import gltf, obj, stl_off

pytestmark = pytest.mark.timeout(90)

FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture],
)

_MEM_HEADROOM = 3 * 1024**3  # bytes of address space a single read may add


# ---------------------------------------------------------------------------- helpers


@contextlib.contextmanager
def _memory_cap():
    """Cap the address space while a reader runs, so a count-driven giant allocation
    fails fast with MemoryError (which the test reports as a bug)."""
    try:
        import resource

        with open("/proc/self/statm") as fh:
            vm = int(fh.read().split()[0]) * resource.getpagesize()
        old = resource.getrlimit(resource.RLIMIT_AS)
        cap = vm + _MEM_HEADROOM
        if old[1] != resource.RLIM_INFINITY:
            cap = min(cap, old[1])
        resource.setrlimit(resource.RLIMIT_AS, (cap, old[1]))
    except (ImportError, OSError, ValueError):
        yield
        return
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, old)


def _check_mesh(m: Mesh) -> None:
    assert isinstance(m, Mesh), type(m)
    assert m.vertices.dtype == np.float32 and m.vertices.ndim == 2
    assert m.vertices.shape[1] == 3
    assert m.origin.shape == (3,)
    assert m.faces.dtype == np.int32 and m.faces.ndim == 2 and m.faces.shape[1] == 3
    if m.triangle_count:
        assert m.faces.min() >= 0 and m.faces.max() < m.vertex_count
    for attr, width in (("normals", 3), ("uvs", 2)):
        a = getattr(m, attr)
        if a is not None:
            assert a.shape == (m.vertex_count, width) and a.dtype == np.float32
    if m.vertex_colors is not None:
        assert m.vertex_colors.shape == (m.vertex_count, 4)
    if m.face_colors is not None:
        assert m.face_colors.shape == (m.triangle_count, 4)
    if m.parts:
        assert m.parts[0].start == 0 and m.parts[-1].stop == m.triangle_count
        for a, b in zip(m.parts, m.parts[1:], strict=False):
            assert a.stop == b.start and a.start < a.stop
    assert isinstance(m.metadata.get("warnings"), list)


def _read_ok(reader: Callable, path: Path) -> Mesh | None:
    """Run ``reader``; a Mesh is checked, a LoadError accepted, anything else raises."""
    with _memory_cap():
        try:
            result = reader(path, None)
        except LoadError as err:
            assert err.reason, "LoadError without a reason"
            assert err.path
            return None
    _check_mesh(result)
    return result


# ---------------------------------------------------------------------------- mangling

# tokens that break number parsing: huge, negative, NaN/inf, overflowing, non-numeric
_BAD_TOKENS = [
    "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e999", "-1e999", "1e308", "1e-400",
    "0", "-0", "-1", "-2", "3", "99999999999999999999", "-99999999999999999999",
    "9223372036854775807", "9223372036854775808", "-9223372036854775809",
    "2147483647", "2147483648", "4294967295", "4294967296", "1000000000000",
    "x", "", "  ", "1/2/3", "1//2", "/", "//", "#", "0x10", "1,5", "1.2.3", "--1", "+",
    "\t", "\x00", "\ufffd", "vertex", "facet", "OFF", "f", "v",
]
_TOKEN = st.one_of(
    st.sampled_from(_BAD_TOKENS),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=6),
)
_NUMBER_RE = re.compile(rb"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?")


class Source:
    """One real file, pre-scanned so that examples can target its numbers and lines."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.numbers = np.array([m.span() for m in _NUMBER_RE.finditer(data)],
                                dtype=np.int64).reshape(-1, 2)
        self.lines = np.concatenate([[0], np.flatnonzero(
            np.frombuffer(data, np.uint8) == ord("\n")) + 1]).astype(np.int64)


def _apply_edits(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    """Apply non-overlapping (start, stop, replacement) edits, given on ``data``."""
    out = bytearray(data)
    last = len(data) + 1
    for start, stop, rep in sorted(edits, key=lambda e: -e[0]):
        if stop > last:
            continue  # overlaps an edit already applied
        out[start:stop] = rep
        last = start
    return bytes(out)


@st.composite
def byte_ops(draw, data: bytes, header: int = 128, max_ops: int = 3) -> bytes:
    """Truncate / overwrite (header region or anywhere) / insert / delete bytes."""
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, max_ops))):
        n = len(buf)
        op = draw(st.sampled_from(["truncate", "overwrite_head", "overwrite", "insert",
                                   "delete"]))
        if op == "truncate":
            del buf[draw(st.integers(0, n)):]
            continue
        if op == "overwrite_head":
            pos = draw(st.integers(0, max(min(header, n) - 1, 0)))
        else:
            pos = draw(st.integers(0, n))
        if op == "delete":
            del buf[pos:pos + draw(st.integers(1, 64))]
            continue
        blob = draw(st.one_of(
            st.binary(min_size=1, max_size=32),
            st.sampled_from([b"\xff" * 4, b"\x00" * 4, b"\xff\xff\xff\x7f",
                             struct.pack("<I", 2**31), b"\n", b"\r", b" ", b"#"]),
        ))
        if op == "insert":
            buf[pos:pos] = blob
        else:
            buf[pos:pos + len(blob)] = blob
    return bytes(buf)


@st.composite
def text_ops(draw, src: Source, max_edits: int = 6) -> bytes:
    """Replace numbers with bad tokens, delete or duplicate lines, insert garbage lines;
    sometimes followed by byte-level damage."""
    data = src.data
    edits: list[tuple[int, int, bytes]] = []
    n_lines = len(src.lines)
    for _ in range(draw(st.integers(1, max_edits))):
        op = draw(st.sampled_from(["number", "number", "number", "delete_lines",
                                   "dup_line", "insert_line"]))
        if op == "number" and len(src.numbers):
            # bias to the start of the file (headers, counts) half of the time
            i = draw(st.one_of(st.integers(0, min(20, len(src.numbers) - 1)),
                               st.integers(0, len(src.numbers) - 1)))
            a, b = (int(x) for x in src.numbers[i])
            edits.append((a, b, draw(_TOKEN).encode("utf-8")))
        elif op in ("delete_lines", "dup_line"):
            i = draw(st.one_of(st.integers(0, min(10, n_lines - 1)),
                               st.integers(0, n_lines - 1)))
            k = draw(st.integers(1, 50)) if op == "delete_lines" else 1
            a = int(src.lines[i])
            b = int(src.lines[min(i + k, n_lines - 1)]) if i + k < n_lines else len(data)
            edits.append((a, b, b"" if op == "delete_lines" else data[a:b] * 2))
        else:
            i = draw(st.integers(0, n_lines - 1))
            a = int(src.lines[i])
            line = draw(st.one_of(
                st.sampled_from(["f 1 2 99999999999999999999", "f 0 0 0", "f -1 -2 -3",
                                 "f 1/1/1 2/2/2 3/3/3", "f 1/x 2 3", "v nan nan nan",
                                 "v 1 2", "vt", "vn 1e999 0 0", "usemtl", "mtllib " + "a" * 400,
                                 "mtllib \x00", "g", "f 1", "3 0 1 99999999999999999999",
                                 "4 0 1 2", "-3 0 1 2", "vertex 1 2", "facet normal",
                                 "endfacet", "solid", "OFF", "COFF 1 1 0"]),
                st.lists(_TOKEN, min_size=1, max_size=5).map(" ".join),
            ))
            edits.append((a, a, line.encode("utf-8") + b"\n"))
    out = _apply_edits(data, edits)
    if draw(st.booleans()):
        out = draw(byte_ops(out, max_ops=2))
    return out


# glTF JSON: values that are wrong in every way the reader may meet
_JSON_VALUES = st.one_of(
    st.integers(-3, 8),
    st.integers(-(2**40), 2**40),
    st.sampled_from([0, 1, 2, 4, 5, 6, 7, 12, 16, 253, 256, 5120, 5121, 5122, 5123, 5125,
                     5126, 2**31, 2**32, 2**53, 10**12, 10**30, -1, -(10**12)]),
    st.sampled_from([None, True, False, 1.5, -0.0, 12.0, float("nan"), float("inf"), 1e308,
                     "", "x", "0", "VEC3", "SCALAR", "VEC2", "MAT4", "data:,",
                     "data:application/octet-stream;base64,AAAA", "data:;base64,@@@",
                     "a\x00b", "nope.bin", "../missing.bin", "x" * 300, "https://x/y.bin",
                     [], [1], [0, 1, 2], [-1], [10**12], ["x"], [[1]], {}, {"a": 1},
                     {"count": 1}, list(range(16)), [0.0] * 16, ["x"] * 16, [1, 2, 3, 4],
                     [float("nan")] * 3]),
)

_KEYS = {
    "accessors": ["count", "count", "byteOffset", "componentType", "type", "bufferView",
                  "sparse", "normalized"],
    "bufferViews": ["byteOffset", "byteLength", "byteStride", "byteStride", "buffer"],
    "buffers": ["byteLength", "uri"],
    "meshes": ["primitives", "name"],
    "nodes": ["mesh", "children", "matrix", "translation", "rotation", "scale"],
    "scenes": ["nodes"],
    "materials": ["pbrMetallicRoughness", "name"],
}
_PRIM_KEYS = ["indices", "indices", "mode", "attributes", "material", "extensions",
              "targets", "POSITION", "POSITION", "NORMAL", "TEXCOORD_0", "COLOR_0"]
_ROOT_KEYS = ["scene", "scenes", "nodes", "meshes", "accessors", "bufferViews", "buffers",
              "asset", "extensionsUsed", "extensions", "materials", "textures", "images"]
_SPARSE = {"count": 2, "indices": {"bufferView": 0, "componentType": 5125},
           "values": {"bufferView": 0}}


@st.composite
def json_ops(draw, doc_text: str, hot: dict[str, list[int]], max_ops: int = 3) -> dict:
    """Parse the real glTF JSON and set/remove values in it (indices biased to ``hot``)."""
    doc = json.loads(doc_text)

    def pick(kind: str) -> int | None:
        items = doc.get(kind)
        if not isinstance(items, list) or not items:
            return None
        choices = [i for i in hot.get(kind, []) if i < len(items)]
        strat = st.integers(0, len(items) - 1)
        if choices:
            strat = st.one_of(st.sampled_from(choices), strat)
        return draw(strat)

    def mutate(container: dict, key: str) -> None:
        if not isinstance(container, dict):
            return
        if draw(st.integers(0, 4)) == 0:
            container.pop(key, None)
        elif key == "sparse" and draw(st.booleans()):
            container[key] = dict(_SPARSE, count=draw(_JSON_VALUES))
        else:
            container[key] = draw(_JSON_VALUES)

    for _ in range(draw(st.integers(1, max_ops))):
        where = draw(st.sampled_from(["accessors", "accessors", "accessors", "bufferViews",
                                      "bufferViews", "buffers", "meshes", "primitive",
                                      "primitive", "primitive", "nodes", "nodes", "scenes",
                                      "materials", "baseColor", "root"]))
        if where == "root":
            mutate(doc, draw(st.sampled_from(_ROOT_KEYS)))
        elif where == "primitive":
            mi = pick("meshes")
            if mi is None or not isinstance(doc["meshes"][mi], dict):
                continue
            prims = doc["meshes"][mi].get("primitives")
            if not isinstance(prims, list) or not prims or not isinstance(prims[0], dict):
                continue
            prim = prims[draw(st.integers(0, len(prims) - 1))]
            key = draw(st.sampled_from(_PRIM_KEYS))
            if key.isupper():
                mutate(prim.get("attributes"), key)
            else:
                mutate(prim, key)
        elif where == "baseColor":
            i = pick("materials")
            if i is not None and isinstance(doc["materials"][i], dict):
                pbr = doc["materials"][i].setdefault("pbrMetallicRoughness", {})
                key = draw(st.sampled_from(["baseColorFactor", "baseColorTexture"]))
                if key == "baseColorTexture" and draw(st.booleans()):
                    pbr[key] = {"index": draw(_JSON_VALUES)}
                else:
                    mutate(pbr, key)
        else:
            i = pick(where)
            if i is not None:
                mutate(doc[where][i], draw(st.sampled_from(_KEYS[where])))
    return doc


# ---------------------------------------------------------------------------- fixtures

MESHES = Path("meshes")


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz_meshes")


@pytest.fixture(scope="module")
def delft(shared_data: Path) -> dict[str, Source]:
    d = shared_data / MESHES / "delft_3dfier_lod1"
    return {"testarea.obj": Source((d / "testarea.obj").read_bytes()),
            "3dfier.mtl": Source((d / "3dfier.mtl").read_bytes())}


@pytest.fixture(scope="module")
def fuze(shared_data: Path) -> dict[str, Source]:
    d = shared_data / MESHES / "fuze_textured_obj"
    return {p.name: Source(p.read_bytes()) for p in sorted(d.iterdir())}


@pytest.fixture(scope="module")
def delfshaven(shared_data: Path) -> tuple[str, bytes]:
    d = shared_data / MESHES / "rotterdam_delfshaven_gltf"
    return ((d / "3-20-DELFSHAVEN.gltf").read_text(),
            (d / "3-20-DELFSHAVEN_bin.bin").read_bytes())


@pytest.fixture(scope="module")
def glb(shared_data: Path) -> bytes:
    return (shared_data / MESHES / "no_indices_3storybuilding.glb").read_bytes()


@pytest.fixture(scope="module")
def gargo_exports(shared_data: Path, work: Path) -> dict[str, Source]:
    """STL (binary, ASCII) and OFF exported by trimesh from the real gargo.ply scan.

    Binary STL is the whole scan (50,000 triangles, fast to read); the text formats use
    the scan's first 3,000 triangles so that each example stays quick.
    """
    import trimesh

    full = trimesh.load(shared_data / MESHES / "gargo.ply", process=False)
    sub = full.submesh([np.arange(3000)], append=True)
    out = {}
    for name, mesh, kind in (("gargo.stl", full, "stl"), ("gargo_ascii.stl", sub, "stl_ascii"),
                             ("gargo.off", sub, "off")):
        p = work / ("src_" + name)
        mesh.export(p, file_type=kind)
        out[name] = Source(p.read_bytes())
    return out


def _fresh_dir(work: Path, name: str) -> Path:
    d = work / name
    if d.exists():
        shutil.rmtree(d)
    d.mkdir()
    return d


def _unpack_glb(data: bytes) -> tuple[str, bytes]:
    jlen = struct.unpack_from("<I", data, 12)[0]
    json_text = data[20:20 + jlen].decode()
    off = 20 + ((jlen + 3) & ~3)
    blen = struct.unpack_from("<I", data, off)[0]
    return json_text, data[off + 8:off + 8 + blen]


def _pack_glb(doc: dict, bin_chunk: bytes) -> bytes:
    j = json.dumps(doc).encode()
    j += b" " * (-len(j) % 4)
    b = bin_chunk + b"\0" * (-len(bin_chunk) % 4)
    total = 12 + 8 + len(j) + 8 + len(b)
    return (struct.pack("<4sII", b"glTF", 2, total) + struct.pack("<II", len(j), 0x4E4F534A)
            + j + struct.pack("<II", len(b), 0x004E4942) + b)


# ---------------------------------------------------------------------------- OBJ


def _obj_case(draw, files: dict[str, Source], targets: list[str]) -> dict[str, bytes]:
    target = draw(st.sampled_from(targets))
    src = files[target]
    if target.endswith(".jpg"):
        mangled = draw(byte_ops(src.data, header=600))
    elif draw(st.integers(0, 2)) == 0:
        mangled = draw(byte_ops(src.data))
    else:
        mangled = draw(text_ops(src))
    return {name: (mangled if name == target else s.data) for name, s in files.items()}


@FUZZ
@given(data=st.data())
def test_fuzz_delft_obj(work: Path, delft: dict[str, Source], data) -> None:
    files = _obj_case(data.draw, delft, ["testarea.obj"] * 4 + ["3dfier.mtl"])
    d = _fresh_dir(work, "delft")
    for name, blob in files.items():
        (d / name).write_bytes(blob)
    _read_ok(obj.read, d / "testarea.obj")


@FUZZ
@given(data=st.data())
def test_fuzz_fuze_obj(work: Path, fuze: dict[str, Source], data) -> None:
    files = _obj_case(data.draw, fuze, ["fuze.obj"] * 3 + ["fuze.obj.mtl", "fuze uv.jpg"])
    d = _fresh_dir(work, "fuze")
    for name, blob in files.items():
        (d / name).write_bytes(blob)
    _read_ok(obj.read, d / "fuze.obj")


# ---------------------------------------------------------------------------- glTF / GLB

_DELFSHAVEN_HOT = {"accessors": [853, 0, 1], "bufferViews": [853, 0], "meshes": [0, 1],
                   "nodes": [0, 1], "materials": [0], "scenes": [0], "buffers": [0]}


@FUZZ
@given(data=st.data())
def test_fuzz_delfshaven_gltf_json(work: Path, delfshaven, data) -> None:
    text, binary = delfshaven
    d = _fresh_dir(work, "delfshaven_json")
    (d / "3-20-DELFSHAVEN_bin.bin").write_bytes(binary)
    if data.draw(st.integers(0, 3)) == 0:  # raw damage to the JSON text
        blob = data.draw(byte_ops(text.encode(), header=64))
    else:
        blob = json.dumps(data.draw(json_ops(text, _DELFSHAVEN_HOT))).encode()
    (d / "3-20-DELFSHAVEN.gltf").write_bytes(blob)
    _read_ok(gltf.read, d / "3-20-DELFSHAVEN.gltf")


@settings(FUZZ, max_examples=30)
@given(data=st.data())
def test_fuzz_delfshaven_gltf_bin(work: Path, delfshaven, data) -> None:
    text, binary = delfshaven
    d = _fresh_dir(work, "delfshaven_bin")
    (d / "3-20-DELFSHAVEN.gltf").write_text(text)
    # the first bufferViews are uint32 indices, the last one the float32 positions
    (d / "3-20-DELFSHAVEN_bin.bin").write_bytes(data.draw(byte_ops(binary, header=4096)))
    _read_ok(gltf.read, d / "3-20-DELFSHAVEN.gltf")


@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_fuzz_glb(work: Path, glb: bytes, data) -> None:
    d = _fresh_dir(work, "glb")
    how = data.draw(st.sampled_from(["bytes", "json", "json", "bin"]))
    json_text, bin_chunk = _unpack_glb(glb)
    if how == "bytes":  # chunk headers live in the first 20 bytes, the JSON after them
        blob = data.draw(byte_ops(glb, header=64))
    elif how == "json":
        blob = _pack_glb(data.draw(json_ops(json_text, {})), bin_chunk)
    else:
        blob = _pack_glb(json.loads(json_text), data.draw(byte_ops(bin_chunk, header=256)))
    (d / "building.glb").write_bytes(blob)
    _read_ok(gltf.read, d / "building.glb")


# ---------------------------------------------------------------------------- STL / OFF


@settings(FUZZ, max_examples=50)
@given(data=st.data())
def test_fuzz_binary_stl(work: Path, gargo_exports, data) -> None:
    src = gargo_exports["gargo.stl"]
    d = _fresh_dir(work, "stl")
    (d / "gargo.stl").write_bytes(data.draw(byte_ops(src.data, header=100)))
    _read_ok(stl_off.read_stl, d / "gargo.stl")


@FUZZ
@given(data=st.data())
def test_fuzz_ascii_stl(work: Path, gargo_exports, data) -> None:
    src = gargo_exports["gargo_ascii.stl"]
    d = _fresh_dir(work, "stl_ascii")
    blob = data.draw(st.one_of(byte_ops(src.data), text_ops(src)))
    (d / "gargo.stl").write_bytes(blob)
    _read_ok(stl_off.read_stl, d / "gargo.stl")


@settings(FUZZ, max_examples=50)
@given(data=st.data())
def test_fuzz_off(work: Path, gargo_exports, data) -> None:
    src = gargo_exports["gargo.off"]
    d = _fresh_dir(work, "off")
    blob = data.draw(st.one_of(byte_ops(src.data, header=32), text_ops(src)))
    (d / "gargo.off").write_bytes(blob)
    _read_ok(stl_off.read_off, d / "gargo.off")


# ---------------------------------------------------------------------------- regressions
# Concrete cases found by the fuzzers above, kept as plain tests.
