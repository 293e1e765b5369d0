"""What the Outbox page decides, without Qt: the footer's figures, whether e-mail is set up
and what the relay did last, which of Retry and Cancel the selected e-mail allows and why
not, and what is said after each action.

``OutboxPresenter`` reads a page with ``list_outbox`` in the worker for the state its screen
(``OutboxScreen``: the ``OutboxView``, or a test's stand-in) reports. **Send now** asks the
window's relay to run; **Retry** queues a failed e-mail again and **Cancel e-mail** stops a
queued or failed one, each with the version read and shown in place at once. A refusal or a
row changed meanwhile (the relay may have just sent it) is said and the page read again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from console.models.outbox_list import OutboxPage, OutboxRow
from console.models.states import OutboxState
from console.services.desk import StaffDesk
from console.services.errors import DomainError, StaleRecord
from console.services.mail.outbox_list import list_outbox
from console.services.mail.relay import RelayReport, cancel_message, retry_message
from console.services.permissions import Permission, refusal
from console.services.settings.values import ConsoleSettings
from console.services.workstation import Changes
from console.views.list_presenter import ListPresenter, ListScreen, showing_text
from console.workers.service_calls import Submitter

LOADING_TEXT = "Loading the outbox…"
NONE_MATCH = "No e-mails to show"
SEND_NOW_TEXT = "Send now"
RETRY_TEXT = "Retry"
CANCEL_TEXT = "Cancel e-mail"
SENDING_TEXT = "Sending the queued e-mails…"
NOT_SET_UP = (
    "E-mail is not set up: messages wait here until an administrator sets the mail server "
    "and the portal address in Settings."
)
CHANGED_MEANWHILE = (
    "This e-mail changed in the meantime (the console may have just sent it). The outbox "
    "was read again: check the e-mail and try again."
)
SEND_NOW_TIP = "Send the queued e-mails that are due now"
SET_UP_FIRST = "Set the mail server and the portal address in Settings first"
RETRY_TIP = (
    "Queue the selected e-mail again, to be sent at once (after the mail server or the "
    "address was fixed)"
)
ONLY_FAILED_RETRIED = "Only an e-mail that failed can be tried again"
CANCEL_TIP = "Stop the selected e-mail from being sent"
ONLY_WAITING_CANCELLED = "Only a queued or failed e-mail can be cancelled"

#: The state filter's choices, in order.
FILTERS: tuple[tuple[str, OutboxState | None], ...] = (
    ("All", None),
    ("Queued", OutboxState.QUEUED),
    ("Sent", OutboxState.SENT),
    ("Failed", OutboxState.FAILED),
    ("Cancelled", OutboxState.CANCELLED),
)


def footer_text(shown: int, total: int) -> str:
    """ "Showing 500 of 1,234 e-mails"; "No e-mails to show" when there are none."""
    return showing_text(shown, total, "e-mail", "e-mails", NONE_MATCH)


def is_set_up(settings: ConsoleSettings) -> bool:
    """Whether the settings name a mail server and the portal the links lead to."""
    return bool(settings.smtp_host.strip() and settings.portal_base_url.strip())


def report_text(report: RelayReport) -> str:
    """ "2 sent, 1 to be tried again, 1 failed"; "nothing was waiting to be sent"."""
    parts = [
        f"{count:,} {words}"
        for count, words in (
            (report.sent, "sent"),
            (report.retrying, "to be tried again"),
            (report.failed, "failed"),
            (report.dropped, "no longer needed"),
        )
        if count
    ]
    return ", ".join(parts) if parts else "nothing was waiting to be sent"


@dataclass(frozen=True)
class MailStatus:
    """The strip above the table: whether e-mail is set up, what the relay did last."""

    #: "ok", "warning" (not set up) or "problem" (the relay could not send).
    level: str
    text: str
    send_now_enabled: bool
    send_now_tip: str


@dataclass(frozen=True)
class OutboxActions:
    """What Retry and Cancel allow for the selected e-mail, and why not."""

    retry_enabled: bool
    retry_tip: str
    cancel_enabled: bool
    cancel_tip: str


class OutboxScreen(ListScreen, Protocol):
    """What the presenter asks of and tells the Outbox page."""

    def criteria(self) -> OutboxState | None:
        """The state chosen (None: all)."""
        ...

    def selected(self) -> OutboxRow | None:
        """The e-mail selected in the table."""
        ...

    def show_rows(self, rows: Sequence[OutboxRow]) -> None:
        """Show ``rows``, keeping the selected e-mail selected when it is among them."""
        ...

    def show_row(self, row: OutboxRow) -> None:
        """Show ``row`` in place of the row with its id."""
        ...

    def show_actions(self, actions: OutboxActions) -> None:
        """Enable and explain Retry and Cancel as ``actions`` says."""
        ...

    def show_status(self, status: MailStatus) -> None:
        """Show the state of e-mail delivery."""
        ...

    def page_shown(self, count: int) -> None:
        """A page arrived: ``count`` e-mails are shown."""
        ...

    def wake_relay(self) -> None:
        """Ask the window's relay to send what is due now."""
        ...

    def publish(self, changes: Changes) -> None:
        """Hand what this page's action changed to every page (the window's feed)."""
        ...


