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
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from loaders import LoadError, Mesh
from loaders.formats import gltf, obj, stl_off

pytestmark = [
    pytest.mark.timeout(90),
    # NaN/inf from damaged binary data make numpy warn on casts; that is expected
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
]

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
            # --hypothesis-show-statistics shows which checks the examples reach
            _event("LoadError: " + re.sub(r"[\d,]+", "N", err.reason)[:50])
            return None
    _check_mesh(result)
    _event("Mesh" + (" with warnings" if result.warnings else ""))
    return result


def _event(text: str) -> None:
    if currently_in_test_context():  # the regression tests below are plain tests
        event(text)


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

    def __init__(self, data: bytes, name: str = "") -> None:
        self.data = data
        self.name = name
        self.numbers = np.array([m.span() for m in _NUMBER_RE.finditer(data)],
                                dtype=np.int64).reshape(-1, 2)
        self.lines = np.concatenate([[0], np.flatnonzero(
            np.frombuffer(data, np.uint8) == ord("\n")) + 1]).astype(np.int64)


    def __repr__(self) -> str:
        return f"Source({self.name!r}, {len(self.data)} bytes)"


class Mangled:
    """A damaged file plus a short log of what was done (what Hypothesis prints)."""

    def __init__(self, data, log: list[str]) -> None:
        self.data = data
        self.log = log

    def __repr__(self) -> str:
        return "Mangled(" + "; ".join(self.log) + ")"


def _short(b) -> str:
    r = repr(b)
    return r if len(r) <= 60 else r[:57] + "..."


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
def byte_ops(draw, data: bytes, header: int = 128, max_ops: int = 3,
             log: list[str] | None = None) -> Mangled:
    """Truncate / overwrite (header region or anywhere) / insert / delete bytes."""
    buf = bytearray(data)
    log = list(log or [])
    for _ in range(draw(st.integers(1, max_ops))):
        n = len(buf)
        op = draw(st.sampled_from(["truncate", "overwrite_head", "overwrite", "insert",
                                   "delete"]))
        if op == "truncate":
            cut = draw(st.integers(0, n))
            del buf[cut:]
            log.append(f"truncate at {cut}")
            continue
        if op == "overwrite_head":
            pos = draw(st.integers(0, max(min(header, n) - 1, 0)))
        else:
            pos = draw(st.integers(0, n))
        if op == "delete":
            k = draw(st.integers(1, 64))
            del buf[pos:pos + k]
            log.append(f"delete {k} at {pos}")
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
        log.append(f"{op} {_short(blob)} at {pos}")
    return Mangled(bytes(buf), log)


