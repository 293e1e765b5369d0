"""``on_gui_thread``: values handed over by a worker thread arrive on the GUI thread, in
order, without the worker waiting for them."""

from __future__ import annotations

import threading

from PySide6.QtCore import QThread
from pytestqt.qtbot import QtBot

from console.workers.gui_thread import on_gui_thread


def test_values_from_a_worker_arrive_on_the_gui_thread_in_order(qtbot: QtBot) -> None:
    gui = QThread.currentThread()
    arrived: list[tuple[int, bool]] = []
    hand_over = on_gui_thread(lambda n: arrived.append((n, QThread.currentThread() is gui)))

    worker = threading.Thread(target=lambda: [hand_over(n) for n in range(1, 51)])
    worker.start()
    worker.join(5)  # the worker never waits for the GUI thread
    assert not worker.is_alive() and arrived == []
    qtbot.waitUntil(lambda: len(arrived) == 50, timeout=5000)
    assert arrived == [(n, True) for n in range(1, 51)]


def test_it_outlives_whatever_made_it(qtbot: QtBot) -> None:
    """No Qt parent: a worker still running after its dialog was deleted calls it safely."""
    got: list[int] = []
    hand_over = on_gui_thread(got.append)
    assert hand_over.parent() is None  # type: ignore[attr-defined]
    done = threading.Event()
    threading.Thread(target=lambda: (hand_over(7), done.set())).start()
    assert done.wait(5)
    qtbot.waitUntil(lambda: got == [7], timeout=5000)