class OutboxPresenter(ListPresenter):
    """The Outbox page's reads, actions and decisions."""

    def __init__(
        self,
        screen: OutboxScreen,
        desk: StaffDesk,
        runner: Submitter,
        settings: ConsoleSettings,
    ) -> None:
        super().__init__(screen, runner)
        self._page = screen
        self._desk = desk
        self._settings = settings
        self._may_act = refusal(desk.actor.role, Permission.RESEND_EMAIL)
        self._relay_said = ""
        self._relay_failed = False
        self._asked = False
        #: What this page's own last action changed: shown in place already.
        self._own: Changes | None = None

    def mail_status(self) -> MailStatus:
        """Whether e-mail is set up and what the relay did last, in the clinic's words."""
        ready = is_set_up(self._settings)
        if not ready:
            level, text = "warning", NOT_SET_UP
            if self._relay_failed:
                text = f"{text} {self._relay_said}"
        elif self._relay_failed:
            level, text = "problem", self._relay_said
        else:
            where = f"E-mail is sent through {self._settings.smtp_host.strip()}."
            level, text = "ok", f"{where} {self._relay_said}".strip()
        return MailStatus(level, text, ready, SEND_NOW_TIP if ready else SET_UP_FIRST)

    def actions_for(self, row: OutboxRow | None) -> OutboxActions:
        """What Retry and Cancel allow for ``row`` (None: nothing selected), and why not."""
        idle = not self.writing
        failed = row is not None and row.state is OutboxState.FAILED
        waiting = row is not None and row.state in (OutboxState.QUEUED, OutboxState.FAILED)
        allowed = self._may_act is None
        return OutboxActions(
            retry_enabled=failed and idle and allowed,
            retry_tip=self._may_act
            or (RETRY_TIP if row is None or failed else ONLY_FAILED_RETRIED),
            cancel_enabled=waiting and idle and allowed,
            cancel_tip=self._may_act
            or (CANCEL_TIP if row is None or waiting else ONLY_WAITING_CANCELLED),
        )

    def show_status(self) -> None:
        """Tell the screen the state of e-mail delivery."""
        self._page.show_status(self.mail_status())

    def set_settings(self, settings: ConsoleSettings) -> None:
        """An administrator saved the settings: say again whether e-mail is set up."""
        self._settings = settings
        self.show_status()

    def send_now(self) -> None:
        """Staff asked for the queued e-mails to go now."""
        self._asked = True
        self._relay_failed = False
        self._relay_said = SENDING_TEXT
        self.show_status()
        self._page.wake_relay()

    def relay_ran(self, report: RelayReport) -> None:
        """The relay finished a run: say what it did and read the page again when it took
        any e-mail. A run with nothing due changes the line only after a problem or when
        staff pressed Send now."""
        if report.handled == 0 and not (self._relay_failed or self._asked):
            return
        at = f"{self._desk.clock.now().astimezone():%H:%M}"
        self._relay_said = f"At {at}: {report_text(report)}."
        self._relay_failed = self._asked = False
        self.show_status()
        if report.handled:
            self.refresh()

    def relay_problem(self, text: str) -> None:
        """The relay could not send: show why (``text`` is written for the clinic)."""
        self._relay_said = text
        self._relay_failed = True
        self._asked = False
        self.show_status()

    def refresh(self) -> None:
        """Read the page for the chosen state again; an older read still on its way is
        dropped."""
        work = partial(self._desk.act, list_outbox, state=self._page.criteria())
        self._read("Loading the outbox", work, self._show_page, loading=LOADING_TEXT)

    def outbox_changed(self, changes: Changes) -> None:
        """An action changed e-mails: read the page again, unless it was this page's own,
        whose row is shown in place already (read again, a filter would drop it). Records
        changed by the thousand (``bulk``: an import) read it again too."""
        if changes.bulk or (changes.outbox and changes is not self._own):
            self.refresh()

    def selection_changed(self) -> None:
        """Another e-mail (or none) is selected: say what it allows."""
        self._page.show_actions(self.actions_for(self._page.selected()))

    def retry(self) -> None:
        """Queue the selected failed e-mail again, to be sent at once."""
        row = self._page.selected()
        if row is None or row.state is not OutboxState.FAILED:
            return
        after = dataclasses.replace(
            row,
            state=OutboxState.QUEUED,
            attempts=0,
            next_attempt_at=self._desk.clock.now(),
            last_error=None,
            version=row.version + 1,
        )
        self._change(
            "Queuing the e-mail again",
            retry_message,
            row,
            after,
            f"The e-mail to {row.to_email} is queued again",
        )

    def cancel(self) -> None:
        """Stop the selected queued or failed e-mail from being sent."""
        row = self._page.selected()
        if row is None or row.state not in (OutboxState.QUEUED, OutboxState.FAILED):
            return
        after = dataclasses.replace(
            row, state=OutboxState.CANCELLED, next_attempt_at=None, version=row.version + 1
        )
        self._change(
            "Cancelling the e-mail",
            cancel_message,
            row,
            after,
            f"The e-mail to {row.to_email} is cancelled",
        )

    # --- internals -----------------------------------------------------------------------

    def _change(
        self,
        what: str,
        action: Callable[..., Changes],
        row: OutboxRow,
        after: OutboxRow,
        done_text: str,
    ) -> None:
        """Run ``action`` on ``row`` in the worker; then show ``after`` in its place."""
        if self.writing:
            return
        work = partial(self._desk.act, action, row.message_id, expected_version=row.version)
        self.say("")
        self._write(what, work, partial(self._changed, after, done_text), self._not_changed)
        self.selection_changed()

    def _show_page(self, page: OutboxPage) -> None:
        self._settled()
        self._page.show_rows(page.rows)
        self._page.show_figures(footer_text(len(page.rows), page.total))
        self.selection_changed()
        self._page.page_shown(len(page.rows))

    def _changed(self, after: OutboxRow, done_text: str, changes: Changes) -> None:
        self._settled()
        # Shown in place (even under another filter) so that staff see it happen.
        self._page.show_row(after)
        self.say(done_text, done=True)
        self.selection_changed()
        self._own = changes
        self._page.publish(changes)  # the relay wakes when it queued mail

    def _not_changed(self, error: DomainError) -> None:
        self._settled()
        self.say(CHANGED_MEANWHILE if isinstance(error, StaleRecord) else str(error))
        self.selection_changed()
        self.refresh()  # show what is there now


__all__ = [
    "CANCEL_TEXT",
    "CHANGED_MEANWHILE",
    "FILTERS",
    "LOADING_TEXT",
    "NOT_SET_UP",
    "RETRY_TEXT",
    "SEND_NOW_TEXT",
    "MailStatus",
    "OutboxActions",
    "OutboxPresenter",
    "OutboxScreen",
    "footer_text",
    "is_set_up",
    "report_text",
]
