"""What every work-area list page decides, without Qt: when it is busy, what its figures and
its message line say, and how a read or an action travels to a worker and back.

A page's presenter (``InvitationsPresenter``, ``OutboxPresenter``, ``WorklistPresenter``)
builds on ``ListPresenter``: reads and writes go apart through two ``ServiceCalls`` (a
newer read drops the answer of an older one, never a write), the busy strip shows while
either is under way, and the page's widget (``ListScreen``: a ``ListPage``, or a test's
stand-in) is told what to show. Nothing here imports Qt, so that a test drives a page's
decisions with plain pytest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from console.services.errors import DomainError
from console.workers.service_calls import ServiceCalls, Submitter

_Result = TypeVar("_Result")


def showing_text(shown: int, total: int, thing: str, things: str, none: str) -> str:
    """ "Showing 500 of 12,345 invitations"; ``none`` when there is nothing to show."""
    if total == 0:
        return none
    return f"Showing {shown:,} of {total:,} {thing if total == 1 else things}"


def count_text(n: int, thing: str, things: str) -> str:
    """ "1 account", "1,204 accounts"."""
    return f"{n:,} {thing if n == 1 else things}"


class ListScreen(Protocol):
    """What a list page's presenter tells its widget, whatever the page."""

    def show_busy(self, busy: bool) -> None:
        """Show or hide the busy strip."""
        ...

    def show_figures(self, text: str, *, problem: bool = False) -> None:
        """Show the page's figures ("Showing 12 of 12 e-mails"; "" for none), or with
        ``problem`` why they could not be read."""
        ...

    def show_message(self, text: str, *, done: bool) -> None:
        """Show a refusal (``done`` False) or what an action did (True); "" clears it."""
        ...


class ListPresenter:
    """Reads and writes of one list page, its busy state and its message line."""

    def __init__(self, screen: ListScreen, runner: Submitter) -> None:
        self._screen = screen
        # Reads and writes apart: a new read drops the older one, never a write.
        self._reads = ServiceCalls(runner)
        self._writes = ServiceCalls(runner)
        self._message = ""

    @property
    def busy(self) -> bool:
        """Whether a read or an action is under way."""
        return self._reads.busy or self._writes.busy

    @property
    def writing(self) -> bool:
        """Whether an action is under way (the actions wait for it)."""
        return self._writes.busy

    @property
    def message(self) -> str:
        """The last refusal or confirmation shown beside the actions."""
        return self._message

    def clear(self) -> None:
        """Drop every answer on its way and the message (the lock screen)."""
        self._reads.cancel()
        self._writes.cancel()
        self._screen.show_busy(False)
        self._screen.show_figures("")
        self.say("")

    def say(self, text: str, *, done: bool = False) -> None:
        """Show ``text`` on the message line: a refusal, or what an action did."""
        self._message = text
        self._screen.show_message(text, done=done)

    def _read(
        self,
        what: str,
        work: Callable[[], _Result],
        on_done: Callable[[_Result], None],
        on_refused: Callable[[DomainError], None] | None = None,
        *,
        loading: str | None = None,
        drop_older: bool = True,
    ) -> None:
        """Read in the worker; the figures say ``loading`` meanwhile when given. An older
        read still on its way is dropped, unless ``drop_older`` is False (a read of a part
        must not drop the read of the whole)."""
        if drop_older:
            self._reads.cancel()
        if loading is not None:
            self._screen.show_figures(loading)
        self._screen.show_busy(True)
        self._reads.run(what, work, on_done, on_refused or self._read_refused)

    def _write(
        self,
        what: str,
        work: Callable[[], _Result],
        on_done: Callable[[_Result], None],
        on_refused: Callable[[DomainError], None],
    ) -> None:
        """Run an action in the worker (never dropped by a read)."""
        self._screen.show_busy(True)
        self._writes.run(what, work, on_done, on_refused)

    def _settled(self) -> None:
        """An answer arrived: the busy strip goes once nothing else is on its way."""
        if not self.busy:
            self._screen.show_busy(False)

    def _read_refused(self, error: DomainError) -> None:
        self._settled()
        self._screen.show_figures("")
        self.say(str(error))


__all__ = ["ListPresenter", "ListScreen", "count_text", "showing_text"]
