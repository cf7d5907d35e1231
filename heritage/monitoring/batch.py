"""Folders of tiles on Dask: compare two survey epochs tile by tile, or index a folder to COPC.

A city re-survey is thousands of tile pairs. :func:`compare_folders` pairs the tiles of two
folders by name (``A/x.laz`` with ``B/x.las``: ``.las``, ``.laz`` and ``.copc.laz`` are
the same tile), :func:`index_folder` takes every LAS/LAZ of one folder; both run one task
per tile on a ``dask.distributed`` client: a :class:`~distributed.LocalCluster` of worker
processes on this machine by default, an existing scheduler (``tcp://HOST:PORT`` or a
``dask scheduler --scheduler-file``) when one is given, so the same call runs on a
cluster without code changes (the workers must see the folders at the same paths and
have RealScene installed). There is no job runner of our own: Dask schedules, retries
lost workers and reports.

Every tile's output is written to a temporary name in ``OUT_DIR`` and renamed when
complete, then a status record ``OUT_DIR/status/NAME.json`` (where it ran, how long,
the input sizes and dates, the parameters); ``OUT_DIR/summary.json`` lists every tile
(done, skipped, failed with the file and the reason), the unpaired and refused files.
Running again skips the tiles whose output is complete for the same inputs and
parameters. A tile that fails (a broken LAZ, a worker that died) is reported and the
others finish.

Folders come from strangers: only regular files are taken, symbolic links that lead out
of the folder are refused (:func:`loaders.safety.resolve_inside`), and output names are
derived from tile names with anything but letters, digits, ``.``, ``-`` and ``_``
replaced (plus a short hash of the original name, so two names never meet).

No Qt, no VTK.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from loaders.safety import UnsafePath, resolve_inside

SUFFIXES = (".copc.laz", ".laz", ".las")
STATUS_DIR = "status"
SUMMARY = "summary.json"
DEFAULT_CONNECT_TIMEOUT = 10.0

ProgressFn = Callable[[int, int, dict], None]


class BatchError(Exception):
    """A batch that cannot start (a missing folder, an unreachable scheduler): one line."""


# --------------------------------------------------------------------------------------
# tiles in folders
# --------------------------------------------------------------------------------------


def tile_key(filename: str) -> tuple[str, str] | None:
    """``(name, suffix)`` of a point-cloud tile file name (``x.copc.laz`` -> ``("x",
    ".copc.laz")``), None for any other file."""
    low = filename.lower()
    for suffix in SUFFIXES:
        if low.endswith(suffix) and len(filename) > len(suffix):
            return filename[: -len(suffix)], filename[-len(suffix):]
    return None


_UNSAFE = re.compile(r"[^\w.\-]", re.UNICODE)


def safe_stem(name: str) -> str:
    """A file-name stem for ``name`` that is safe in any folder: letters (any script),
    digits, ``.``, ``-``, ``_``; no leading dot; at most 100 characters. A name that had to
    change gets a short hash of the original, so two tiles never share an output."""
    stem = _UNSAFE.sub("_", name).lstrip(".")[:100] or "tile"
    if stem != name:
        digest = hashlib.sha1(name.encode("utf-8", "surrogateescape")).hexdigest()[:8]
        stem = f"{stem}-{digest}"
    return stem


@dataclass
class Tile:
    """One unit of work: a tile name, its input files and its output file name."""

    name: str
    inputs: tuple[str, ...]
    output: str

    @property
    def stem(self) -> str:
        return safe_stem(self.name)


@dataclass
class Listing:
    """The tiles of a folder (name -> path), what was refused (file, reason) and what
    was passed over on purpose (file, why)."""

    tiles: dict[str, Path] = field(default_factory=dict)
    refused: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)


def _check_folder(folder: str | os.PathLike, what: str) -> Path:
    path = Path(folder)
    if not path.exists():
        raise BatchError(f"{path}: {what} not found")
    if not path.is_dir():
        raise BatchError(f"{path}: {what} is not a folder")
    return path


def list_tiles(folder: str | os.PathLike, *, take_copc: bool = True) -> Listing:
    """The LAS/LAZ/COPC tiles directly in ``folder`` by tile name.

    Only regular files inside the folder are taken (a link may point to another file of
    the same folder, never out of it; FIFOs, devices and sub-folders are refused). When a
    tile has a plain LAS/LAZ and a ``.copc.laz`` copy (an indexed folder), the original is
    taken; two originals (``x.las`` and ``x.laz``) are both refused. ``take_copc`` False
    passes over ``.copc.laz`` files (a folder being indexed).
    """
    base = _check_folder(folder, "folder")
    out = Listing()
    found: dict[str, list[tuple[str, str]]] = {}
    try:
        names = sorted(os.listdir(base))
    except OSError as exc:
        raise BatchError(f"{base}: cannot list the folder: {exc.strerror or exc}") from None
    for filename in names:
        key = tile_key(filename)
        if key is None:
            continue
        try:
            resolve_inside(base, filename)
        except UnsafePath as exc:
            out.refused.append((str(base / filename), exc.reason))
            continue
        found.setdefault(key[0], []).append((filename, key[1].lower()))
    for name, files in found.items():
        originals = [f for f, s in files if s != ".copc.laz"]
        copies = [f for f, s in files if s == ".copc.laz"]
        if len(originals) > 1:
            for f in originals:
                out.refused.append((str(base / f), f"tile {name!r} has {len(originals)} "
                                    f"files ({', '.join(originals)}); keep one"))
            continue
        if originals:
            out.tiles[name] = base / originals[0]
            out.ignored.extend((str(base / f), f"a COPC copy of {originals[0]}")
                               for f in copies)
        elif take_copc:
            out.tiles[name] = base / copies[0]
        else:
            out.ignored.append((str(base / copies[0]), "already COPC"))
    return out


@dataclass
class Pairing:
    """Tiles of two epochs paired by name, and the ones without a partner."""

    pairs: list[tuple[str, Path, Path]]
    only_a: list[str]
    only_b: list[str]
    refused: list[tuple[str, str]]
    ignored: list[tuple[str, str]]


def pair_tiles(dir_a: str | os.PathLike, dir_b: str | os.PathLike) -> Pairing:
    """Pair the tiles of two folders by name (see :func:`list_tiles`)."""
    a = list_tiles(_check_folder(dir_a, "folder A"))
    b = list_tiles(_check_folder(dir_b, "folder B"))
    names = sorted(set(a.tiles) & set(b.tiles))
    return Pairing(pairs=[(n, a.tiles[n], b.tiles[n]) for n in names],
                   only_a=[str(a.tiles[n]) for n in sorted(set(a.tiles) - set(b.tiles))],
                   only_b=[str(b.tiles[n]) for n in sorted(set(b.tiles) - set(a.tiles))],
                   refused=a.refused + b.refused, ignored=a.ignored + b.ignored)


# --------------------------------------------------------------------------------------
# the work of one tile (runs on a Dask worker)
# --------------------------------------------------------------------------------------


def _index_work(inputs: Sequence[str], out: Path, params: dict) -> dict:
    from loaders.writers.copc import write_copc

    write_copc(inputs[0], out)
    return {}


def _compare_work(inputs: Sequence[str], out: Path, params: dict) -> dict:
    from heritage.monitoring.change import compare_files

    result = compare_files(inputs[0], inputs[1], out, **params)
    return _jsonable(result.to_dict() if hasattr(result, "to_dict") else result)


WORK: dict[str, Callable[[Sequence[str], Path, dict], dict]] = {
    "index": _index_work, "compare": _compare_work}


def _jsonable(value: Any) -> Any:
    """A JSON-friendly copy of what a tile's work returned (dataclasses, numpy numbers)."""
    if value is None:
        return {}
    if hasattr(value, "__dataclass_fields__"):
        value = asdict(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()
                if not str(k).startswith("_")}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, bool, int)) or value is None:
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    try:  # numpy scalars and small arrays
        return _jsonable(value.tolist())
    except AttributeError:
        return str(value)