@st.composite
def text_ops(draw, src: Source, max_edits: int = 6) -> Mangled:
    """Replace numbers with bad tokens, delete or duplicate lines, insert garbage lines;
    sometimes followed by byte-level damage."""
    data = src.data
    edits: list[tuple[int, int, bytes]] = []
    n_lines = len(src.lines)
    for _ in range(draw(st.sampled_from([1, 1, 2, 3, max_edits]))):
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
    log = [f"{a}:{b}->{_short(r)}" for a, b, r in edits]
    if draw(st.booleans()):
        return draw(byte_ops(out, max_ops=2, log=log))
    return Mangled(out, log)


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
def json_ops(draw, doc_text: str, hot: dict[str, list[int]], max_ops: int = 3) -> Mangled:
    """Parse the real glTF JSON and set/remove values in it (indices biased to ``hot``)."""
    doc = json.loads(doc_text)
    log: list[str] = []

    def pick(kind: str) -> int | None:
        items = doc.get(kind)
        if not isinstance(items, list) or not items:
            return None
        choices = [i for i in hot.get(kind, []) if i < len(items)]
        strat = st.integers(0, len(items) - 1)
        if choices:
            strat = st.one_of(st.sampled_from(choices), strat)
        return draw(strat)

    def mutate(container: dict, key: str, where: str) -> None:
        if not isinstance(container, dict):
            return
        if draw(st.integers(0, 4)) == 0:
            container.pop(key, None)
            log.append(f"del {where}.{key}")
            return
        if key == "sparse" and draw(st.booleans()):
            container[key] = dict(_SPARSE, count=draw(_JSON_VALUES))
        else:
            container[key] = draw(_JSON_VALUES)
        log.append(f"{where}.{key} = {_short(container[key])}")

    for _ in range(draw(st.integers(1, max_ops))):
        where = draw(st.sampled_from(["accessors", "accessors", "accessors", "bufferViews",
                                      "bufferViews", "buffers", "meshes", "primitive",
                                      "primitive", "primitive", "nodes", "nodes", "scenes",
                                      "materials", "baseColor", "root"]))
        if where == "root":
            mutate(doc, draw(st.sampled_from(_ROOT_KEYS)), "")
        elif where == "primitive":
            mi = pick("meshes")
            if mi is None or not isinstance(doc["meshes"][mi], dict):
                continue
            prims = doc["meshes"][mi].get("primitives")
            if not isinstance(prims, list) or not prims or not isinstance(prims[0], dict):
                continue
            pi = draw(st.integers(0, len(prims) - 1))
            prim = prims[pi]
            key = draw(st.sampled_from(_PRIM_KEYS))
            at = f"meshes[{mi}].primitives[{pi}]"
            if key.isupper():
                mutate(prim.get("attributes"), key, at + ".attributes")
            else:
                mutate(prim, key, at)
        elif where == "baseColor":
            i = pick("materials")
            if i is not None and isinstance(doc["materials"][i], dict):
                pbr = doc["materials"][i].setdefault("pbrMetallicRoughness", {})
                if not isinstance(pbr, dict):
                    continue
                key = draw(st.sampled_from(["baseColorFactor", "baseColorTexture"]))
                if key == "baseColorTexture" and draw(st.booleans()):
                    pbr[key] = {"index": draw(_JSON_VALUES)}
                    log.append(f"materials[{i}]...{key} = {_short(pbr[key])}")
                else:
                    mutate(pbr, key, f"materials[{i}].pbrMetallicRoughness")
        else:
            i = pick(where)
            if i is not None:
                mutate(doc[where][i], draw(st.sampled_from(_KEYS[where])), f"{where}[{i}]")
    return Mangled(doc, log)


# ---------------------------------------------------------------------------- fixtures

MESHES = Path("meshes")


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz_meshes")


@pytest.fixture(scope="module")
def delft(shared_data: Path) -> dict[str, Source]:
    d = shared_data / MESHES / "delft_3dfier_lod1"
    return {n: Source((d / n).read_bytes(), n) for n in ("testarea.obj", "3dfier.mtl")}


@pytest.fixture(scope="module")
def fuze(shared_data: Path) -> dict[str, Source]:
    d = shared_data / MESHES / "fuze_textured_obj"
    return {p.name: Source(p.read_bytes(), p.name) for p in sorted(d.iterdir())}


@pytest.fixture(scope="module")
def delfshaven(shared_data: Path) -> dict[str, Source]:
    d = shared_data / MESHES / "rotterdam_delfshaven_gltf"
    return {n: Source((d / n).read_bytes(), n)
            for n in ("3-20-DELFSHAVEN.gltf", "3-20-DELFSHAVEN_bin.bin")}


@pytest.fixture(scope="module")
def glb(shared_data: Path) -> Source:
    name = "no_indices_3storybuilding.glb"
    return Source((shared_data / MESHES / name).read_bytes(), name)


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
        out[name] = Source(p.read_bytes(), name)
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
    return {name: (mangled.data if name == target else s.data) for name, s in files.items()}


