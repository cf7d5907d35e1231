"""Reading LAS/LAZ in a worker process into shared memory (loaders.ingest): the same cloud
and octree as the in-process read, the other attributes read on demand in the same order,
the memory guard, and every way the worker can fail or be cancelled."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import numpy as np
import psutil
import pytest

from loaders import LoadCancelled, LoadError, ingest, progressive
from loaders.formats import las
from loaders.lod import build_octree

ROOT = Path(__file__).resolve().parents[2]
FILES = ["ahn3_cropped_2.laz", "lion_takanawa.copc.laz", "autzen_trim.laz",
         "file_with_both_wkt_and_geotiff_vlrs.las"]


@pytest.fixture(autouse=True)
def _worker(monkeypatch):
    monkeypatch.setenv(ingest.ENV_MODE, "worker")


def _children() -> list:
    """The ingest workers running (not the other tests' children: OSG, Dask..., nor the
    spare worker a window started, waiting for a request)."""
    out = []
    for p in psutil.Process().children(recursive=True):
        try:
            if p.pid != ingest.spare_pid() and p.status() != psutil.STATUS_ZOMBIE \
                    and "loaders.ingest" in " ".join(p.cmdline()):
                out.append(p)
        except psutil.Error:
            pass
    return out


@pytest.mark.parametrize("name", FILES)
def test_worker_read_equals_the_in_process_read(shared_data, name, monkeypatch):
    path = shared_data / "pointclouds" / name
    ours = ingest.read(path)
    assert ours.metadata["ingest"] == "worker"
    src = ingest.take_prebuilt_lod(ours)
    assert src is not None and src.cloud is ours
    assert ingest.take_prebuilt_lod(ours) is None  # handed over once
    monkeypatch.setenv(ingest.ENV_MODE, "inprocess")
    ref = progressive.read_full(path)
    ref_src = build_octree(ref)
    np.testing.assert_array_equal(ours.origin, ref.origin)
    np.testing.assert_array_equal(ours.positions, ref.positions)
    assert src.keys == ref_src.keys
    assert [src.node_slice(k) for k in src.keys] == [ref_src.node_slice(k) for k in src.keys]
    attrs = ours.attributes
    # the lean attributes are in memory; the others are named, still in the file
    assert set(dict(attrs.loaded_items())) == set(ingest.LEAN) & set(ref.attributes)
    assert set(attrs.deferred) == set(ref.attributes) - set(ingest.LEAN)
    assert set(attrs.keys()) == set(ref.attributes)
    assert all(attrs.is_deferred(k) for k in attrs.deferred)
    # the return number and count share one byte: unpacked on reading, a node at a time
    if "return_number" in ref.attributes:
        assert set(attrs.packed) == set(ingest.RETURN_FIELDS)
        assert not dict.__contains__(attrs, "return_number")
        kept = [v for v in dict.values(attrs)] + [attrs.packed["return_number"].packed]
        assert sum(v.nbytes for v in kept) == ours.point_count * (
            progressive.bytes_per_point(las.parse_header(path), lean=True) - 12)
        for key in ingest.RETURN_FIELDS:
            np.testing.assert_array_equal(attrs[key], ref.attributes[key], err_msg=key)
            field = dict(attrs.loaded_items())[key]
            start, stop = src.node_slice(src.keys[-1])
            np.testing.assert_array_equal(field[start:stop],
                                          ref.attributes[key][start:stop])
            assert field[start] == ref.attributes[key][start]
    # read on demand: in the octree order, equal to the in-process read's arrays
    reports = []
    attrs.load(lambda f, m: reports.append(f))
    assert reports and not attrs.deferred
    for key, values in ref.attributes.items():
        np.testing.assert_array_equal(attrs[key], values, err_msg=key)
    copy = pickle.loads(pickle.dumps(ours))
    assert set(copy.attributes) == set(ref.attributes)
    assert not _children()


def test_a_spare_worker_serves_the_next_read_and_goes_with_this_process(shared_data,
                                                                        tmp_path):
    path = shared_data / "pointclouds" / "autzen_trim.laz"
    assert ingest.prestart()
    pid = ingest.spare_pid()
    assert pid is not None and ingest.prestart() and ingest.spare_pid() == pid  # one
    cloud = ingest.read(path)
    assert cloud.metadata["ingest"] == "worker" and ingest.spare_pid() is None
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    # a spare that died meanwhile is replaced by a new worker, not used
    assert ingest.prestart()
    dead = psutil.Process(ingest.spare_pid())
    dead.kill()
    dead.wait(10)
    again = ingest.read(path)
    np.testing.assert_array_equal(again.positions, cloud.positions)
    # off the main thread no spare starts (a worker dies with the thread that started it)
    import threading

    started = []
    t = threading.Thread(target=lambda: started.append(ingest.prestart()))
    t.start()
    t.join()
    assert started == [False] and ingest.spare_pid() is None
    # a spare that is never used goes with this process
    script = tmp_path / "spare.py"
    script.write_text("import sys; from loaders import ingest; ingest.prestart(); "
                      "print(ingest.spare_pid(), flush=True)")
    import os
    import subprocess
    import sys

    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT),
                              ingest.ENV_MODE: "worker"}, timeout=120)
    try:
        spare = psutil.Process(int(out.stdout.strip()))
    except psutil.NoSuchProcess:
        return  # gone already
    assert psutil.wait_procs([spare], timeout=10)[1] == []


def test_packed_fields_behave_as_the_arrays_they_hold():
    rn = np.array([1, 2, 3, 1, 15], np.uint8)
    nr = np.array([3, 3, 3, 1, 15], np.uint8)
    store = {"return_number": rn.copy(), "number_of_returns": nr.copy(),
             "intensity": np.arange(5, dtype=np.uint16)}
    ingest.pack_returns(store)
    packed = store.pop(ingest.PACKED_RETURNS)
    assert set(store) == {"intensity"} and packed.dtype == np.uint8
    fields = {k: ingest.PackedField(packed, s) for k, s in ingest.RETURN_FIELDS.items()}
    attrs = ingest.DeferredAttributes(store, ["gps_time"], lambda p: {
        "gps_time": np.zeros(5)}, fields)
    assert attrs.keys() == ["intensity", "return_number", "number_of_returns", "gps_time"]
    assert len(attrs) == 4 and "number_of_returns" in attrs
    np.testing.assert_array_equal(attrs["return_number"], rn)
    np.testing.assert_array_equal(attrs.get("number_of_returns"), nr)
    loaded = dict(attrs.loaded_items())
    assert "gps_time" not in loaded and attrs.is_deferred("gps_time")
    np.testing.assert_array_equal(loaded["number_of_returns"][1:4], nr[1:4])
    assert loaded["return_number"].shape == (5,) and loaded["return_number"].ndim == 1
    np.testing.assert_array_equal(np.asarray(loaded["return_number"], np.float32), rn)
    full = attrs.copy()  # reads the deferred ones, unpacks the packed ones
    assert set(full) == {"intensity", "return_number", "number_of_returns", "gps_time"}
    np.testing.assert_array_equal(full["number_of_returns"], nr)
    attrs["return_number"] = np.zeros(5, np.uint8)  # replaced: a plain array from now on
    assert "return_number" not in attrs.packed and attrs["return_number"].sum() == 0
    np.testing.assert_array_equal(attrs.pop("number_of_returns"), nr)
    assert "number_of_returns" not in attrs and not attrs.packed
    del attrs["intensity"]
    assert set(attrs) == {"return_number", "gps_time"}


def test_extra_dimension_stays_in_the_file_until_asked(shared_data):
    cloud = ingest.read(shared_data / "pointclouds" / "lion_takanawa.copc.laz")
    attrs = cloud.attributes
    assert "OriginId" in attrs and attrs.is_deferred("OriginId")
    assert "gps_time" in attrs.deferred and "scan_angle" in attrs.deferred
    values = attrs["OriginId"]  # a plain read: blocks, reads every deferred one
    assert len(values) == cloud.point_count and not attrs.deferred


def test_memory_guard_thins_in_the_worker(shared_data, monkeypatch):
    path = shared_data / "pointclouds" / "ahn3_cropped_2.laz"
    info = las.parse_header(path)
    budget = info.point_count * progressive.peak_bytes_per_point(info, lean=True) // 3
    monkeypatch.setenv(progressive.ENV_BUDGET, str(budget))
    cloud = ingest.read(path)
    guard = cloud.metadata["memory_guard"]
    assert guard["stride"] >= 3 and guard["budget"] == budget
    assert cloud.point_count == -(-info.point_count // guard["stride"])
    assert "memory budget" in cloud.warnings[0]
    # the deferred attributes come in the thinned cloud's order
    gps = cloud.attributes["gps_time"]
    monkeypatch.setenv(ingest.ENV_MODE, "inprocess")
    ref = progressive.read_full(path, stride=guard["stride"])
    build_octree(ref)
    np.testing.assert_array_equal(cloud.positions, ref.positions)
    np.testing.assert_array_equal(gps, ref.attributes["gps_time"])


def test_corrupt_file_is_one_clear_error(shared_data, tmp_path):
    src = shared_data / "pointclouds" / "ahn3_cropped_2.laz"
    bad = tmp_path / "cut.laz"
    data = src.read_bytes()
    bad.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(LoadError) as err:
        ingest.read(bad)
    assert str(bad) in err.value.message
    assert not _children()


def test_cancel_kills_the_worker(shared_data):
    seen = []

    def progress(fraction, message):
        seen.append(_children())
        if len(seen) > 1:
            raise LoadCancelled()

    with pytest.raises(LoadCancelled):
        ingest.read(shared_data / "pointclouds" / "ahn3_cropped_2.laz", progress)
    assert any(seen)  # the worker was running
    assert not _children()


def test_a_killed_worker_is_one_clear_error(shared_data):
    killed = []

    def progress(fraction, message):
        for child in _children():
            child.kill()
            killed.append(child.pid)

    with pytest.raises(LoadError) as err:
        ingest.read(shared_data / "pointclouds" / "ahn3_cropped_2.laz", progress)
    assert killed
    assert "reading process" in err.value.reason


def test_file_changed_before_its_other_attributes_are_read(shared_data, tmp_path):
    path = tmp_path / "survey.laz"
    shutil.copy(shared_data / "pointclouds" / "ahn3_cropped_2.laz", path)
    cloud = ingest.read(path)
    shutil.copy(shared_data / "pointclouds" / "autzen_trim.laz", path)
    with pytest.raises(LoadError) as err:
        cloud.attributes.load()
    assert "changed" in err.value.reason
    assert cloud.attributes.deferred  # still named, still readable after a reopen


def test_in_process_mode_and_small_files_do_not_start_a_worker(shared_data, monkeypatch):
    monkeypatch.setenv(ingest.ENV_MODE, "")
    small = shared_data / "pointclouds" / "autzen_trim.laz"  # 110k points
    cloud = ingest.read(small)
    assert "ingest" not in cloud.metadata and "gps_time" in cloud.attributes
    monkeypatch.setenv(ingest.ENV_MODE, "inprocess")
    assert not ingest.use_worker(10**9)


def _write_ply(path, cloud, order="<") -> None:
    """A binary PLY of a real cloud's points: double x, y, z, colours, intensity,
    classification, GPS time and made-up normals."""
    n = cloud.point_count
    xyz = cloud.xyz()
    fields = [("x", "f8"), ("y", "f8"), ("z", "f8"), ("red", "u1"), ("green", "u1"),
              ("blue", "u1"), ("scalar_intensity", "u2"), ("scalar_classification", "u1"),
              ("gps_time", "f8"), ("nx", "f4"), ("ny", "f4"), ("nz", "f4")]
    rec = np.zeros(n, [(name, order + t) for name, t in fields])
    rec["x"], rec["y"], rec["z"] = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    for k, c in enumerate(("red", "green", "blue")):
        rec[c] = cloud.attributes["rgb"][:, k]
    rec["scalar_intensity"] = cloud.attributes["intensity"]
    rec["scalar_classification"] = cloud.attributes["classification"]
    rec["gps_time"] = cloud.attributes["gps_time"]
    rec["nz"] = 1.0
    rec["nx"] = np.linspace(-1, 1, n)
    kind = {"<": "binary_little_endian", ">": "binary_big_endian"}[order]
    types = {"f8": "double", "f4": "float", "u1": "uchar", "u2": "ushort"}
    head = ["ply", f"format {kind} 1.0", "comment made from autzen_trim.laz",
            f"element vertex {n}"] + [f"property {types[t]} {name}" for name, t in fields] + [
            "end_header"]
    path.write_bytes(("\n".join(head) + "\n").encode() + rec.tobytes())


@pytest.mark.parametrize("order", ["<", ">"])
def test_point_cloud_ply_read_lean(shared_data, tmp_path, order, monkeypatch):
    from loaders import read
    from loaders.ingest_ply import plan

    monkeypatch.setenv(ingest.ENV_MODE, "inprocess")
    laz = progressive.read_full(shared_data / "pointclouds" / "autzen_trim.laz")
    monkeypatch.setenv(ingest.ENV_MODE, "worker")
    path = tmp_path / "autzen.ply"
    _write_ply(path, laz, order)
    cloud = ingest.read_ply(path)
    assert cloud.metadata["ingest"] == "worker"
    src = ingest.take_prebuilt_lod(cloud)
    assert src is not None and src.total_points == laz.point_count
    attrs = cloud.attributes
    assert set(dict(attrs.loaded_items())) == {"rgb", "intensity", "classification"}
    assert attrs.deferred == ["normals", "gps_time"]
    ref = read(path)  # the full reader, and its octree built here
    ref_src = build_octree(ref)
    np.testing.assert_array_equal(cloud.origin, ref.origin)
    np.testing.assert_array_equal(cloud.positions, ref.positions)
    assert src.keys == ref_src.keys
    assert cloud.metadata["comments"] == ["made from autzen_trim.laz"]
    attrs.load()
    assert set(attrs.keys()) == set(ref.attributes)
    for key, values in ref.attributes.items():
        np.testing.assert_array_equal(attrs[key], values, err_msg=key)
        assert attrs[key].dtype == values.dtype
    assert plan(shared_data / "meshes" / "gargo.ply") is None  # a mesh: the full reader


def test_truncated_ply_is_one_clear_error(shared_data, tmp_path, monkeypatch):
    from loaders import read

    monkeypatch.setenv(ingest.ENV_MODE, "inprocess")
    laz = progressive.read_full(shared_data / "pointclouds" / "autzen_trim.laz")
    path = tmp_path / "cut.ply"
    _write_ply(path, laz)
    path.write_bytes(path.read_bytes()[:-1000])
    monkeypatch.setenv(ingest.ENV_MODE, "worker")
    with pytest.raises(LoadError) as err:
        ingest.read_ply(path)
    with pytest.raises(LoadError) as full:
        read(path)
    assert err.value.message == full.value.message  # the full reader's message


def test_a_fifo_named_ply_is_refused_not_waited_on(tmp_path):
    import os

    from viewer import pipeline

    fifo = tmp_path / "points.ply"
    os.mkfifo(fifo)
    with pytest.raises(LoadError) as err:
        pipeline.read(str(fifo))  # the lean plan must not open it (it would block)
    assert "regular file" in err.value.message


@pytest.mark.parametrize("colour", ["u2", "f4"])
def test_ply_colours_of_other_types_read_lean_as_the_full_reader_reads_them(tmp_path,
                                                                           colour):
    from loaders import read

    n = 70_000  # more than an octree node and than a block of the worker's passes
    rng = np.random.default_rng(2)
    fields = [("x", "f4"), ("y", "f4"), ("z", "f4"), ("red", colour), ("green", colour),
              ("blue", colour), ("class", "u1")]
    rec = np.zeros(n, [(name, "<" + t) for name, t in fields])
    for c in "xyz":
        rec[c] = rng.uniform(0, 50, n)
    for c in ("red", "green", "blue"):
        rec[c] = rng.uniform(0, 1, n) if colour == "f4" else rng.integers(0, 65535, n)
    rec["class"] = rng.integers(0, 12, n)
    types = {"f4": "float", "u1": "uchar", "u2": "ushort"}
    head = ["ply", "format binary_little_endian 1.0", f"element vertex {n}"] + [
        f"property {types[t]} {name}" for name, t in fields] + ["end_header"]
    path = tmp_path / "c.ply"
    path.write_bytes(("\n".join(head) + "\n").encode() + rec.tobytes())
    cloud = ingest.read_ply(path)
    assert cloud.metadata["ingest"] == "worker"
    ref = read(path)
    build_octree(ref)
    np.testing.assert_array_equal(cloud.positions, ref.positions)
    for key in ("rgb", "classification"):
        np.testing.assert_array_equal(cloud.attributes[key], ref.attributes[key])
    assert cloud.attributes["rgb"].max() > 200  # scaled to 0..255, not clipped or cut


def test_a_ply_that_does_not_fit_the_memory_budget_opens_thinned(shared_data, tmp_path,
                                                                monkeypatch):
    from loaders import read

    monkeypatch.setenv(ingest.ENV_MODE, "inprocess")
    laz = progressive.read_full(shared_data / "pointclouds" / "autzen_trim.laz")
    monkeypatch.setenv(ingest.ENV_MODE, "worker")
    path = tmp_path / "autzen.ply"
    _write_ply(path, laz)
    n = laz.point_count
    monkeypatch.setenv(progressive.ENV_BUDGET, str(n * 25 // 3))  # a third of its peak
    cloud = ingest.read_ply(path)
    guard = cloud.metadata["memory_guard"]
    stride = guard["stride"]
    assert stride >= 3 and guard["file_points"] == n
    assert cloud.warnings[0].startswith("showing ") and "COPC" in cloud.warnings[0]
    assert cloud.point_count == -(-n // stride)
    assert ingest.take_prebuilt_lod(cloud) is not None
    cloud.attributes.load()  # the deferred ones: the same points, the same order
    monkeypatch.delenv(progressive.ENV_BUDGET)
    ref = read(path)  # every point
    keep = np.arange(0, n, stride)

    def ordered(xyz, gps):
        order = np.lexsort((xyz[:, 2], xyz[:, 1], xyz[:, 0], gps))
        return order

    ours_order = ordered(cloud.xyz(), cloud.attributes["gps_time"])
    ref_xyz, ref_gps = ref.xyz()[keep], ref.attributes["gps_time"][keep]
    ref_order = ordered(ref_xyz, ref_gps)
    np.testing.assert_allclose(cloud.xyz()[ours_order], ref_xyz[ref_order], atol=1e-3)
    for key in ("gps_time", "intensity", "classification", "rgb", "normals"):
        np.testing.assert_array_equal(cloud.attributes[key][ours_order],
                                      ref.attributes[key][keep][ref_order], err_msg=key)
