"""The one door through which what changed reaches every open page (issue 12, point 5).

As with Anki's ``operation_did_execute`` hook: whoever learns of a change publishes its
``Changes`` here — a dialog whose action finished, a page's own action, and later whatever
hears of changes made on another workstation — and every page connected to ``published``
decides from it what, if anything, to read again. No page refreshes another one directly, and
no publisher needs to know which pages are open.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from console.services.workstation import Changes


class ChangeFeed(QObject):
    """Hands every published ``Changes`` to each page connected to ``published``, in the
    order they connected, on the GUI thread."""

    #: ``Changes``: what an action, here or elsewhere, changed.
    published = Signal(object)

    def publish(self, changes: Changes) -> None:
        """Tell every page what ``changes`` names (each reads again only what concerns it)."""
        self.published.emit(changes)


__all__ = ["ChangeFeed"]