@settings(FUZZ, max_examples=50)
@given(data=st.data())
def test_fuzz_delft_obj(work: Path, delft: dict[str, Source], data) -> None:
    files = _obj_case(data.draw, delft, ["testarea.obj"] * 4 + ["3dfier.mtl"])
    d = _fresh_dir(work, "delft")
    for name, blob in files.items():
        (d / name).write_bytes(blob)
    _read_ok(obj.read, d / "testarea.obj")


@settings(FUZZ, max_examples=60)
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


@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_fuzz_delfshaven_gltf_json(work: Path, delfshaven: dict[str, Source], data) -> None:
    src = delfshaven["3-20-DELFSHAVEN.gltf"]
    d = _fresh_dir(work, "delfshaven_json")
    (d / "3-20-DELFSHAVEN_bin.bin").write_bytes(delfshaven["3-20-DELFSHAVEN_bin.bin"].data)
    if data.draw(st.integers(0, 3)) == 0:  # raw damage to the JSON text
        blob = data.draw(byte_ops(src.data, header=64)).data
    else:
        blob = json.dumps(data.draw(json_ops(src.data.decode(), _DELFSHAVEN_HOT)).data)
    (d / "3-20-DELFSHAVEN.gltf").write_bytes(blob if isinstance(blob, bytes) else blob.encode())
    _read_ok(gltf.read, d / "3-20-DELFSHAVEN.gltf")


@settings(FUZZ, max_examples=30)
@given(data=st.data())
def test_fuzz_delfshaven_gltf_bin(work: Path, delfshaven: dict[str, Source], data) -> None:
    d = _fresh_dir(work, "delfshaven_bin")
    (d / "3-20-DELFSHAVEN.gltf").write_bytes(delfshaven["3-20-DELFSHAVEN.gltf"].data)
    # the first bufferViews are uint32 indices, the last one the float32 positions
    binary = delfshaven["3-20-DELFSHAVEN_bin.bin"].data
    (d / "3-20-DELFSHAVEN_bin.bin").write_bytes(data.draw(byte_ops(binary, header=4096)).data)
    _read_ok(gltf.read, d / "3-20-DELFSHAVEN.gltf")


@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_fuzz_glb(work: Path, glb: Source, data) -> None:
    d = _fresh_dir(work, "glb")
    how = data.draw(st.sampled_from(["bytes", "json", "json", "bin"]))
    json_text, bin_chunk = _unpack_glb(glb.data)
    if how == "bytes":  # chunk headers live in the first 20 bytes, the JSON after them
        blob = data.draw(byte_ops(glb.data, header=64)).data
    elif how == "json":
        blob = _pack_glb(data.draw(json_ops(json_text, {})).data, bin_chunk)
    else:
        blob = _pack_glb(json.loads(json_text),
                         data.draw(byte_ops(bin_chunk, header=256)).data)
    (d / "building.glb").write_bytes(blob)
    _read_ok(gltf.read, d / "building.glb")


# ---------------------------------------------------------------------------- STL / OFF


@settings(FUZZ, max_examples=50)
@given(data=st.data())
def test_fuzz_binary_stl(work: Path, gargo_exports: dict[str, Source], data) -> None:
    src = gargo_exports["gargo.stl"]
    d = _fresh_dir(work, "stl")
    (d / "gargo.stl").write_bytes(data.draw(byte_ops(src.data, header=100)).data)
    _read_ok(stl_off.read_stl, d / "gargo.stl")


@FUZZ
@given(data=st.data())
def test_fuzz_ascii_stl(work: Path, gargo_exports: dict[str, Source], data) -> None:
    src = gargo_exports["gargo_ascii.stl"]
    d = _fresh_dir(work, "stl_ascii")
    blob = data.draw(st.one_of(byte_ops(src.data), text_ops(src))).data
    (d / "gargo.stl").write_bytes(blob)
    _read_ok(stl_off.read_stl, d / "gargo.stl")


