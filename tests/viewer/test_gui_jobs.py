"""viewer.qt.jobs: the one background job of the window's tools (Compare, Scan vs model,
Clip export, Exhibit export, ICP) and its wiring into the window's progress bar."""

from __future__ import annotations

import threading

import pytest

from loaders import LoadCancelled, LoadError


class Cancelled(Exception):
    pass


def _job(work, **kw):
    from viewer.qt.jobs import WindowJob

    return WindowJob(work, kw.pop("label", "Working…"), (Cancelled,), path="x.laz", **kw)


def _run(qtbot, job):
    ends = []
    job.finished.connect(lambda j, r: ends.append(("finished", r)))
    job.failed.connect(lambda j, m: ends.append(("failed", m)))
    job.cancelled.connect(lambda j: ends.append(("cancelled",)))
    job.start()
    qtbot.waitUntil(lambda: bool(ends), timeout=10_000)
    assert job.done
    return ends[0]


def test_each_end_of_the_work_is_one_signal(qtbot, capsys):
    def fail(exc):
        def work(progress, cancel):
            raise exc
        return work

    assert _run(qtbot, _job(lambda p, c: 42)) == ("finished", 42)
    assert _run(qtbot, _job(fail(Cancelled()))) == ("cancelled",)
    error = LoadError("a.laz", "not a LAS file", "export it again")
    assert _run(qtbot, _job(fail(error))) == ("failed", error.message)
    assert _run(qtbot, _job(fail(ValueError("choose two epochs")))) == \
        ("failed", "choose two epochs")
    # anything else: one line "Type: message", the traceback printed, the worker ends
    assert _run(qtbot, _job(fail(ZeroDivisionError("boom")))) == \
        ("failed", "ZeroDivisionError: boom")
    assert "Traceback" in capsys.readouterr().err
    # the errors shown as they are can be chosen (ICP: ValueError, MemoryError)
    job = _job(fail(OSError("disk full")), errors=(ValueError,))
    assert _run(qtbot, job) == ("failed", "OSError: disk full")


def test_cancel_reaches_the_work_and_progress_can_raise(qtbot):
    started = threading.Event()

    def work(progress, cancel):
        started.set()
        while not cancel():
            threading.Event().wait(0.01)
        raise Cancelled()

    job = _job(work)
    ends = []
    job.cancelled.connect(lambda j: ends.append("cancelled"))
    job.start()
    assert started.wait(10)
    job.cancel()
    qtbot.waitUntil(lambda: ends == ["cancelled"], timeout=10_000)
    assert job.is_cancelled and job.result is None

    # a core that only takes progress: progress raises the cancelled exception
    def icp(progress, cancel):
        progress(0.1, "")
        started.wait(10)
        progress(0.2, "")
        return "moved"

    started.clear()
    job = _job(icp, raise_on_cancel=lambda: LoadCancelled("ICP"))
    job.cancelled_types = (LoadCancelled,)
    job.cancel()
    started.set()
    assert _run(qtbot, job) == ("cancelled",)


def test_start_in_window_shows_and_ends_the_job(window, qtbot):
    from viewer.qt.jobs import WindowJob, start_in_window, tools_menu

    go = threading.Event()

    def work(progress, cancel):
        progress(0.5, "half")
        go.wait(10)
        if cancel():
            raise Cancelled()
        return "done"

    calls = []
    job = WindowJob(work, lambda: "Measuring x…", (Cancelled,), path="x.laz")
    start_in_window(window, job,
                    progress_text=lambda j, f, m: f"Measuring: {m} {f:.0%}",
                    finished=lambda j, r: calls.append(("finished", r, list(window.jobs))),
                    failed=lambda j, m: calls.append(("failed", m)),
                    cancelled=lambda j: "Measuring cancelled")
    assert job in window.jobs and window.progress.isVisible()
    qtbot.waitUntil(lambda: job.last_fraction == 0.5, timeout=10_000)
    assert window.statusBar().currentMessage() == "Measuring: half 50%"
    assert "Measuring x…" in window.progress.format()
    go.set()
    qtbot.waitUntil(lambda: bool(calls), timeout=10_000)
    # the window forgot the job before the tool's handler ran
    assert calls == [("finished", "done", [])] and not window.progress.isVisible()

    go.clear()
    job = WindowJob(work, "Measuring y…", (Cancelled,), path="y.laz")
    start_in_window(window, job, progress_text=lambda j, f, m: None,
                    finished=lambda j, r: calls.append(("finished", r)),
                    failed=lambda j, m: calls.append(("failed", m)),
                    cancelled=lambda j: "Measuring cancelled", cancelled_ms=8000)
    window.cancel_loads()  # the progress bar's Cancel
    go.set()
    qtbot.waitUntil(lambda: not window.jobs, timeout=10_000)
    assert window.statusBar().currentMessage() == "Measuring cancelled"
    assert len(calls) == 1

    # one Tools menu, however many tools ask for it
    assert tools_menu(window) is tools_menu(window)
    assert tools_menu(window).objectName() == "toolsMenu"


@pytest.mark.parametrize("module, name", [
    ("viewer.qt.compare_dialog", "CompareJob"), ("viewer.qt.deviation_dialog", "DeviationJob"),
    ("viewer.qt.clip_panel", "ClipExportJob"), ("viewer.qt.exhibit_dialog", "ExhibitJob"),
    ("viewer.qt.alignment", "IcpJob")])
def test_the_tools_jobs_are_window_jobs(module, name):
    import importlib

    from viewer.qt.jobs import WindowJob

    assert issubclass(getattr(importlib.import_module(module), name), WindowJob)
