"""The GUI entry point: ``run_gui`` asks who signs in, opens the window on the database and
returns when it is closed, leaving no worker behind; without an audit key it refuses to start."""

from __future__ import annotations

import hashlib
import secrets
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from console.app import (
    GIL_SWITCH_INTERVAL_S,
    build_main_window,
    create_application,
    guard_session,
    offer_administration,
    run_gui,
    run_mail_relay,
)
from console.models.database import Database, open_database, resolve_database_url
from console.models.schema import AuditChainHead, AuditEvent
from console.models.states import StaffRole
from console.services.audit.key import load_audit_key
from console.services.demo.clinic import DEMO_STAFF_PASSWORD, fill_demo_database
from console.services.desk import Desk, StaffDesk
from console.services.staff.users import SignedIn, sign_in
from console.views.main_window import MainWindow
from console.workers.job_runner import JobRunner, open_runners
from tests.adapters.clinic_accounts import add_clinic_accounts
from tests.keyrings import MemoryKeyring
from tests.services.conftest import STAFF_PASSWORD, add_staff


@pytest.fixture
def restore_application(qapp: QApplication) -> Iterator[QApplication]:
    """Undo what ``create_application`` does to the test run's shared QApplication."""
    name, organisation = qapp.applicationName(), qapp.organizationName()
    sheet, palette, icon = qapp.styleSheet(), QPalette(qapp.palette()), qapp.windowIcon()
    yield qapp
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)
    qapp.setWindowIcon(icon)
    qapp.setApplicationName(name)
    qapp.setOrganizationName(organisation)


def test_create_application_names_and_themes_the_existing_application(
    restore_application: QApplication,
) -> None:
    app = create_application([])
    assert app is restore_application
    assert app.applicationName() == "Portal Account Console"
    assert app.organizationName() == "Portal Account Console"
    assert not app.windowIcon().isNull()
    assert "accountTable" in app.styleSheet()


class Answers:
    """The start-up prompts, answered as a test says and noted in ``asked``."""

    def __init__(
        self,
        *,
        create_key: bool = True,
        sign_in_as: str | None = None,
        password: str = STAFF_PASSWORD,
        private: bool = False,
    ) -> None:
        self.create_key = create_key
        self.sign_in_as = sign_in_as
        self.password = password
        self.private = private
        self.asked: list[str] = []

    def make_private(self, warning: str) -> bool:
        self.asked.append(f"make private: {warning}")
        return self.private

    def create_audit_key(self) -> bool:
        self.asked.append("create audit key")
        return self.create_key

    def cannot_start(self, message: str) -> None:
        self.asked.append(f"cannot start: {message}")

    def sign_in(self, desk: Desk, *, first_run: bool) -> SignedIn | None:
        self.asked.append("first administrator" if first_run else "sign in")
        if self.sign_in_as is None:
            return None
        return desk.run(sign_in, self.sign_in_as, self.password)


def run_until_read(
    database: Database, config: Path, answers: Answers
) -> tuple[int, dict[str, str]]:
    """``run_gui``, its window closed as soon as the account count is shown: the exit status
    and what the window showed (count, staff, audit log, whether Settings was enabled)."""
    seen: dict[str, str] = {}
    poll = QTimer()
    poll.setInterval(20)

    def close_once_read() -> None:  # the window is the console itself, not a prompt
        for widget in QApplication.topLevelWidgets():  # an earlier test's is closed
            shown = isinstance(widget, MainWindow) and widget.isVisible()
            if shown and widget.row_count_label.text():
                seen["count"] = widget.row_count_label.text()
                seen["staff"] = widget.staff_label.text()
                audit = widget.audit_label
                seen["audit"] = "" if audit is None else audit.text()
                seen["warned"] = str(audit is not None and audit.property("demo"))
                seen["settings"] = str(widget.settings_action.isEnabled())
                poll.stop()
                widget.close()

    poll.timeout.connect(close_once_read)
    poll.start()
    give_up = QTimer()
    give_up.setSingleShot(True)
    give_up.timeout.connect(QApplication.quit)
    give_up.start(10_000)
    try:
        status = run_gui(database, config=config, prompts=answers)
    finally:
        poll.stop()
        give_up.stop()
    return status, seen