@settings(FUZZ, max_examples=50)
@given(data=st.data())
def test_fuzz_off(work: Path, gargo_exports: dict[str, Source], data) -> None:
    src = gargo_exports["gargo.off"]
    d = _fresh_dir(work, "off")
    blob = data.draw(st.one_of(byte_ops(src.data, header=32), text_ops(src))).data
    (d / "gargo.off").write_bytes(blob)
    _read_ok(stl_off.read_off, d / "gargo.off")


# ---------------------------------------------------------------------------- regressions
# Concrete cases found by the fuzzers above, kept as plain tests.


def _expect_load_error(reader: Callable, path: Path, *fragments: str) -> LoadError:
    with _memory_cap(), pytest.raises(LoadError) as info:
        reader(path, None)
    for frag in fragments:
        assert frag.lower() in str(info.value).lower(), str(info.value)
    return info.value


def test_obj_overlong_mtllib_name_is_a_warning(work: Path, fuze: dict[str, Source]) -> None:
    # was: OSError (ENAMETOOLONG) from Path.is_file() escaped the reader
    d = _fresh_dir(work, "reg_mtllib")
    (d / "fuze.obj").write_bytes(b"mtllib " + b"a" * 400 + b"\n" + fuze["fuze.obj"].data)
    m = _read_ok(obj.read, d / "fuze.obj")
    assert m is not None and any("a" * 50 in w for w in m.warnings)


@pytest.mark.parametrize("corner", ["99999999999999999999", "1/99999999999999999999",
                                    "-9223372036854775809//1"])
def test_obj_face_index_beyond_int64(work: Path, corner: str) -> None:
    # was: OverflowError from numpy/int64 conversion
    d = _fresh_dir(work, "reg_obj_index")
    (d / "t.obj").write_text(f"v 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0 0\nf 1 2 {corner}\n")
    _expect_load_error(obj.read, d / "t.obj", "line 5")


def test_off_face_index_beyond_int64(work: Path) -> None:
    # was: OverflowError from np.asarray(corners, dtype=np.int64)
    d = _fresh_dir(work, "reg_off_index")
    (d / "t.off").write_text("OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 99999999999999999999\n")
    _expect_load_error(stl_off.read_off, d / "t.off", "vertex 99999999999999999999")


def _delfshaven_with(work: Path, delfshaven: dict[str, Source], edit: Callable) -> Path:
    d = _fresh_dir(work, "reg_delfshaven")
    (d / "3-20-DELFSHAVEN_bin.bin").write_bytes(delfshaven["3-20-DELFSHAVEN_bin.bin"].data)
    doc = json.loads(delfshaven["3-20-DELFSHAVEN.gltf"].data)
    edit(doc)
    p = d / "3-20-DELFSHAVEN.gltf"
    p.write_text(json.dumps(doc))
    return p


def test_gltf_huge_count_without_buffer_view_is_refused(work: Path, delfshaven) -> None:
    # was: np.zeros((10**12, 3)) -> MemoryError ("not enough memory" at best); with a
    # count of 10**9 the allocation even succeeded lazily and the machine started swapping
    def edit(doc):
        del doc["accessors"][853]["bufferView"]  # the shared POSITION accessor
        doc["accessors"][853]["count"] = 10**12

    p = _delfshaven_with(work, delfshaven, edit)
    _expect_load_error(gltf.read, p, "accessor 853", "no bufferView", "1,000,000,000,000")


