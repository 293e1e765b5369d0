"""The Outbox page's decisions, driven without a display or a QApplication: a fake screen,
a real database, a mail server stand-in that refuses, and a runner that runs the work
inline (or holds it)."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from console.models.states import OutboxState, StaffRole
from console.services.desk import StaffDesk
from console.services.mail.outbox_list import list_outbox
from console.services.mail.relay import RelayReport, cancel_message, send_due
from console.services.mail.transport import PermanentFailure
from console.services.permissions import Actor
from console.services.settings.values import ConsoleSettings
from console.services.workstation import Changes, Workstation
from console.views.outbox_presenter import (
    CANCEL_TIP,
    CHANGED_MEANWHILE,
    LOADING_TEXT,
    NOT_SET_UP,
    ONLY_FAILED_RETRIED,
    ONLY_WAITING_CANCELLED,
    RETRY_TIP,
    SEND_NOW_TIP,
    SET_UP_FIRST,
    MailStatus,
    OutboxActions,
    OutboxPresenter,
    footer_text,
    report_text,
)
from console.workers.service_calls import Submitter
from tests.runners import HeldRunner, InlineRunner
from tests.services.conftest import NOW, add_staff
from tests.views.fake_screens import FakeTableScreen
from tests.views.test_outbox_view import BRANDING, SET_UP, invite


class FakeOutboxScreen(FakeTableScreen):
    def __init__(self) -> None:
        super().__init__("message_id")
        self.status: MailStatus | None = None
        self.wakes = 0
        self.published: list[Changes] = []

    def criteria(self) -> OutboxState | None:
        return self.state

    def show_status(self, status: MailStatus) -> None:
        self.status = status

    def wake_relay(self) -> None:
        self.wakes += 1

    def publish(self, changes: Changes) -> None:
        self.published.append(changes)


class Refusing:
    """A mail server that refuses every message for good."""

    description = "a server that refuses"

    def send(self, message: EmailMessage) -> None:
        raise PermanentFailure("550 5.1.1 No such mailbox here")

    def close(self) -> None:
        pass


@pytest.fixture
def actor(desk: Workstation, staff_hash: str) -> Actor:
    """A front-desk user, and two e-mails: one failed, then one queued (the newest)."""
    actor = add_staff(desk.database, StaffRole.FRONT_DESK, staff_hash)
    invite(desk, actor, "refused@example.org")
    assert send_due(desk, Refusing(), BRANDING) == RelayReport(failed=1)
    invite(desk, actor, "queued@example.org")
    return actor


@pytest.fixture
def screen() -> FakeOutboxScreen:
    return FakeOutboxScreen()


def presenter_for(
    screen: FakeOutboxScreen,
    desk: Workstation,
    actor: Actor,
    runner: Submitter | None = None,
    settings: ConsoleSettings = SET_UP,
) -> OutboxPresenter:
    return OutboxPresenter(screen, StaffDesk(desk, actor), runner or InlineRunner(), settings)


def emails(screen: FakeOutboxScreen) -> list[str]:
    return [row.to_email for row in screen.rows]


def test_texts() -> None:
    assert footer_text(4, 4) == "Showing 4 of 4 e-mails"
    assert footer_text(1, 1) == "Showing 1 of 1 e-mail"
    assert footer_text(0, 0) == "No e-mails to show"
    assert report_text(RelayReport(sent=2, retrying=1)) == "2 sent, 1 to be tried again"
    assert report_text(RelayReport(failed=1, dropped=3)) == "1 failed, 3 no longer needed"
    assert report_text(RelayReport()) == "nothing was waiting to be sent"


def test_a_page_arrives_with_its_figures(
    screen: FakeOutboxScreen, desk: Workstation, actor: Actor
) -> None:
    held = HeldRunner()
    presenter = presenter_for(screen, desk, actor, held)
    presenter.refresh()
    assert screen.busy and screen.figures == LOADING_TEXT
    held.run_all()
    assert emails(screen) == ["queued@example.org", "refused@example.org"]
    assert screen.figures == "Showing 2 of 2 e-mails" and not screen.busy
    screen.state = OutboxState.FAILED
    presenter.refresh()
    held.run_all()
    assert emails(screen) == ["refused@example.org"]
    assert screen.figures == "Showing 1 of 1 e-mail"
    assert screen.pages == [2, 1]


def test_what_the_selected_email_allows(
    screen: FakeOutboxScreen, desk: Workstation, actor: Actor
) -> None:
    presenter = presenter_for(screen, desk, actor)
    presenter.refresh()
    assert screen.actions == OutboxActions(False, RETRY_TIP, False, CANCEL_TIP)
    screen.select(1)  # failed
    presenter.selection_changed()
    assert screen.actions == OutboxActions(True, RETRY_TIP, True, CANCEL_TIP)
    screen.select(0)  # queued
    presenter.selection_changed()
    assert screen.actions == OutboxActions(False, ONLY_FAILED_RETRIED, True, CANCEL_TIP)
    cancel_message(desk, actor, screen.rows[0].message_id)
    presenter.refresh()
    assert screen.actions == OutboxActions(
        False, ONLY_FAILED_RETRIED, False, ONLY_WAITING_CANCELLED
    )


def test_retry_shows_the_email_queued_in_place_and_publishes_the_queued_mail(
    screen: FakeOutboxScreen, desk: Workstation, actor: Actor
) -> None:
    held = HeldRunner()
    presenter = presenter_for(screen, desk, actor, held)
    presenter.refresh()
    held.run_all()
    screen.select(1)
    presenter.retry()
    assert screen.busy
    assert not screen.actions.retry_enabled and not screen.actions.cancel_enabled
    presenter.cancel()  # one action at a time
    assert len(held.jobs) == 1
    held.run_all()
    row = screen.rows[1]
    assert row.state is OutboxState.QUEUED and row.attempts == 0 and row.last_error is None
    assert (screen.message, screen.done) == (
        "The e-mail to refused@example.org is queued again",
        True,
    )
    (retried,) = screen.published
    assert retried.outbox == retried.mail_queued == {row.message_id}  # the relay wakes
    assert screen.actions == OutboxActions(False, ONLY_FAILED_RETRIED, True, CANCEL_TIP)
    # The version shown in place is the one stored: cancelling it now is not refused.
    presenter.cancel()
    held.run_all()
    assert screen.message == "The e-mail to refused@example.org is cancelled"
    cancelled = screen.published[-1]
    assert cancelled.outbox == {row.message_id} and not cancelled.mail_queued  # sends nothing
    assert screen.wakes == 0  # only Send now wakes the relay from here
    assert list_outbox(desk, actor, state=OutboxState.FAILED).total == 0


def test_a_row_changed_meanwhile_is_said_and_read_again(
    screen: FakeOutboxScreen, desk: Workstation, actor: Actor
) -> None:
    runner = InlineRunner()
    presenter = presenter_for(screen, desk, actor, runner)
    presenter.refresh()
    screen.select(0)
    cancel_message(desk, actor, screen.rows[0].message_id)  # another workstation
    presenter.cancel()
    assert (screen.message, screen.done) == (CHANGED_MEANWHILE, False)
    assert runner.calls == 3  # read, cancel, read again
    assert screen.rows[0].state is OutboxState.CANCELLED
    assert not screen.actions.cancel_enabled


def test_whether_email_is_set_up(screen: FakeOutboxScreen, desk: Workstation, actor: Actor) -> None:
    presenter = presenter_for(
        screen, desk, actor, settings=ConsoleSettings(smtp_host="smtp.example.org")
    )
    presenter.show_status()
    assert screen.status == MailStatus("warning", NOT_SET_UP, False, SET_UP_FIRST)
    presenter.set_settings(SET_UP)
    assert screen.status == MailStatus(
        "ok", "E-mail is sent through smtp.example.org.", True, SEND_NOW_TIP
    )
    presenter.relay_problem("The server refused the connection.")
    presenter.set_settings(ConsoleSettings(portal_base_url="https://portal.example.org"))
    assert screen.status is not None
    assert screen.status.level == "warning"
    assert screen.status.text == f"{NOT_SET_UP} The server refused the connection."


def test_the_page_reads_again_for_others_changes_not_for_its_own(
    screen: FakeOutboxScreen, desk: Workstation, actor: Actor
) -> None:
    held = HeldRunner()
    presenter = presenter_for(screen, desk, actor, held)
    presenter.refresh()
    held.run_all()
    screen.select(1)
    presenter.retry()
    held.run_all()
    (own,) = screen.published
    presenter.outbox_changed(own)
    assert held.jobs == []  # shown in place already: a filter would drop it if read again
    presenter.outbox_changed(Changes(invitations=frozenset({7})))
    assert held.jobs == []  # no e-mail changed
    presenter.outbox_changed(Changes(outbox=frozenset({99})))
    assert len(held.jobs) == 1
    held.run_all()
    presenter.outbox_changed(Changes(bulk=True))  # an import: every list reads again
    assert len(held.jobs) == 1


def test_send_now_and_what_the_relay_did(
    screen: FakeOutboxScreen, desk: Workstation, actor: Actor
) -> None:
    runner = InlineRunner()
    presenter = presenter_for(screen, desk, actor, runner)
    presenter.relay_ran(RelayReport())  # a quiet run nobody asked for says nothing
    assert screen.status is None
    presenter.send_now()
    assert screen.wakes == 1
    assert screen.status is not None
    assert screen.status.text.endswith("Sending the queued e-mails…")
    presenter.relay_ran(RelayReport())
    assert screen.status.text.endswith("nothing was waiting to be sent.")
    assert runner.calls == 0  # it took nothing: no read
    presenter.relay_problem("E-mail could not be sent.")
    assert screen.status.level == "problem"
    assert screen.status.text == "E-mail could not be sent."
    presenter.relay_ran(RelayReport(sent=2, retrying=1))
    assert screen.status.level == "ok"
    assert screen.status.text == (
        f"E-mail is sent through smtp.example.org. At {NOW.astimezone():%H:%M}: 2 sent, "
        "1 to be tried again."
    )
    assert runner.calls == 1  # it took e-mails: read again


def test_a_refused_read_is_said_and_nothing_can_be_done(
    screen: FakeOutboxScreen, desk: Workstation, actor: Actor
) -> None:
    nobody = Actor(9999, "nobody", "no-such-role")
    presenter = presenter_for(screen, desk, nobody)
    presenter.selection_changed()  # as the page does when it opens
    presenter.refresh()
    assert "no valid role" in screen.message
    assert screen.rows == [] and screen.figures == "" and not screen.busy
    assert not screen.actions.retry_enabled and not screen.actions.cancel_enabled
    assert "no valid role" in screen.actions.retry_tip