def _input_signature(path: str) -> dict:
    st = os.stat(path)
    return {"path": path, "bytes": st.st_size, "mtime_ns": st.st_mtime_ns}


def _where() -> dict:
    """The Dask worker (address) and process running this code."""
    info = {"pid": os.getpid(), "host": socket.gethostname(), "address": None}
    try:
        from distributed import get_worker

        info["address"] = get_worker().address
    except (ImportError, ValueError):  # not on a worker (called directly)
        pass
    return info


def _write_json(path: Path, data: dict) -> None:
    """Write ``data`` to ``path`` atomically (temporary file, then rename)."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n",
                       encoding="utf-8")
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _reason(exc: BaseException) -> str:
    message = getattr(exc, "message", None)  # loaders.LoadError names the file
    text = message if isinstance(message, str) and message else \
        f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())[:500]


def run_tile(kind: str, tile: dict, out_dir: str, params: dict) -> dict:
    """Do one tile's work and return its status record (also written to
    ``OUT_DIR/status/STEM.json``). Never raises for a bad tile: the record says
    ``failed`` with the reason. The output is written under a temporary name (same
    suffix) and renamed when complete."""
    out = Path(out_dir)
    started = time.time()
    stem = safe_stem(tile["name"])
    final = out / tile["output"]
    tmp = out / f".part-{uuid.uuid4().hex[:8]}-{tile['output']}"
    record: dict[str, Any] = {"name": tile["name"], "status": "failed", "kind": kind,
                              "output": tile["output"], "params": params,
                              "worker": _where(), "started": started}
    try:
        record["inputs"] = [_input_signature(p) for p in tile["inputs"]]
        if any(os.path.realpath(p) == os.path.realpath(final) for p in tile["inputs"]):
            raise BatchError(f"{final}: the output would overwrite its own input; "
                             "choose another output folder")
        record["result"] = WORK[kind](tile["inputs"], tmp, dict(params))
        os.replace(tmp, final)
        if isinstance(record["result"], dict) and "out_path" in record["result"]:
            record["result"]["out_path"] = str(final)
        record["output_bytes"] = final.stat().st_size
        record["status"] = "done"
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # lazrs panics are BaseExceptions: a tile, not a crash
        record["reason"] = _reason(exc)
        record["file"] = _blamed_file(exc, tile["inputs"])
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    record["seconds"] = round(time.time() - started, 3)
    with contextlib.suppress(OSError):
        (out / STATUS_DIR).mkdir(exist_ok=True)
        _write_json(out / STATUS_DIR / f"{stem}.json", record)
    return record


def _blamed_file(exc: BaseException, inputs: Sequence[str]) -> str:
    path = getattr(exc, "path", None)
    if path is not None:
        return os.fspath(path)
    text = str(exc)
    for p in inputs:
        if p in text or os.path.basename(p) in text:
            return p
    return inputs[0] if len(inputs) == 1 else ", ".join(inputs)


def is_complete(out_dir: Path, kind: str, tile: Tile, params: dict) -> dict | None:
    """The earlier status record of ``tile`` if its output is complete for the same
    inputs (size and date) and parameters, else None."""
    try:
        record = json.loads((out_dir / STATUS_DIR / f"{tile.stem}.json")
                            .read_text(encoding="utf-8"))
        if not (isinstance(record, dict) and record.get("status") == "done"
                and record.get("kind") == kind and record.get("output") == tile.output
                and record.get("params") == _jsonable(params)):
            return None
        out = out_dir / tile.output
        if not out.is_file() or out.stat().st_size != record.get("output_bytes"):
            return None
        if record.get("inputs") != [_input_signature(p) for p in tile.inputs]:
            return None
        return record
    except (OSError, ValueError):
        return None


# --------------------------------------------------------------------------------------
# Dask
# --------------------------------------------------------------------------------------


def local_cluster_options(n_tiles: int, n_workers: int | None = None) -> dict:
    """LocalCluster settings: one single-threaded worker process per core (never more than
    there are tiles), each allowed an equal share of 80 % of the memory; listening on
    127.0.0.1 only, the (optional) dashboard on a free port."""
    import psutil

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    workers = max(1, min(n_workers or cores, max(n_tiles, 1)))
    memory = int(psutil.virtual_memory().total * 0.8 / workers)
    return {"n_workers": workers, "threads_per_worker": 1, "processes": True,
            "memory_limit": memory, "host": "127.0.0.1", "dashboard_address": ":0",
            "silence_logs": logging.ERROR}


@contextlib.contextmanager
def open_client(scheduler: str | None = None, *, n_tiles: int = 1,
                n_workers: int | None = None,
                connect_timeout: float = DEFAULT_CONNECT_TIMEOUT) -> Iterator[Any]:
    """A ``distributed.Client``: on a new LocalCluster when ``scheduler`` is None, else
    connected to ``scheduler`` (``tcp://HOST:PORT``, or the JSON file written by
    ``dask scheduler --scheduler-file``) within ``connect_timeout`` seconds, with at
    least one worker; :class:`BatchError` when it cannot be reached."""
    from distributed import Client, LocalCluster

    if scheduler is None:
        with LocalCluster(**local_cluster_options(n_tiles, n_workers)) as cluster, \
                Client(cluster) as client:
            yield client
        return
    if "://" in scheduler:
        target = {"address": scheduler}
    elif Path(scheduler).is_file():
        target = {"scheduler_file": scheduler}
    else:
        raise BatchError(f"--scheduler {scheduler!r}: give the scheduler's address "
                         "(tcp://HOST:PORT) or its --scheduler-file")
    try:
        client = Client(**target, timeout=connect_timeout)
    except (OSError, TimeoutError, ValueError) as exc:
        raise BatchError(f"cannot reach the Dask scheduler {scheduler} within "
                         f"{connect_timeout:g} s ({' '.join(str(exc).split())[:200]}); "
                         "check the address and that `dask scheduler` runs there") from None
    try:
        try:
            client.wait_for_workers(1, timeout=connect_timeout)
        except (TimeoutError, OSError):
            raise BatchError(f"the Dask scheduler {scheduler} has no workers (waited "
                             f"{connect_timeout:g} s); start some with `dask worker "
                             f"{scheduler}`") from None
        yield client
    finally:
        client.close()


def run_tiles(kind: str, tiles: Sequence[Tile], out_dir: str | os.PathLike, *,
              params: dict | None = None, scheduler: str | None = None,
              n_workers: int | None = None, progress: ProgressFn | None = None,
              connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
              extra: dict | None = None) -> dict:
    """Run ``kind`` ("index" or "compare") on every tile as one Dask task each, skip the
    tiles already complete, write ``OUT_DIR/summary.json`` and return it.
    ``progress(done, total, record)`` is called as each tile finishes (or is skipped)."""
    from distributed import as_completed

    params = _jsonable(params or {})
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / STATUS_DIR).mkdir(exist_ok=True)
    except OSError as exc:
        raise BatchError(f"{out}: cannot create the output folder: "
                         f"{exc.strerror or exc}") from None
    out_real = out.resolve()
    total = len(tiles)
    records: list[dict] = []
    todo: list[Tile] = []
    for tile in tiles:
        earlier = is_complete(out_real, kind, tile, params)
        if earlier is None:
            todo.append(tile)
            continue
        record = dict(earlier, status="skipped", previous_status="done")
        records.append(record)
        if progress:
            progress(len(records), total, record)
    where: dict[str, Any] = {"kind": "local" if scheduler is None else "remote",
                             "address": None}
    started = time.time()
    if todo:
        with open_client(scheduler, n_tiles=len(todo), n_workers=n_workers,
                         connect_timeout=connect_timeout) as client:
            where["address"] = client.scheduler.address
            where["workers"] = len(client.scheduler_info(n_workers=-1)["workers"])
            futures = {}
            for tile in todo:
                job = {"name": tile.name, "inputs": list(tile.inputs), "output": tile.output}
                fut = client.submit(run_tile, kind, job, str(out_real), params,
                                    key=f"realscene-{kind}-{tile.stem}-{uuid.uuid4().hex}",
                                    pure=False)
                futures[fut] = tile
            for fut in as_completed(list(futures)):
                tile = futures.pop(fut)
                try:
                    record = fut.result()
                except (KeyboardInterrupt, SystemExit):
                    raise
                except BaseException as exc:  # the worker died (KilledWorker) or similar
                    record = {"name": tile.name, "status": "failed", "kind": kind,
                              "output": tile.output, "params": params,
                              "file": ", ".join(tile.inputs),
                              "reason": f"the task was lost: {_reason(exc)}"}
                    with contextlib.suppress(OSError):
                        _write_json(out_real / STATUS_DIR / f"{tile.stem}.json", record)
                records.append(record)
                if progress:
                    progress(len(records), total, record)
    records.sort(key=lambda r: r["name"])
    counts = {s: sum(r["status"] == s for r in records) for s in ("done", "skipped", "failed")}
    summary = {"kind": kind, "output_folder": str(out_real), "params": params,
               "scheduler": where, "seconds": round(time.time() - started, 3),
               "tiles_total": total, "counts": counts,
               "failed": [{"name": r["name"], "file": r.get("file"), "reason": r.get("reason")}
                          for r in records if r["status"] == "failed"],
               "tiles": records}
    summary.update(extra or {})
    _write_json(out_real / SUMMARY, summary)
    return summary


# --------------------------------------------------------------------------------------
# the two folder workflows
# --------------------------------------------------------------------------------------


def index_folder(folder: str | os.PathLike, out_dir: str | os.PathLike | None = None, *,
                 scheduler: str | None = None, n_workers: int | None = None,
                 progress: ProgressFn | None = None,
                 connect_timeout: float = DEFAULT_CONNECT_TIMEOUT) -> dict:
    """Write a COPC copy ``OUT_DIR/NAME.copc.laz`` of every LAS/LAZ tile in ``folder``
    (``out_dir`` None: next to the tiles, where the viewer finds them); files already
    named ``.copc.laz`` are passed over. Returns the summary (see :func:`run_tiles`)."""
    listing = list_tiles(folder, take_copc=False)
    out = Path(out_dir) if out_dir is not None else Path(folder)
    tiles = [Tile(name, (str(path),), f"{safe_stem(name)}.copc.laz")
             for name, path in sorted(listing.tiles.items())]
    return run_tiles("index", tiles, out, scheduler=scheduler, n_workers=n_workers,
                     progress=progress, connect_timeout=connect_timeout,
                     extra={"input_folder": str(Path(folder).resolve()),
                            "refused": [{"file": f, "reason": r} for f, r in listing.refused],
                            "ignored": [{"file": f, "why": r} for f, r in listing.ignored]})


def compare_folders(dir_a: str | os.PathLike, dir_b: str | os.PathLike,
                    out_dir: str | os.PathLike, *, method: str = "c2c",
                    options: dict | None = None, scheduler: str | None = None,
                    n_workers: int | None = None, progress: ProgressFn | None = None,
                    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT) -> dict:
    """Compare every tile of epoch B (``dir_b``) with the tile of the same name in epoch A
    (``dir_a``) with :func:`heritage.monitoring.change.compare_files`, writing
    ``OUT_DIR/NAME.laz`` (B with the distances). Unpaired tiles are listed in the
    summary. Returns the summary (see :func:`run_tiles`)."""
    out = Path(out_dir)
    pairing = pair_tiles(dir_a, dir_b)
    if out.exists():
        real = out.resolve()
        for d in (dir_a, dir_b):
            if Path(d).resolve() == real:
                raise BatchError(f"{out}: the output folder is an input folder; choose "
                                 "another one")
    tiles = [Tile(name, (str(a), str(b)), f"{safe_stem(name)}.laz")
             for name, a, b in pairing.pairs]
    params = {"method": method, **(options or {})}
    return run_tiles("compare", tiles, out, params=params, scheduler=scheduler,
                     n_workers=n_workers, progress=progress,
                     connect_timeout=connect_timeout,
                     extra={"folder_a": str(Path(dir_a).resolve()),
                            "folder_b": str(Path(dir_b).resolve()),
                            "only_in_a": pairing.only_a, "only_in_b": pairing.only_b,
                            "refused": [{"file": f, "reason": r}
                                        for f, r in pairing.refused],
                            "ignored": [{"file": f, "why": r} for f, r in pairing.ignored]})


__all__ = ["BatchError", "Listing", "Pairing", "Tile", "compare_folders", "index_folder",
           "is_complete", "list_tiles", "local_cluster_options", "open_client",
           "pair_tiles", "run_tile", "run_tiles", "safe_stem", "tile_key"]