_BAD_DOCS = {
    "primitives not a list": lambda d: d["meshes"][0].__setitem__("primitives", 1),
    "primitive not an object": lambda d: d["meshes"][0].__setitem__("primitives", [1]),
    "scene nodes not a list": lambda d: d["scenes"][0].__setitem__("nodes", 1),
    "node children not a list": lambda d: d["nodes"][0].__setitem__("children", 7),
    "matrix of strings": lambda d: d["nodes"][0].__setitem__("matrix", ["x"] * 16),
    "ragged translation": lambda d: d["nodes"][0].__setitem__("translation", [[1], 2, 3]),
    "mode null": lambda d: d["meshes"][0]["primitives"][0].__setitem__("mode", None),
    "mode list": lambda d: d["meshes"][0]["primitives"][0].__setitem__("mode", [4]),
    "POSITION list": lambda d: d["meshes"][0]["primitives"][0]["attributes"].__setitem__(
        "POSITION", [853]),
    "attributes string": lambda d: d["meshes"][0]["primitives"][0].__setitem__(
        "attributes", "POSITION"),
    "material list": lambda d: d["meshes"][0]["primitives"][0].__setitem__("material", [0]),
    "componentType list": lambda d: d["accessors"][0].__setitem__("componentType", [5125]),
    "type dict": lambda d: d["accessors"][0].__setitem__("type", {}),
    "byteStride string": lambda d: d["bufferViews"][853].__setitem__("byteStride", "12"),
    "byteStride float": lambda d: d["bufferViews"][853].__setitem__("byteStride", 12.5),
    "sparse count -1": lambda d: d["accessors"][0].__setitem__("sparse", dict(_SPARSE, count=-1)),
    "sparse indices list": lambda d: d["accessors"][0].__setitem__(
        "sparse", {"count": 1, "indices": [], "values": {}}),
    "buffer uri with NUL": lambda d: d["buffers"][0].__setitem__("uri", "a\x00b.bin"),
    "nodes an object": lambda d: d.__setitem__("nodes", {"0": {}}),
}


@pytest.mark.parametrize("case", sorted(_BAD_DOCS))
def test_gltf_wrong_json_types_are_load_errors(work: Path, delfshaven, case: str) -> None:
    # each of these raised TypeError/AttributeError/ValueError from inside the reader
    _expect_load_error(gltf.read, _delfshaven_with(work, delfshaven, _BAD_DOCS[case]))


@pytest.mark.parametrize("edit", [
    lambda d: d["materials"][0].__setitem__("pbrMetallicRoughness", 1),
    lambda d: d["materials"][0]["pbrMetallicRoughness"].__setitem__("baseColorTexture",
                                                                    {"index": [0]}),
    lambda d: d["materials"][0]["pbrMetallicRoughness"].__setitem__("baseColorFactor",
                                                                    [float("nan")] * 4),
    lambda d: d.__setitem__("extensionsUsed", [["CESIUM_RTC"]]),
    lambda d: (d.__setitem__("extensionsUsed", ["CESIUM_RTC"]), d.__setitem__("extensions", 3)),
], ids=["pbr int", "texture index list", "color NaN", "extensionsUsed nested",
        "extensions int"])
def test_gltf_bad_material_or_extension_is_a_warning(work: Path, delfshaven, edit) -> None:
    m = _read_ok(gltf.read, _delfshaven_with(work, delfshaven, edit))
    assert m is not None and m.triangle_count == 38_530
    assert all(np.isfinite(p.material.color).all() for p in m.parts)


@pytest.mark.timeout(20)
def test_gltf_node_dag_does_not_explode(work: Path, glb: Source) -> None:
    # 40 nodes, each listing the next one 10 times: 10**40 paths, no cycle
    json_text, bin_chunk = _unpack_glb(glb.data)
    doc = json.loads(json_text)
    n = 40
    doc["nodes"] = [{"children": [i + 1] * 10} for i in range(n)] + [{"mesh": 0}]
    doc["scenes"] = [{"nodes": [0]}]
    d = _fresh_dir(work, "reg_dag")
    (d / "dag.glb").write_bytes(_pack_glb(doc, bin_chunk))
    _expect_load_error(gltf.read, d / "dag.glb", "not a tree")


def test_gltf_overlong_integer_literal(work: Path) -> None:
    # json.loads raises a plain ValueError (int max str digits), not JSONDecodeError
    d = _fresh_dir(work, "reg_bigint")
    (d / "big.gltf").write_text('{"asset": {"version": "2.0"}, "scene": 1' + "0" * 5000 + "}")
    _expect_load_error(gltf.read, d / "big.gltf", "invalid glTF JSON")
