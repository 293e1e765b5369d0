"""The leak check of the Qt tests (tests/qt_leaks.py) itself: it reports a timer, a thread or a
worker left running, stops it, and says nothing about one that was stopped or deleted; and a
test that leaves one running fails."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QThread, QThreadPool, QTimer
from PySide6.QtWidgets import QApplication

from console.workers.job_runner import JobRunner
from tests.qt_leaks import QtWorkWatch, delete_closed_widgets

HERE = Path(__file__).name
A_MINUTE_MS = 60_000


@pytest.fixture
def watch(qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> Iterator[QtWorkWatch]:
    """A watch over this test only; whatever the test leaves is stopped after it."""
    watching = QtWorkWatch()
    watching.install(monkeypatch)
    yield watching
    watching.stop_all()


def test_an_active_timer_is_reported_with_where_it_was_made_then_stopped(
    watch: QtWorkWatch,
) -> None:
    timer = QTimer()
    timer.start(A_MINUTE_MS)

    leaks = watch.still_running()

    assert len(leaks) == 1
    assert leaks[0].startswith("active QTimer (no parent), made at ")
    assert HERE in leaks[0]
    watch.stop_all()
    assert not timer.isActive()
    assert watch.still_running() == []


def test_a_timer_started_through_a_signal_is_reported(watch: QtWorkWatch) -> None:
    owner = QObject()
    timer = QTimer(owner)
    timer.setInterval(A_MINUTE_MS)
    owner.objectNameChanged.connect(timer.start)
    owner.setObjectName("search box")

    assert watch.still_running() == [
        f"active QTimer in QObject, made at {__file__}:{_line_of('timer = QTimer(owner)')}"
    ]


def test_a_running_thread_is_reported_then_stopped(watch: QtWorkWatch) -> None:
    thread = QThread()
    thread.setObjectName("importer")
    thread.start()  # its own event loop: runs until quit()

    leaks = watch.still_running()

    assert len(leaks) == 1 and leaks[0].startswith("running QThread 'importer' (no parent)")
    watch.stop_all()
    assert thread.isFinished()


def test_a_job_runner_left_open_with_a_job_running_is_reported_then_closed(
    watch: QtWorkWatch,
) -> None:
    release = threading.Event()
    runner = JobRunner()
    runner.submit(lambda: release.wait(5), lambda _: None, lambda _: None)
    QThreadPool.globalInstance().start(lambda: release.wait(5))

    leaks = watch.still_running()

    release.set()
    watch.stop_all()
    assert [leak.split(", made at")[0] for leak in leaks] == [
        "QThreadPool in JobRunner running 1 job(s)",
        "Qt's global QThreadPool running 1 job(s)",
        "JobRunner (no parent) not closed (close() it, or the view that owns it)",
    ]
    assert runner.closed
    assert watch.still_running() == []


def test_work_stopped_closed_or_deleted_is_not_reported(watch: QtWorkWatch) -> None:
    stopped = QTimer()
    stopped.start(A_MINUTE_MS)
    stopped.stop()
    dropped = QTimer()
    dropped.start(A_MINUTE_MS)
    del dropped  # Python owned it: deleted, so stopped
    owner = QObject()
    QTimer(owner).start(A_MINUTE_MS)
    owner.deleteLater()
    delete_closed_widgets()
    runner = JobRunner()
    runner.submit(lambda: 1, lambda _: None, lambda _: None)
    runner.close(finish_queued=True)

    assert watch.still_running() == []


LEAKY_TESTS = """
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot
from PySide6.QtWidgets import QWidget

from tests.qt_leaks import no_qt_work_left_running  # noqa: F401 - autouse

kept = []


def test_leaves_a_timer_running():
    timer = QTimer()
    timer.start(60_000)
    kept.append(timer)


def test_closes_its_widget(qtbot: QtBot):
    widget = QWidget()
    qtbot.addWidget(widget)
    QTimer(widget).start(60_000)  # deleted with the widget when the test ends
"""


def test_a_test_leaving_a_timer_running_fails(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_leaky=LEAKY_TESTS)
    root = str(Path(__file__).resolve().parents[1])
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    )

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-o", "qt_api=pyside6")

    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_leaves_a_timer_running*",
            "Qt work left running when the test ended:",
            "  active QTimer (no parent), made at *test_leaky.py:*",
        ]
    )


def _line_of(text: str) -> int:
    """The line of this file that holds ``text`` (so that the test survives edits above)."""
    lines = Path(__file__).read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if line.strip() == text)
