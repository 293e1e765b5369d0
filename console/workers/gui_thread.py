"""Values a worker hands to the GUI thread while it runs (an import's progress after each
batch): the worker calls a plain callable; the value arrives on the GUI thread through a
queued signal, in order, and the worker never waits for it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot


class GuiThreadCall(QObject):
    """A callable that any thread may call with one value: ``receiver`` gets each value on
    the thread that made this object (the GUI thread).

    It has no Qt parent on purpose: whoever calls it (a worker, through the presenter that
    holds it) keeps it alive, so a worker still running after its dialog was closed and
    deleted never calls a deleted object."""

    _arrived = Signal(object)

    def __init__(self, receiver: Callable[[Any], None]) -> None:
        super().__init__()
        self._receiver = receiver
        self._arrived.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def __call__(self, value: Any) -> None:
        """Hand ``value`` to the receiver on its thread (from any thread, never waiting)."""
        self._arrived.emit(value)

    @Slot(object)
    def _deliver(self, value: Any) -> None:
        self._receiver(value)


def on_gui_thread(receiver: Callable[[Any], None]) -> Callable[[Any], None]:
    """``receiver``, callable from any thread: each value reaches it on this thread."""
    return GuiThreadCall(receiver)


__all__ = ["GuiThreadCall", "on_gui_thread"]
