"""The outbox relay inside the console (issue 7): queued e-mails are sent in the background
while staff work, every half minute and soon after an action queued one.

The relay has its own one-thread ``JobRunner``, so a slow or silent mail server never makes
the GUI's reads wait behind it, and one run can never overlap another. A run first counts
the messages due (one small query) and stops there when there are none; otherwise it builds
the transport, sends everything due through ``send_due`` and closes the transport. ``ran``
reports every run, ``problem`` a run that could not send at all (no mail server set, no
password in the keyring, the database unreachable), in the clinic's words.

``stop()`` (sign-out, lock, quit) takes no new run, lets a run under way finish the message
it is sending and then stop, waits for that, and delivers nothing more; ``start()`` again
carries on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from console.services.errors import DomainError
from console.services.mail.relay import RelayPolicy, RelayReport, due_count, send_due
from console.services.mail.templates import Branding
from console.services.mail.transport import DeliveryFailure, Transport
from console.services.workstation import Workstation
from console.workers.job_runner import JobRunner

log = logging.getLogger(__name__)

#: How often the relay looks for due e-mails while the console is open.
RELAY_INTERVAL_MS = 30_000


class _Stopped(Exception):
    """Raised between two messages when the relay is stopping."""


def problem_text(error: Exception) -> str:
    """What staff read when a run could not send: the reason, and that nothing is lost."""
    if isinstance(error, DomainError | DeliveryFailure):
        reason = str(error).rstrip(". ")
    else:
        # The type only: a database error's text may quote an address.
        log.error("The e-mail relay failed unexpectedly: %s", type(error).__name__)
        reason = f"the console met an unexpected error ({type(error).__name__})"
    return f"E-mail could not be sent: {reason}. Messages wait in the outbox and are tried again."


class MailRelay(QObject):
    """Sends the outbox's due e-mails in the background, one run at a time.

    ``make_transport`` builds the transport for one run (it may raise a ``DomainError``,
    e.g. when no mail server is set); ``branding`` is the clinic's, or a callable that reads
    it from the current settings at each run. Both are called off the GUI thread, and only
    when something is due."""

    #: A run finished (``RelayReport``; all zero when nothing was due).
    ran = Signal(object)
    #: A run could not send: the sentence to show.
    problem = Signal(str)

    def __init__(
        self,
        workstation: Workstation,
        make_transport: Callable[[], Transport],
        branding: Branding | Callable[[], Branding],
        *,
        policy: RelayPolicy | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._workstation = workstation
        self._make_transport = make_transport
        self._branding = branding
        self._policy = policy
        self._runner: JobRunner | None = None
        self._stopping = threading.Event()
        self._running = False
        self._again = False
        self._period = QTimer(self)
        self._period.timeout.connect(self._run_if_idle)
        # wake() several times in a row is one run, once control is back in the event loop.
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(0)
        self._soon.timeout.connect(self._run_if_idle)

    @property
    def started(self) -> bool:
        """Whether the relay is running (between ``start()`` and ``stop()``)."""
        return self._runner is not None

    @property
    def running(self) -> bool:
        """Whether a run is under way."""
        return self._running

    def start(self, interval_ms: int = RELAY_INTERVAL_MS) -> None:
        """Look for due e-mails every ``interval_ms``, and once now."""
        if self._runner is None:
            self._runner = JobRunner(max_threads=1, parent=self)
            self._stopping = threading.Event()
        self._period.start(interval_ms)
        self.wake()

    @Slot()
    def wake(self) -> None:
        """Run soon (an action queued an e-mail, or staff pressed Send now); when a run is
        under way, run once more after it. Nothing while stopped."""
        if self._runner is None:
            return
        if self._running:
            self._again = True
        else:
            self._soon.start()

    def stop(self) -> None:
        """Take no new run; let a run under way finish its current message and wait for it;
        deliver nothing more."""
        self._period.stop()
        self._soon.stop()
        runner, self._runner = self._runner, None
        self._running = self._again = False
        if runner is None:
            return
        self._stopping.set()
        runner.close()
        runner.deleteLater()

    # --- internals -----------------------------------------------------------------------

    @Slot()
    def _run_if_idle(self) -> None:
        if self._runner is None or self._running:
            return
        self._running = True
        self._runner.submit(partial(self._send, self._stopping), self._done, self._failed)

    def _send(self, stopping: threading.Event) -> RelayReport:
        """One run, on the relay's own thread."""
        if due_count(self._workstation) == 0:
            return RelayReport()
        branding = self._branding if isinstance(self._branding, Branding) else self._branding()

        def between_messages(_done: int, _total: int) -> None:
            if stopping.is_set():
                raise _Stopped

        with self._make_transport() as transport:
            return send_due(
                self._workstation,
                transport,
                branding,
                policy=self._policy,
                progress=between_messages,
            )

    def _done(self, report: RelayReport) -> None:
        self._finished()
        self.ran.emit(report)

    def _failed(self, error: Exception) -> None:
        self._finished()
        self.problem.emit(problem_text(error))

    def _finished(self) -> None:
        self._running = False
        if self._again:
            self._again = False
            self._soon.start()


__all__ = ["RELAY_INTERVAL_MS", "MailRelay", "problem_text"]