def test_run_gui_signs_in_shows_the_accounts_and_returns_when_the_window_closes(
    database: Database,
    restore_application: QApplication,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    staff_hash: str,
) -> None:
    add_clinic_accounts(database)
    add_staff(database, StaffRole.FRONT_DESK, staff_hash, name="pat")
    monkeypatch.setenv("PORTAL_CONSOLE_AUDIT_KEY", hashlib.sha256(b"app test").hexdigest())
    answers = Answers(sign_in_as="PAT")
    python_default = sys.getswitchinterval()
    try:
        status, seen = run_until_read(database, tmp_path / "settings.toml", answers)
        # A busy worker hands the GIL to the GUI thread within 1 ms, not Python's 5.
        assert sys.getswitchinterval() == pytest.approx(GIL_SWITCH_INTERVAL_S)
    finally:
        sys.setswitchinterval(python_default)
    assert status == 0
    assert answers.asked == ["sign in"]
    assert seen == {
        "count": "16 accounts",
        "staff": "Signed in: pat (front desk)",
        "audit": "Audit log: sealed",
        "warned": "False",
        "settings": "False",
    }
    assert not open_runners()
    with database.engine.connect() as connection:
        actions = connection.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["staff_sign_in", "signed_out"]


def test_a_demo_clinic_opens_without_any_key_and_says_it_is_not_tamper_proof(
    database: Database, restore_application: QApplication, tmp_path: Path
) -> None:
    fill_demo_database(database, patients=5, seed=3)
    answers = Answers(sign_in_as="demo_front_desk", password=DEMO_STAFF_PASSWORD)
    status, seen = run_until_read(database, tmp_path / "settings.toml", answers)
    assert status == 0 and answers.asked == ["sign in"]
    assert (seen["audit"], seen["warned"]) == ("Audit log: demo — not tamper-proof", "True")


def test_a_used_database_without_its_audit_key_refuses_to_start(
    database: Database, restore_application: QApplication, tmp_path: Path, staff_hash: str
) -> None:
    add_staff(database, StaffRole.ADMIN, staff_hash, name="ann")
    answers = Answers()
    status = run_gui(database, config=tmp_path / "settings.toml", prompts=answers)
    assert status == 2
    (said,) = answers.asked
    assert "No audit key is set up" in said


@pytest.mark.parametrize("private", [True, False])
def test_a_database_others_can_read_is_reported_once_and_made_private_on_request(
    tmp_path: Path, restore_application: QApplication, private: bool
) -> None:
    path = tmp_path / "clinic.db"
    open_database(resolve_database_url(str(path), {})).dispose()
    path.chmod(0o644)
    database = open_database(resolve_database_url(str(path), {}))
    try:
        answers = Answers(private=private)  # then quits at the key question
        run_gui(database, config=tmp_path / "settings.toml", prompts=answers)
    finally:
        database.dispose()
    said, *rest = answers.asked
    assert said.startswith(f"make private: The database {path} can be read by other users")
    assert not any(question.startswith("make private") for question in rest)
    assert stat.S_IMODE(path.stat().st_mode) == (0o600 if private else 0o644)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """The keyring library's own choice, made an in-memory keyring for the test."""
    before = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(before)


def test_a_new_database_gets_its_audit_key_in_the_keyring(
    database: Database,
    restore_application: QApplication,
    tmp_path: Path,
    memory_keyring: MemoryKeyring,
) -> None:
    answers = Answers()
    status = run_gui(database, config=tmp_path / "settings.toml", prompts=answers)
    assert status == 0
    assert answers.asked == ["create audit key", "first administrator"]
    assert len(memory_keyring.entries) == 1
    key = load_audit_key(database, environ={}, keyring_backend=memory_keyring)
    assert key.source == "keyring"


def test_a_clinic_database_set_up_here_never_opens_with_a_planted_demo_key(
    database: Database,
    restore_application: QApplication,
    tmp_path: Path,
    memory_keyring: MemoryKeyring,
    staff_hash: str,
) -> None:
    # The window's first start sets up the key and records, beside the settings, that this
    # is a clinic database; the keyring then loses the key.
    config = tmp_path / "settings.toml"
    assert run_gui(database, config=config, prompts=Answers()) == 0
    assert [p.parent.name for p in tmp_path.glob("*/*.json")] == ["clinic-databases"]
    add_staff(database, StaffRole.ADMIN, staff_hash, name="ann")  # in use from now on
    memory_keyring.entries.clear()
    answers = Answers()
    assert run_gui(database, config=config, prompts=answers) == 2
    (said,) = answers.asked
    assert "The audit key for this clinic database is missing" in said
    # A key put into the head row, to open it as a demo: refused, and nothing offered.
    with database.write() as connection:
        connection.execute(update(AuditChainHead).values(demo_key=secrets.token_hex(32)))
    answers = Answers()
    assert run_gui(database, config=config, prompts=answers) == 2
    (said,) = answers.asked
    assert said.startswith("cannot start: ") and "holds a demo key" in said


