"""Service calls a dialog makes, run off the GUI thread and answered on it.

A presenter hands a service call (a plain callable) to ``ServiceCalls``; it runs on the
shared ``JobRunner`` and its result, or the ``DomainError`` a rule raised, comes back on the
GUI thread. A database in trouble (``DatabaseUnavailable``: another workstation writing for
too long, a read-only or full disk, a damaged file) comes back as a ``DomainError`` with its
own sentence; an unexpected exception becomes a ``DomainError`` that says so in the clinic's
words (the details go to the log), so a view has only one kind of failure to show. When the
dialog closes, ``cancel()`` drops answers still on their way: a call already running cannot
be stopped, but nothing is delivered to a dialog that is gone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from console.models.database_trouble import DatabaseUnavailable
from console.services.errors import DomainError

log = logging.getLogger(__name__)

_Result = TypeVar("_Result")


class Submitter(Protocol):
    """What runs the work (``console.workers.job_runner.JobRunner``, or a test's stand-in)."""

    def submit(
        self,
        work: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[Exception], None],
    ) -> None:
        """Run ``work`` elsewhere; then ``on_done(result)`` or ``on_error(exception)``."""
        ...


class ServiceCalls:
    """The service calls of one dialog: run on ``runner``, counted while under way, and
    dropped, answers included, once the dialog is done with them."""

    def __init__(self, runner: Submitter) -> None:
        self._runner = runner
        self._under_way = 0
        self._generation = 0

    @property
    def busy(self) -> bool:
        """Whether a call is under way (its answer not yet delivered)."""
        return self._under_way > 0

    def run(
        self,
        what: str,
        work: Callable[[], _Result],
        on_done: Callable[[_Result], None],
        on_refused: Callable[[DomainError], None],
    ) -> None:
        """Run ``work`` on the runner; then ``on_done(result)``, or ``on_refused(error)``
        for a refusal. ``what`` names the call in the clinic's words ("Saving the
        settings") for the message about an unexpected failure."""
        generation = self._generation
        self._under_way += 1

        def done(result: Any) -> None:
            if self._settle(generation):
                on_done(result)

        def failed(error: Exception) -> None:
            if not self._settle(generation):
                return
            if isinstance(error, DomainError):
                on_refused(error)
                return
            if isinstance(error, DatabaseUnavailable):
                # A database in trouble (busy, read-only, full, damaged) already says so in
                # the clinic's words, and that nothing was written.
                log.warning("%s: %s", what, type(error).__name__)
                on_refused(DomainError(str(error)))
                return
            # The type only: a database error's text may quote what was typed.
            log.error("%s failed unexpectedly: %s", what, type(error).__name__)
            on_refused(
                DomainError(
                    f"{what} failed unexpectedly ({type(error).__name__}); nothing is shown "
                    "as changed. Try again, and if it keeps failing, give the console's log "
                    "to whoever supports it."
                )
            )

        self._runner.submit(work, done, failed)

    def cancel(self) -> None:
        """Deliver nothing more: answers to calls made so far are dropped."""
        self._generation += 1
        self._under_way = 0

    def _settle(self, generation: int) -> bool:
        if generation != self._generation:
            return False
        self._under_way -= 1
        return True


__all__ = ["ServiceCalls", "Submitter"]
