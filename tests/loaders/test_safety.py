"""Files from strangers: only regular files are opened, named paths stay in their folder."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

import loaders
from loaders import LoadError
from loaders.safety import UnsafePath, open_regular, read_regular, resolve_inside


@pytest.mark.timeout(10)
@pytest.mark.parametrize("name", ["scan.las", "model.obj", "site.city.json", "x.xyz"])
def test_a_fifo_is_refused_not_waited_on(tmp_path: Path, name: str) -> None:
    fifo = tmp_path / name
    os.mkfifo(fifo)
    with pytest.raises(LoadError) as info:  # (no writer: a blocking open would hang)
        loaders.read(fifo)
    assert "named pipe" in info.value.message and name in info.value.message


@pytest.mark.timeout(10)
def test_a_device_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "zero.ply"
    link.symlink_to("/dev/zero")
    with pytest.raises(LoadError) as info:
        loaders.read(link)
    assert "device" in info.value.message


def test_open_regular_refuses_fifo_and_large_files(tmp_path: Path) -> None:
    fifo = tmp_path / "p"
    os.mkfifo(fifo)
    with pytest.raises(UnsafePath, match="named pipe"):
        open_regular(fifo)
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 100)
    with pytest.raises(UnsafePath, match="more than"):
        open_regular(big, max_bytes=10)
    assert read_regular(big, max_bytes=100) == b"x" * 100
    with pytest.raises(UnsafePath, match="device"):
        open_regular("/dev/null")


def test_resolve_inside_keeps_paths_in_their_folder(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "media").mkdir(parents=True)
    (site / "media" / "crack 1.jpg").write_bytes(b"jpg")
    (tmp_path / "secret.txt").write_text("secret")
    (site / "link.txt").symlink_to(tmp_path / "secret.txt")
    (site / "inner.jpg").symlink_to(site / "media" / "crack 1.jpg")
    os.mkfifo(site / "pipe.jpg")
    ok = resolve_inside(site, "media/crack 1.jpg")
    assert ok == (site / "media" / "crack 1.jpg").resolve()
    assert resolve_inside(site, "media/crack%201.jpg".replace("%20", " ")) == ok
    assert resolve_inside(site, "inner.jpg") == ok  # a link that stays inside is fine
    for bad, why in [("../secret.txt", "outside"), ("media/../../secret.txt", "outside"),
                     ("link.txt", "outside"), (str(tmp_path / "secret.txt"), "absolute"),
                     ("/etc/passwd", "absolute"), ("C:\\Windows\\win.ini", "absolute"),
                     ("file:///etc/passwd", "absolute"), ("http://example.org/x.jpg", "URL"),
                     ("media/x\x00.jpg", "NUL"), ("pipe.jpg", "named pipe"),
                     ("missing.jpg", "does not exist"), ("media", "folder"), ("", "not a file")]:
        with pytest.raises(UnsafePath, match=why):
            resolve_inside(site, bad)


@pytest.mark.timeout(10)
def test_fifo_with_a_writer_still_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "stream.laz"
    os.mkfifo(fifo)

    def writer() -> None:  # a writer that would feed the reader forever
        try:
            fd = os.open(fifo, os.O_WRONLY)
            os.close(fd)
        except OSError:
            pass

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    with pytest.raises(LoadError):
        loaders.read(fifo)
    # unblock the writer if it is still waiting
    try:
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
    except OSError:
        pass
    t.join(2)


_OBJ = "mtllib {mtl}\nv 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0 0\nvt 1 0\nvt 0 1\nusemtl m\nf 1/1 2/2 3/3\n"


def _png(path: Path, color=(200, 10, 10)) -> Path:
    from PIL import Image

    Image.new("RGB", (4, 4), color).save(path)
    return path


@pytest.mark.parametrize("where", ["../outside", "absolute", "link", "fifo", "device"])
def test_obj_companions_stay_inside_the_obj_folder(tmp_path: Path, where: str) -> None:
    """An OBJ's material library and textures are read only from inside its folder."""
    site, outside = tmp_path / "site", tmp_path / "outside"
    site.mkdir()
    outside.mkdir()
    _png(outside / "secret.png", (1, 2, 3))
    (outside / "evil.mtl").write_text("newmtl m\nKd 0 1 0\nmap_Kd ../outside/secret.png\n")
    ref = {"../outside": "../outside/secret.png",
           "absolute": str(outside / "secret.png"),
           "link": "linked.png", "fifo": "pipe.png", "device": "zero.png"}[where]
    if where == "link":
        (site / "linked.png").symlink_to(outside / "secret.png")
    if where == "fifo":
        os.mkfifo(site / "pipe.png")
    if where == "device":
        (site / "zero.png").symlink_to("/dev/zero")
    (site / "m.mtl").write_text(f"newmtl m\nKd 0 1 0\nmap_Kd {ref}\n")
    (site / "model.obj").write_text(_OBJ.format(mtl="m.mtl"))
    mesh = loaders.read(site / "model.obj")
    textures = [p.material.texture for p in mesh.parts if p.material is not None]
    assert all(t is None for t in textures), "a texture outside the folder was read"
    assert any("not found inside the folder" in w for w in mesh.warnings)
    # and a material library outside the folder is not read either
    (site / "model2.obj").write_text(_OBJ.format(mtl="../outside/evil.mtl"))
    mesh2 = loaders.read(site / "model2.obj")
    assert any("material library" in w for w in mesh2.warnings)


def test_obj_texture_inside_the_folder_is_read(tmp_path: Path) -> None:
    (tmp_path / "tex").mkdir()
    _png(tmp_path / "tex" / "wall.png")
    (tmp_path / "m.mtl").write_text("newmtl m\nKd 1 1 1\nmap_Kd tex/wall.png\n")
    (tmp_path / "model.obj").write_text(_OBJ.format(mtl="m.mtl"))
    mesh = loaders.read(tmp_path / "model.obj")
    textures = [p.material.texture for p in mesh.parts if p.material is not None]
    assert textures and textures[0] is not None and textures[0].shape == (4, 4, 3)
    # an exporter's absolute path is found by its bare name next to the OBJ
    (tmp_path / "wall.png").write_bytes((tmp_path / "tex" / "wall.png").read_bytes())
    (tmp_path / "m.mtl").write_text("newmtl m\nmap_Kd C:\\Users\\me\\proj\\wall.png\n")
    mesh = loaders.read(tmp_path / "model.obj")
    assert [p.material.texture for p in mesh.parts if p.material][0] is not None


@pytest.mark.timeout(10)
def test_indexing_a_fifo_is_refused(tmp_path: Path) -> None:
    from loaders.writers.copc import write_copc

    fifo = tmp_path / "scan.laz"
    os.mkfifo(fifo)
    with pytest.raises(LoadError, match="named pipe"):
        write_copc(fifo, tmp_path / "out.copc.laz")
