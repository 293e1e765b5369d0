"""The outbox view over a real database, a real worker and a real SMTP server (issue 7): rows
by state, a failed e-mail (a real 550) tried again, a queued one cancelled, a row changed
meanwhile read again, whether e-mail is set up, the relay's results, accessible names, and
no modal dialog anywhere."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableView,
    QWidget,
)
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session

from console.adapters.outbox_table import OutboxColumn
from console.models.states import OutboxState
from console.services.desk import StaffDesk
from console.services.invitations.issuing import reissue_invitation
from console.services.mail.outbox_list import list_outbox
from console.services.mail.relay import RelayReport, cancel_message, send_due
from console.services.mail.smtp import SmtpTransport
from console.services.mail.templates import Branding
from console.services.permissions import Actor
from console.services.settings.values import ConsoleSettings, SmtpSecurity
from console.services.workstation import Workstation
from console.views.outbox_presenter import NOT_SET_UP, footer_text, report_text
from console.views.outbox_view import OutboxView
from console.workers.job_runner import JobRunner
from tests.factories import add_patient
from tests.services.conftest import NOW
from tests.smtp_server import HOST, smtp_server

SET_UP = ConsoleSettings(smtp_host="smtp.example.org", portal_base_url="https://portal.example.org")
BRANDING = Branding(
    clinic_name="Riverside Family Clinic",
    portal_name="MyHealth",
    portal_base_url="https://portal.example.org",
    clinic_phone="555-0100",
    sender="portal@example.org",
)


def invite(desk: Workstation, actor: Actor, email: str) -> None:
    """A chart with no account, invited: its invitation e-mail is queued."""
    with Session(desk.database.writer) as session, session.begin():
        patient_id = add_patient(session).id
    reissue_invitation(desk, actor, patient_id, email)


@pytest.fixture
def outbox(desk: Workstation, actor: Actor) -> None:
    """One e-mail in each state: sent, failed (a real 550), queued, cancelled."""
    invite(desk, actor, "sent@example.org")
    invite(desk, actor, "refused@example.org")
    with smtp_server() as server:
        server.script("250 2.0.0 Message accepted", "550 5.1.1 No such mailbox here")
        with SmtpTransport(HOST, server.port, SmtpSecurity.NONE) as transport:
            assert send_due(desk, transport, BRANDING) == RelayReport(sent=1, failed=1)
    invite(desk, actor, "queued@example.org")
    invite(desk, actor, "cancelled@example.org")
    newest = list_outbox(desk, actor).rows[0]
    cancel_message(desk, actor, newest.message_id)


@pytest.fixture
def view(
    qtbot: QtBot, desk: Workstation, actor: Actor, runner: JobRunner, outbox: None
) -> Iterator[OutboxView]:
    widget = OutboxView(StaffDesk(desk, actor), runner, SET_UP)
    qtbot.addWidget(widget)
    widget.resize(1100, 600)
    widget.show()
    yield widget
    assert not any(
        isinstance(w, QDialog) and w.isVisible() for w in QApplication.topLevelWidgets()
    ), "a dialog was opened"
    assert QApplication.activeModalWidget() is None
    widget.clear()


def load(qtbot: QtBot, view: OutboxView) -> None:
    with qtbot.waitSignal(view.loaded, timeout=5000):
        view.refresh()
    assert view.busy is False


def shown(view: OutboxView, column: OutboxColumn = OutboxColumn.TO) -> list[str]:
    return [view.model.index(row, column).data() for row in range(view.model.rowCount())]


def select(view: OutboxView, email: str) -> None:
    view.table.selectRow(shown(view).index(email))


def test_texts() -> None:
    assert footer_text(4, 4) == "Showing 4 of 4 e-mails"
    assert footer_text(1, 1) == "Showing 1 of 1 e-mail"
    assert footer_text(0, 0) == "No e-mails to show"
    assert report_text(RelayReport(sent=2, retrying=1)) == "2 sent, 1 to be tried again"
    assert report_text(RelayReport()) == "nothing was waiting to be sent"


def test_rows_appear_newest_first_and_by_state(qtbot: QtBot, view: OutboxView) -> None:
    load(qtbot, view)
    assert shown(view) == [
        "cancelled@example.org",
        "queued@example.org",
        "refused@example.org",
        "sent@example.org",
    ]
    assert shown(view, OutboxColumn.STATE) == ["Cancelled", "Queued", "Failed", "Sent"]
    assert shown(view, OutboxColumn.KIND) == ["Invitation"] * 4
    assert view.footer == "Showing 4 of 4 e-mails"
    for state, email in (
        (OutboxState.FAILED, "refused@example.org"),
        (OutboxState.SENT, "sent@example.org"),
        (OutboxState.QUEUED, "queued@example.org"),
        (OutboxState.CANCELLED, "cancelled@example.org"),
    ):
        with qtbot.waitSignal(view.loaded, timeout=5000):
            view.set_state_filter(state)
        assert shown(view) == [email]
    with qtbot.waitSignal(view.loaded, timeout=5000):
        view.set_state_filter(OutboxState.FAILED)
    assert "550 5.1.1 No such mailbox here" in shown(view, OutboxColumn.REASON)[0]
    assert view.footer == "Showing 1 of 1 e-mail"


def test_retry_a_failed_email_queues_it_and_publishes_what_it_queued(
    qtbot: QtBot, view: OutboxView, desk: Workstation, actor: Actor
) -> None:
    load(qtbot, view)
    select(view, "refused@example.org")
    assert view.retry_button.isEnabled() and view.cancel_button.isEnabled()
    with qtbot.waitSignal(view.changed, timeout=5000) as published:
        view.retry_button.click()
    assert published.args[0].mail_queued
    assert not view.busy
    row = view.model.rows[shown(view).index("refused@example.org")]
    assert row.state is OutboxState.QUEUED and row.attempts == 0 and row.last_error is None
    assert view.message == "The e-mail to refused@example.org is queued again"
    assert not view.retry_button.isEnabled() and view.cancel_button.isEnabled()
    queued = [r.to_email for r in list_outbox(desk, actor, state=OutboxState.QUEUED).rows]
    assert sorted(queued) == ["queued@example.org", "refused@example.org"]
    # The version shown in place is the one stored: cancelling it now is not refused.
    view.cancel_button.click()
    qtbot.waitUntil(lambda: view.message.endswith("is cancelled"), timeout=5000)
    assert list_outbox(desk, actor, state=OutboxState.FAILED).total == 0


def test_cancel_a_queued_email(
    qtbot: QtBot, view: OutboxView, desk: Workstation, actor: Actor
) -> None:
    load(qtbot, view)
    select(view, "queued@example.org")
    assert not view.retry_button.isEnabled()
    with qtbot.waitSignal(view.model.dataChanged, timeout=5000):
        view.cancel_button.click()
    assert shown(view, OutboxColumn.STATE)[1] == "Cancelled"  # in place
    assert view.message == "The e-mail to queued@example.org is cancelled"
    assert not view.cancel_button.isEnabled()
    assert list_outbox(desk, actor, state=OutboxState.QUEUED).total == 0


def test_sent_or_cancelled_emails_allow_no_action(qtbot: QtBot, view: OutboxView) -> None:
    load(qtbot, view)
    for email in ("sent@example.org", "cancelled@example.org"):
        select(view, email)
        assert not view.retry_button.isEnabled()
        assert not view.cancel_button.isEnabled()
        assert view.cancel_button.toolTip() == "Only a queued or failed e-mail can be cancelled"


def test_a_row_changed_meanwhile_is_said_and_read_again(
    qtbot: QtBot, view: OutboxView, desk: Workstation, actor: Actor
) -> None:
    load(qtbot, view)
    select(view, "queued@example.org")
    queued = view.model.rows[1]
    cancel_message(desk, actor, queued.message_id)  # another workstation
    with qtbot.waitSignal(view.loaded, timeout=5000):
        view.cancel_button.click()
    assert view.message.startswith("This e-mail changed in the meantime")
    assert shown(view, OutboxColumn.STATE)[1] == "Cancelled"
    assert not view.cancel_button.isEnabled()  # still selected, read again


def test_a_refusal_is_said_and_nothing_can_be_done(
    qtbot: QtBot, desk: Workstation, runner: JobRunner, outbox: None
) -> None:
    nobody = Actor(9999, "nobody", "no-such-role")
    view = OutboxView(StaffDesk(desk, nobody), runner, SET_UP)
    qtbot.addWidget(view)
    view.refresh()
    qtbot.waitUntil(lambda: bool(view.message) and not view.busy, timeout=5000)
    assert "no valid role" in view.message
    assert view.model.rowCount() == 0 and view.footer == ""
    assert not view.retry_button.isEnabled() and not view.cancel_button.isEnabled()
    assert "no valid role" in view.retry_button.toolTip()


def test_not_set_up_says_so_and_send_now_waits(
    qtbot: QtBot, desk: Workstation, actor: Actor, runner: JobRunner
) -> None:
    view = OutboxView(StaffDesk(desk, actor), runner, ConsoleSettings(smtp_host="smtp.example.org"))
    qtbot.addWidget(view)
    assert view.status == NOT_SET_UP
    assert view.status_strip.property("level") == "warning"
    assert not view.send_now_button.isEnabled()
    view.set_settings(SET_UP)
    assert view.status == "E-mail is sent through smtp.example.org."
    assert view.status_strip.property("level") == "ok"
    assert view.send_now_button.isEnabled()
    view.set_settings(ConsoleSettings(portal_base_url="https://portal.example.org"))
    assert view.status == NOT_SET_UP


def test_send_now_and_the_relays_results(qtbot: QtBot, view: OutboxView) -> None:
    load(qtbot, view)
    with qtbot.waitSignal(view.send_now, timeout=1000):
        view.send_now_button.click()
    assert view.status.endswith("Sending the queued e-mails…")
    view.relay_ran(RelayReport())
    assert view.status.endswith("nothing was waiting to be sent.")
    problem = (
        "E-mail could not be sent: smtp.example.org refused the connection. Messages wait "
        "in the outbox and are tried again."
    )
    view.relay_problem(problem)
    assert view.status == problem
    assert view.status_strip.property("level") == "problem"
    with qtbot.waitSignal(view.loaded, timeout=5000):  # it took e-mails: read again
        view.relay_ran(RelayReport(sent=2, retrying=1))
    assert view.status == (
        f"E-mail is sent through smtp.example.org. At {NOW.astimezone():%H:%M}: 2 sent, "
        "1 to be tried again."
    )
    assert view.status_strip.property("level") == "ok"
    view.relay_ran(RelayReport())  # a quiet run keeps the last result
    assert "2 sent" in view.status


def test_every_control_has_an_accessible_name_and_takes_the_keyboard(
    qtbot: QtBot, view: OutboxView
) -> None:
    load(qtbot, view)
    kinds = (QPushButton, QComboBox, QTableView, QLabel, QProgressBar)
    controls = [w for w in view.findChildren(QWidget) if isinstance(w, kinds)]
    assert len(controls) >= 10
    for control in controls:
        assert control.accessibleName(), f"{type(control).__name__} has no accessible name"
    for control in (
        view.state_filter,
        view.send_now_button,
        view.table,
        view.retry_button,
        view.cancel_button,
    ):
        assert control.focusPolicy() & Qt.FocusPolicy.TabFocus
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_Down)  # the keyboard selects a row
    assert view.table.currentIndex().isValid()


def test_clear_forgets_everything(qtbot: QtBot, view: OutboxView) -> None:
    load(qtbot, view)
    view.table.selectRow(1)
    view.clear()
    assert view.model.rowCount() == 0
    assert view.footer == "" and view.message == ""
    assert not view.busy
    assert not view.retry_button.isEnabled() and not view.cancel_button.isEnabled()
