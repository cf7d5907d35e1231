"""The command line with files and URLs from others: stdout holds only RealScene's
output whatever native libraries print, headless renders go straight to EGL, COPC URLs
work like files, and the numbers shown are the file's numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import laspy
import numpy as np
import pytest

from tests.loaders.test_copc import RangeHandler, serve

ROOT = Path(__file__).resolve().parents[1]
LION = "lion_takanawa.copc.laz"


def _cli(*args, env=None, timeout=240):
    return subprocess.run([sys.executable, "-m", "viewer.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=timeout)


# --------------------------------------------------------------------------------------
# stdout belongs to RealScene
# --------------------------------------------------------------------------------------

NOISY_READER = textwrap.dedent('''
    import ctypes, os, sys
    import numpy as np
    import loaders
    from loaders import PointCloud, ReaderSpec, REGISTRY
    from viewer.cli import main

    libc = ctypes.CDLL(None)

    def noisy_read(path, progress=None):
        os.write(1, b"native debug line written to fd 1\\n")
        libc.puts(b"libc puts: buffered C stdio on stdout")
        libc.printf(b"libc printf %d\\n", 42)
        print("a Python print from inside a library")
        xyz = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]])
        return PointCloud(positions=xyz.astype(np.float32), origin=np.zeros(3),
                          metadata={"format": "NOISY"})

    loaders.supported_extensions()  # built-in readers first
    REGISTRY.register(ReaderSpec(name="NOISY", extensions=("noisy",), read=noisy_read,
                                 score=100))
    code = main(sys.argv[1:])
    libc.puts(b"after main: stdout is the process's own again")
    sys.exit(code)
''')


def test_info_json_is_one_document_whatever_a_reader_prints(tmp_path):
    script = tmp_path / "noisy_cli.py"
    script.write_text(NOISY_READER)
    target = tmp_path / "cloud.noisy"
    target.write_bytes(b"anything")
    env = dict(os.environ, PYTHONPATH=str(ROOT))  # this checkout's viewer.cli
    proc = subprocess.run([sys.executable, str(script), "info", str(target), "--json"],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    # everything the "library" printed went to stderr ...
    for line in ("native debug line written to fd 1", "libc puts: buffered C stdio",
                 "libc printf 42", "a Python print from inside a library"):
        assert line in proc.stderr
    # ... and stdout is the JSON document, then what the script printed after main()
    document, _, after = proc.stdout.partition("\nafter main:")
    info = json.loads(document)
    assert info["format"] == "NOISY" and info["point_count"] == 2
    assert after.strip() == "stdout is the process's own again"


def test_info_json_on_a_real_ifc_and_render_print_only_their_own_lines(shared_data,
                                                                       tmp_path):
    ifc = shared_data / "bim" / "AC20-FZK-Haus.ifc"
    proc = _cli("info", ifc, "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)  # exactly one JSON document
    assert info["model_format"] == "IFC" and info["object_count"] > 0
    out = tmp_path / "cloud.png"
    proc = _cli("render", shared_data / "pointclouds" / "autzen_trim.laz", "-o", out,
                "--size", "320x200")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [str(out)]


def test_main_in_process_restores_stdout(shared_data, capfd):
    from viewer.cli import main

    code = main(["info", str(shared_data / "pointclouds" / "permutations_1.2_2.las"),
                 "--json"])
    os.write(1, b"fd 1 restored\n")
    out, err = capfd.readouterr()
    assert code == 0, err
    document, _, rest = out.partition("fd 1 restored")
    assert json.loads(document)["point_count"] == 1
    assert rest.strip() == ""


# --------------------------------------------------------------------------------------
# headless rendering goes straight to EGL
# --------------------------------------------------------------------------------------


def test_render_without_display_has_no_x_server_warning(shared_data, tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "VTK_DEFAULT_OPENGL_WINDOW")}
    out = tmp_path / "headless.png"
    proc = _cli("render", shared_data / "pointclouds" / "autzen_trim.laz", "-o", out,
                "--size", "320x200", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "bad X server connection" not in proc.stderr
    assert "vtkXOpenGLRenderWindow" not in proc.stderr
    assert out.stat().st_size > 1000


# --------------------------------------------------------------------------------------
# COPC URLs on the command line
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lion_url(tmp_path_factory, shared_data):
    import shutil

    root = tmp_path_factory.mktemp("cli_http")
    shutil.copy(shared_data / "pointclouds" / LION, root / LION)
    server, url, served = serve(RangeHandler, root)
    yield f"{url}/{LION}", served
    server.shutdown()
    server.server_close()


def test_info_and_render_a_copc_url(lion_url, shared_data, tmp_path):
    url, served = lion_url
    header = laspy.open(shared_data / "pointclouds" / LION).header
    proc = _cli("info", url, "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["point_count"] == header.point_count == 341_989
    assert info["format"] == "COPC" and info["streamed"] is True
    assert info["preview_point_count"] < info["point_count"]
    # the header's bounds at the file's scale (0.01)
    assert info["bounds"]["min"] == [round(float(v), 2) for v in header.mins]
    assert info["bounds"]["max"] == [round(float(v), 2) for v in header.maxs]
    assert sum(served) < (shared_data / "pointclouds" / LION).stat().st_size
    proc = _cli("info", url)
    assert proc.returncode == 0 and "341,989" in proc.stdout

    out = tmp_path / "lion.png"
    proc = _cli("render", url, "-o", out, "--size", "320x240", "--view", "front")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(out)
    from PIL import Image

    image = np.asarray(Image.open(out).convert("RGB")).astype(int)
    background = image[0, 0]
    drawn = (np.abs(image - background).sum(axis=2) > 30).mean()
    assert drawn > 0.02  # the lion, not an empty frame


@pytest.mark.parametrize("command", ["info", "render"])
def test_unreachable_url_is_one_line_exit_2(command, tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/site.copc.laz"
    args = [command, url] + (["-o", tmp_path / "x.png"] if command == "render" else [])
    proc = _cli(*args, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and url in lines[0] and "not found" not in lines[0]
    assert "Traceback" not in proc.stderr


# --------------------------------------------------------------------------------------
# numbers shown are the file's numbers
# --------------------------------------------------------------------------------------


def test_info_bounds_are_the_header_values(shared_data):
    path = shared_data / "pointclouds" / "autzen_trim.laz"
    header = laspy.open(path).header
    assert list(header.scales) == [0.01, 0.01, 0.01]
    proc = _cli("info", path, "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    # the header's min/max at the file's scale (0.01): 636001.76, not 636001.7600097656
    assert info["bounds"]["min"] == [round(float(v), 2) for v in header.mins]
    assert info["bounds"]["max"] == [round(float(v), 2) for v in header.maxs]
    assert info["bounds"]["min"][0] == 636001.76
    proc = _cli("info", path)
    assert "bounds min: 636001.76  848935.20  406.26" in proc.stdout
    assert "0000" not in proc.stdout.split("bounds min:")[1].splitlines()[0]


def test_info_bounds_of_a_text_cloud_have_its_decimals(tmp_path):
    path = tmp_path / "site.xyz"
    path.write_text("85012.345 447413.125 1.5\n85072.001 447640.999 26.25\n"
                    "85030.5 447500.75 3.125\n")
    proc = _cli("info", path, "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["bounds"]["min"] == [85012.345, 447413.125, 1.5]
    assert info["bounds"]["max"] == [85072.001, 447640.999, 26.25]


def test_render_a_geographic_cloud_in_metres(shared_data, tmp_path):
    """`render` uses the window's pipeline: degrees are drawn in a UTM zone, so from the
    front the cloud is a wide strip (2.2 km by 39 m), not a needle of degrees-as-metres
    (0.02 "m" wide, 39 m tall)."""
    out = tmp_path / "geo.png"
    proc = _cli("render", shared_data / "pointclouds" / "epsg_4326.las", "-o", out,
                "--view", "front", "--size", "400x400", "--color-by", "solid",
                "--no-attribution")  # only the data in the picture
    assert proc.returncode == 0, proc.stderr
    from PIL import Image

    image = np.asarray(Image.open(out).convert("RGB")).astype(int)
    mask = np.abs(image - image[0, 0]).sum(axis=2) > 30
    rows, cols = np.nonzero(mask)
    assert np.ptp(cols) > 4 * max(np.ptp(rows), 1)
    proc = _cli("info", shared_data / "pointclouds" / "epsg_4326.las", "--json")
    info = json.loads(proc.stdout)
    assert info["crs"]["epsg"] == 4326  # info describes the file ...
    assert info["drawn_in"]["epsg"] == 32615  # ... and says it is drawn in UTM zone 15N


def test_render_a_geographic_copc_url_in_metres(shared_data, tmp_path):
    from loaders.writers.copc import write_copc

    write_copc(shared_data / "pointclouds" / "epsg_4326.las", tmp_path / "geo.copc.laz",
               leaf_points=500)
    server, url, _ = serve(RangeHandler, tmp_path)
    try:
        out = tmp_path / "geo.png"
        proc = _cli("render", f"{url}/geo.copc.laz", "-o", out, "--view", "front",
                    "--size", "400x400", "--color-by", "solid", "--no-attribution")
    finally:
        server.shutdown()
        server.server_close()
    assert proc.returncode == 0, proc.stderr
    assert "UTM zone 15N" in proc.stderr  # the warning naming the metric CRS
    from PIL import Image

    image = np.asarray(Image.open(out).convert("RGB")).astype(int)
    rows, cols = np.nonzero(np.abs(image - image[0, 0]).sum(axis=2) > 30)
    assert np.ptp(cols) > 4 * max(np.ptp(rows), 1)  # a wide strip, not a needle
