"""Running plain-Python work off the GUI thread and handing the answer back to it.

Adapters submit a callable (a query, usually) and two callbacks. The callable runs on a small
private thread pool; its result or exception comes back through a queued signal, so the
callbacks always run on the thread that owns the runner (the GUI thread). ``close()`` waits for
running work, so neither a test nor the application leaves a thread behind.
"""

from __future__ import annotations

import itertools
import logging
import weakref
from collections.abc import Callable
from typing import Any, TypeAlias

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

#: Every runner not yet closed; the test suite's leak check reads it through ``open_runners``.
_OPEN_RUNNERS: weakref.WeakSet[JobRunner] = weakref.WeakSet()

Work: TypeAlias = Callable[[], Any]
OnDone: TypeAlias = Callable[[Any], None]
OnError: TypeAlias = Callable[[Exception], None]


class _Job(QRunnable):
    """One callable run on a pool thread; it reports through its runner's signal."""

    def __init__(self, runner: JobRunner, job_id: int, work: Work) -> None:
        super().__init__()
        self._runner = runner
        self._job_id = job_id
        self._work = work

    def run(self) -> None:
        try:
            result = self._work()
        except Exception as error:  # every failure goes back to the GUI thread, none is lost
            self._runner.job_finished.emit(self._job_id, None, error)
        else:
            self._runner.job_finished.emit(self._job_id, result, None)


class JobRunner(QObject):
    """A private thread pool whose results are delivered on the runner's own thread."""

    #: (job id, result, error) — emitted on a pool thread, received on the runner's thread.
    job_finished = Signal(int, object, object)

    def __init__(self, max_threads: int = 2, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._ids = itertools.count(1)
        self._callbacks: dict[int, tuple[OnDone, OnError]] = {}
        self._closed = False
        self.job_finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        _OPEN_RUNNERS.add(self)

    @property
    def pending_jobs(self) -> int:
        """Jobs submitted whose answer has not been delivered yet."""
        return len(self._callbacks)

    @property
    def active_threads(self) -> int:
        """Pool threads running a job right now."""
        return self._pool.activeThreadCount()

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called; a closed runner accepts no more work."""
        return self._closed

    def submit(self, work: Work, on_done: OnDone, on_error: OnError) -> None:
        """Run ``work`` on the pool; then ``on_done(result)`` or ``on_error(exception)``
        on this runner's thread. Nothing is called after ``close()``."""
        if self._closed:
            return
        job_id = next(self._ids)
        self._callbacks[job_id] = (on_done, on_error)
        self._pool.start(_Job(self, job_id, work))

    def close(self, *, finish_queued: bool = False) -> None:
        """Drop queued work (or, with ``finish_queued``, run it too), wait for running work,
        and deliver nothing more."""
        if self._closed:
            return
        self._closed = True
        if not finish_queued:
            self._pool.clear()
        self._pool.waitForDone()
        self._callbacks.clear()
        _OPEN_RUNNERS.discard(self)

    @Slot(int, object, object)
    def _deliver(self, job_id: int, result: object, error: object) -> None:
        callbacks = self._callbacks.pop(job_id, None)
        if callbacks is None:  # closed meanwhile
            return
        on_done, on_error = callbacks
        if isinstance(error, Exception):
            on_error(error)
        else:
            on_done(result)


def open_runners() -> list[JobRunner]:
    """Runners created and not closed yet (a finished test or application should have none)."""
    return list(_OPEN_RUNNERS)