def test_declining_the_audit_key_creates_nothing(
    database: Database,
    restore_application: QApplication,
    tmp_path: Path,
    memory_keyring: MemoryKeyring,
) -> None:
    answers = Answers(create_key=False)
    status = run_gui(database, config=tmp_path / "settings.toml", prompts=answers)
    assert status == 0
    assert answers.asked == ["create audit key"]
    assert memory_keyring.entries == {}


def test_without_a_secure_keyring_the_first_run_says_what_to_do(
    database: Database, restore_application: QApplication, tmp_path: Path
) -> None:
    answers = Answers()
    status = run_gui(database, config=tmp_path / "settings.toml", prompts=answers)
    assert status == 2
    assert answers.asked[0] == "create audit key"
    assert (
        "no secure keyring" in answers.asked[1] and "PORTAL_CONSOLE_AUDIT_KEY" in answers.asked[1]
    )


def test_an_administrator_opens_staff_users_and_settings(
    qtbot: QtBot, database: Database, tmp_path: Path, staff_hash: str
) -> None:
    from console.services.clock import ManualClock
    from console.services.staff.session import StaffSession
    from console.services.staff.users import SignedIn
    from console.views.settings_dialog import SettingsDialog
    from console.views.staff_dialog import StaffDialog
    from tests.services.conftest import NOW, make_workstation

    admin = add_staff(database, StaffRole.ADMIN, staff_hash, name="ann")
    workstation = make_workstation(database, ManualClock(NOW))
    window = build_main_window(database, StaffSession.begin(SignedIn(admin, False), NOW))
    qtbot.addWidget(window)
    runner = offer_administration(window, StaffDesk(workstation, admin), tmp_path / "settings.toml")
    try:
        assert window.staff_action.isEnabled() and window.settings_action.isEnabled()
        window.staff_action.trigger()
        window.settings_action.trigger()
        opened = {type(child) for child in window.findChildren(QDialog)}
        assert {StaffDialog, SettingsDialog} <= opened
        for dialog in window.findChildren(QDialog):
            dialog.done(0)
    finally:
        runner.close()
        window.shutdown()


@pytest.mark.parametrize("role", [StaffRole.FRONT_DESK, StaffRole.MANAGER])
def test_only_administrators_see_staff_users_and_settings_enabled(
    qtbot: QtBot, database: Database, staff_hash: str, role: StaffRole
) -> None:
    from console.services.staff.session import StaffSession
    from console.services.staff.users import SignedIn
    from tests.services.conftest import NOW

    actor = add_staff(database, role, staff_hash)
    window = build_main_window(database, StaffSession.begin(SignedIn(actor, False), NOW))
    qtbot.addWidget(window)
    try:
        for action, what in (
            (window.staff_action, "manage staff users"),
            (window.settings_action, "change settings"),
        ):
            assert not action.isEnabled()
            assert action.toolTip() == f"Only administrators may {what}; ask one of them."
    finally:
        window.shutdown()


def test_the_log_files_stay_owner_only_when_rotated(tmp_path: Path) -> None:
    import logging
    import os
    import stat

    from console.app import log_file

    path = tmp_path / "logs" / "console.log"
    old_umask = os.umask(0o022)
    try:
        with log_file(path):
            logging.getLogger("console.test").info("before rotation")
            handler = logging.getLogger().handlers[-1]
            handler.doRollover()  # type: ignore[attr-defined]
            logging.getLogger("console.test").info("after rotation")
    finally:
        os.umask(old_umask)
    for file in (path, path.with_name("console.log.1"), path.parent):
        rights = stat.S_IMODE(file.stat().st_mode)
        assert rights & 0o077 == 0, f"{file.name}: {oct(rights)}"
    assert "after rotation" in path.read_text()


