"""A test that leaves Qt work running fails (as in napari): a QTimer still active, a QThread
still running, a thread pool still running a job, or a ``JobRunner`` not closed.

Left running, such work fires in a later test (a timer's slot on a database already deleted,
a worker's answer to a model already gone): the failure then shows up far from its cause, or
not at all until a run crashes. The check runs when the test's own fixtures are torn down,
after pytest-qt has closed the widgets given to ``qtbot.addWidget`` and their deferred
deletions have been carried out; whatever is still running then was started by the test (or
by what it built) and never stopped. The check stops it, so one leak fails one test only.
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QThread, QThreadPool, QTimer
from PySide6.QtWidgets import QApplication

from console.workers import job_runner, service_calls
from console.workers.job_runner import open_runners

#: Modules that only pass work on: a leak is reported where their caller made it.
_PASSING_ON = {job_runner.__file__, service_calls.__file__}


def _where(depth: int) -> str:
    """Where a leak was made: the file and line ``depth`` frames up, or above it if that
    is only the job runner passing the work on."""
    frame = sys._getframe(depth + 1)
    while frame.f_back is not None and frame.f_code.co_filename in _PASSING_ON:
        frame = frame.f_back
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _alive(thing: QObject | None) -> bool:
    return thing is not None and shiboken6.isValid(thing)


def _describe(thing: QObject) -> str:
    parent = thing.parent()
    owner = f" in {type(parent).__name__}" if parent is not None else " (no parent)"
    name = f" {thing.objectName()!r}" if thing.objectName() else ""
    return f"{type(thing).__name__}{name}{owner}"


@dataclass
class QtWorkWatch:
    """The timers, threads and pools made while it is installed.

    It keeps weak references only: a timer or thread nobody holds any more is deleted by
    Python (and so stopped), and must not be kept alive, and reported, by the watch itself.
    """

    _timers: list[tuple[weakref.ref[QTimer], str]] = field(default_factory=list)
    _threads: list[tuple[weakref.ref[QThread], str]] = field(default_factory=list)
    _pools: list[tuple[weakref.ref[QThreadPool], str]] = field(default_factory=list)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Note every QTimer, QThread and QThreadPool made from Python from now on (until
        ``monkeypatch`` is undone). Noting where they are made, not where they are started,
        also catches a timer started by a signal connected to its ``start`` slot."""
        self._note_made(monkeypatch, QTimer, self._timers)
        self._note_made(monkeypatch, QThread, self._threads)
        self._note_made(monkeypatch, QThreadPool, self._pools)

    @staticmethod
    def _note_made(
        monkeypatch: pytest.MonkeyPatch, cls: type[Any], made: list[tuple[weakref.ref[Any], str]]
    ) -> None:
        original: Callable[..., None] = cls.__init__

        def noting(self: QObject, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            made.append((weakref.ref(self), _where(1)))

        monkeypatch.setattr(cls, "__init__", noting)

    def still_running(self) -> list[str]:
        """What is still running, each with where it was made."""
        leaks: list[str] = []
        for timer, where in _still_alive(self._timers):
            if timer.isActive():
                leaks.append(f"active {_describe(timer)}, made at {where}")
        for thread, where in _still_alive(self._threads):
            if thread.isRunning():
                leaks.append(f"running {_describe(thread)}, made at {where}")
        for pool, where in _still_alive(self._pools):
            if pool.activeThreadCount():
                leaks.append(
                    f"{_describe(pool)} running {pool.activeThreadCount()} job(s), made at {where}"
                )
        if busy := QThreadPool.globalInstance().activeThreadCount():
            leaks.append(f"Qt's global QThreadPool running {busy} job(s)")
        leaks.extend(
            f"{_describe(runner)} not closed (close() it, or the view that owns it)"
            for runner in open_runners()
            if _alive(runner)
        )
        return leaks

    def stop_all(self) -> None:
        """Stop whatever still runs, so that a leak fails the test that made it only."""
        for runner in open_runners():
            if _alive(runner):
                runner.close()
        for timer, _ in _still_alive(self._timers):
            timer.stop()
        for thread, _ in _still_alive(self._threads):
            thread.quit()
            thread.wait(5000)
        for pool, _ in _still_alive(self._pools):
            pool.clear()
            pool.waitForDone(5000)
        QThreadPool.globalInstance().clear()
        QThreadPool.globalInstance().waitForDone(5000)


def _still_alive(noted: list[tuple[weakref.ref[Any], str]]) -> list[tuple[Any, str]]:
    """The objects noted that are still alive, with where each was made."""
    alive = ((ref(), where) for ref, where in noted)
    return [(thing, where) for thing, where in alive if _alive(thing)]


def delete_closed_widgets() -> None:
    """Carry out the ``deleteLater()`` calls made so far (pytest-qt's, on closing the test's
    widgets): outside a running event loop, Qt would only do that on the next one."""
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture(autouse=True)
def no_qt_work_left_running(qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail a test that leaves a QTimer active, a QThread or pool job running, or a
    ``JobRunner`` open once its widgets are closed and deleted."""
    watch = QtWorkWatch()
    watch.install(monkeypatch)
    yield
    delete_closed_widgets()
    leaks = watch.still_running()
    watch.stop_all()
    if leaks:
        pytest.fail(
            "Qt work left running when the test ended:\n  " + "\n  ".join(leaks),
            pytrace=False,
        )