def test_account_actions_wait_for_a_selected_account(
    qtbot: QtBot, database: Database, staff_hash: str
) -> None:
    from console.services.staff.session import StaffSession
    from console.services.staff.users import SignedIn
    from tests.services.conftest import NOW

    add_clinic_accounts(database)
    actor = add_staff(database, StaffRole.FRONT_DESK, staff_hash)
    window = build_main_window(database, StaffSession.begin(SignedIn(actor, False), NOW))
    qtbot.addWidget(window)
    try:
        with qtbot.waitSignal(window.model.row_count_changed, timeout=5000):
            pass
        revoke, reissue = window.actions_by_id["revoke"], window.actions_by_id["reissue"]
        assert not revoke.isEnabled() and not reissue.isEnabled()
        with qtbot.waitSignal(window.account_selected, timeout=5000) as selected:
            window.table.selectRow(0)
        assert selected.args == [window.selected_account_id] and selected.args[0] > 0
        assert revoke.isEnabled() and reissue.isEnabled()
        assert revoke.shortcut().toString() == "Ctrl+Shift+R"
    finally:
        window.shutdown()


def test_the_console_sends_what_the_front_desk_queued(
    qtbot: QtBot, database: Database, staff_hash: str
) -> None:
    """Mail set up: an invitation re-issued at the desk reaches a real SMTP server at once
    (the relay wakes after the action), and the Outbox page shows it sent."""
    from console.services.clock import ManualClock
    from console.services.invitations.issuing import reissue_invitation
    from console.services.settings.values import ConsoleSettings, SmtpSecurity
    from console.services.staff.session import StaffSession
    from console.services.staff.users import SignedIn
    from console.views.front_desk import FrontDesk
    from tests.factories import add_patient
    from tests.services.conftest import NOW, make_workstation
    from tests.smtp_server import HOST, smtp_server

    actor = add_staff(database, StaffRole.FRONT_DESK, staff_hash)
    workstation = make_workstation(database, ManualClock(NOW))
    session = StaffSession.begin(SignedIn(actor, False), NOW)
    window = build_main_window(database, session)
    qtbot.addWidget(window)
    with smtp_server() as server:
        settings = ConsoleSettings(
            clinic_name="Riverside Family Clinic",
            clinic_phone="555-0100",
            portal_base_url="https://portal.example.org",
            smtp_host=HOST,
            smtp_port=server.port,
            smtp_security=SmtpSecurity.NONE,
            smtp_sender="portal@example.org",
        )
        runner = JobRunner()
        guard = guard_session(window, StaffDesk(workstation, session.actor), session, settings)
        desk = FrontDesk(window, StaffDesk(workstation, actor), runner, settings)
        relay = run_mail_relay(desk, guard, workstation, settings)
        assert relay is not None
        try:
            with Session(database.writer) as db, db.begin():
                patient = add_patient(db).id
            issued = reissue_invitation(workstation, actor, patient, "jane@example.org")
            desk.changes.publish(issued.changes)  # what the re-issue dialog does
            qtbot.waitUntil(lambda: len(server.received) == 1, timeout=10_000)
            desk.outbox.refresh()
            qtbot.waitUntil(
                lambda: [r.state.value for r in desk.outbox.model.rows] == ["sent"],
                timeout=5000,
            )
        finally:
            relay.stop()
            guard.close()
            runner.close()
            window.shutdown()


def test_without_a_mail_server_no_relay_runs(
    qtbot: QtBot, database: Database, staff_hash: str
) -> None:
    from console.services.clock import ManualClock
    from console.services.settings.values import ConsoleSettings
    from console.services.staff.session import StaffSession
    from console.services.staff.users import SignedIn
    from console.views.front_desk import FrontDesk
    from tests.services.conftest import NOW, make_workstation

    actor = add_staff(database, StaffRole.FRONT_DESK, staff_hash)
    workstation = make_workstation(database, ManualClock(NOW))
    session = StaffSession.begin(SignedIn(actor, False), NOW)
    window = build_main_window(database, session)
    qtbot.addWidget(window)
    runner = JobRunner()
    guard = guard_session(window, StaffDesk(workstation, session.actor), session, ConsoleSettings())
    desk = FrontDesk(window, StaffDesk(workstation, actor), runner, ConsoleSettings())
    try:
        assert run_mail_relay(desk, guard, workstation, ConsoleSettings()) is None
        assert "not set up" in desk.outbox.status
    finally:
        guard.close()
        runner.close()
        window.shutdown()
