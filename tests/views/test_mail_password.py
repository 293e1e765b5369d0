"""The mail server's password: its presenter driven directly (a stand-in view, calls run
inline or held), then through the real settings dialog offscreen with a real JobRunner."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from keyring.backends import null
from keyring.errors import PasswordSetError
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit
from pytestqt.qtbot import QtBot

from console.models.states import StaffRole
from console.services.permissions import Actor
from console.services.settings.secrets_store import KEYRING_SERVICE, SecretsStore
from console.services.settings.values import ConsoleSettings, save_settings
from console.services.workstation import Workstation
from console.views.mail_password_presenter import (
    NO_SMTP_HOST,
    NOTHING_TYPED,
    STORED_IN_KEYRING,
    TYPED_TWICE_DIFFERENTLY,
    MailPasswordPresenter,
)
from console.views.settings_dialog import SettingsDialog
from console.workers.job_runner import JobRunner
from tests.keyrings import LockedKeyring, MemoryKeyring
from tests.runners import HeldRunner, InlineRunner
from tests.views.test_settings_dialog import open_dialog

MAIL_SERVER = "smtp.riverside-clinic.org"
MAIL_ENTRY = (KEYRING_SERVICE, f"smtp-password:{MAIL_SERVER}")
#: Recognisable, so that a test can look for it wherever it must not be.
MAIL_PASSWORD = "Canary-mail-pw-7310"
#: Keyring calls never reach the database: an administrator needs no row there.
ADMIN = Actor(1, "ada", StaffRole.ADMIN.value)
REFUSED = "Only administrators may change settings; ask one of them."


class FakeMailPasswordView:
    def __init__(self) -> None:
        self.general = ""
        self.status = ""
        self.field_problems: dict[str, str] = {}
        self.asked: list[str] = []
        self.password_state = ""

    def show_problems(self, problems: Mapping[str, str], general: str) -> None:
        self.general = general

    def show_status(self, text: str) -> None:
        self.status = text

    def show_field_problem(self, name: str, problem: str) -> None:
        self.field_problems[name] = problem

    def ask_smtp_password(self, host: str) -> None:
        self.asked.append(host)

    def show_smtp_password_state(self, text: str) -> None:
        self.password_state = text


class SetFailsKeyring(MemoryKeyring):
    """A keyring that refuses to store, quoting the secret as some backends do."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise PasswordSetError(f"could not store {password!r}")


def presenter_for(
    runner: Any = None, keyring: Any = None, actor: Actor = ADMIN
) -> tuple[MailPasswordPresenter, FakeMailPasswordView]:
    view = FakeMailPasswordView()
    secrets = SecretsStore(keyring if keyring is not None else MemoryKeyring())
    presenter = MailPasswordPresenter(actor, runner or InlineRunner(), view, secrets)
    return presenter, view


# --- the presenter -------------------------------------------------------------------------


def test_the_mail_password_is_stored_for_the_server_in_the_form() -> None:
    keyring = MemoryKeyring()
    presenter, view = presenter_for(keyring=keyring)
    presenter.look_up(MAIL_SERVER)
    assert view.password_state == "No password stored yet."

    presenter.ask(f" {MAIL_SERVER} ")
    assert view.asked == [MAIL_SERVER]
    assert presenter.store(MAIL_SERVER, MAIL_PASSWORD, MAIL_PASSWORD) == ""

    assert keyring.entries == {MAIL_ENTRY: MAIL_PASSWORD}
    assert view.status == STORED_IN_KEYRING
    assert view.password_state == f"A password is stored for {MAIL_SERVER}."
    assert not presenter.storing


def test_without_a_mail_server_the_password_is_refused_next_to_the_field() -> None:
    runner = HeldRunner()
    presenter, view = presenter_for(runner)
    presenter.look_up("")
    presenter.ask("   ")
    assert view.field_problems == {"smtp_host": NO_SMTP_HOST}
    assert view.asked == [] and runner.jobs == []
    assert view.password_state == "No mail server entered, so no password to keep."


@pytest.mark.parametrize(
    ("password", "repeated", "problem"),
    [("", "", NOTHING_TYPED), (MAIL_PASSWORD, MAIL_PASSWORD + "x", TYPED_TWICE_DIFFERENTLY)],
)
def test_a_password_typed_wrongly_is_not_sent(password: str, repeated: str, problem: str) -> None:
    runner = HeldRunner()
    presenter, view = presenter_for(runner)
    assert presenter.store(MAIL_SERVER, password, repeated) == problem
    assert runner.jobs == [] and view.status == ""


def test_without_a_secure_keyring_the_password_is_not_stored_and_the_way_is_explained() -> None:
    presenter, view = presenter_for(keyring=null.Keyring())
    presenter.look_up(MAIL_SERVER)
    assert view.password_state.startswith("No secure keyring here")

    assert presenter.store(MAIL_SERVER, MAIL_PASSWORD, MAIL_PASSWORD) == ""
    assert view.status.startswith("This computer has no secure keyring")
    assert "will ask for it each time" in view.status
    assert "To have it remembered" in view.status
    assert STORED_IN_KEYRING not in view.status
    assert MAIL_PASSWORD not in view.status


def test_a_keyring_failure_is_said_without_the_password(caplog: pytest.LogCaptureFixture) -> None:
    keyring = SetFailsKeyring()
    presenter, view = presenter_for(keyring=keyring)
    presenter.store(MAIL_SERVER, MAIL_PASSWORD, MAIL_PASSWORD)
    assert view.status.startswith(
        "The mail server's password could not be stored in the system keyring (PasswordSetError)"
    )
    assert keyring.entries == {}
    assert MAIL_PASSWORD not in view.status + view.password_state + caplog.text


def test_a_locked_keyring_is_said_where_the_stored_state_goes() -> None:
    presenter, view = presenter_for(keyring=LockedKeyring())
    presenter.look_up(MAIL_SERVER)
    assert "The keyring is locked" in view.password_state


def test_keyring_calls_run_on_the_worker_one_at_a_time() -> None:
    keyring = MemoryKeyring()
    keyring.entries[(KEYRING_SERVICE, "smtp-password:smtp.other.org")] = "stored before"
    runner = HeldRunner()
    presenter, view = presenter_for(runner, keyring)
    presenter.look_up(MAIL_SERVER)
    assert len(runner.jobs) == 1  # the stored-password lookup, held
    presenter.look_up("smtp.other.org")  # waits for the lookup under way
    presenter.store(MAIL_SERVER, MAIL_PASSWORD, MAIL_PASSWORD)  # waits too
    assert len(runner.jobs) == 1 and presenter.storing
    assert view.status == "Storing the mail server's password in the keyring…"
    runner.run_all()
    assert view.password_state == "No password stored yet."
    assert len(runner.jobs) == 1  # then the password typed meanwhile
    assert MAIL_ENTRY not in keyring.entries  # nothing on the calling thread
    runner.run_all()
    assert keyring.entries[MAIL_ENTRY] == MAIL_PASSWORD
    assert view.status == STORED_IN_KEYRING and not presenter.storing
    assert view.password_state == f"A password is stored for {MAIL_SERVER}."
    assert len(runner.jobs) == 1  # then the server changed meanwhile
    runner.run_all()
    assert view.password_state == "A password is stored for smtp.other.org."
    assert runner.jobs == []


@pytest.mark.parametrize("role", [StaffRole.FRONT_DESK, StaffRole.MANAGER])
def test_a_front_desk_or_manager_cannot_store_a_mail_password(role: StaffRole) -> None:
    runner = HeldRunner()
    presenter, view = presenter_for(runner, actor=Actor(2, "sam", role.value))
    presenter.look_up(MAIL_SERVER)
    presenter.ask(MAIL_SERVER)
    assert presenter.store(MAIL_SERVER, MAIL_PASSWORD, MAIL_PASSWORD) == ""
    assert view.general == REFUSED
    assert runner.jobs == [] and view.asked == [] and view.password_state == ""


# --- through the settings dialog -----------------------------------------------------------


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    return tmp_path / "config" / "settings.toml"


def type_mail_password(qtbot: QtBot, dialog: SettingsDialog, password: str) -> None:
    """Click "Mail server password…" and type ``password`` twice into the form it opens."""
    dialog.smtp_password_button.click()
    form = dialog.password_form
    assert form is not None and form.isVisible()
    for field in (form.password, form.repeated):
        assert field.echoMode() == QLineEdit.EchoMode.Password
        qtbot.keyClicks(field, password)
    form.store_button.click()
    assert not form.isVisible() and dialog.password_form is None


def texts_on_screen() -> str:
    """Every label's and every text field's text, in every widget there is."""
    texts = [w.text() for w in QApplication.allWidgets() if isinstance(w, QLabel | QLineEdit)]
    return "\n".join(texts)


def test_dialog_stores_the_mail_password_on_the_worker(
    qtbot: QtBot, desk: Workstation, runner: JobRunner, settings_file: Path
) -> None:
    save_settings(settings_file, ConsoleSettings(smtp_host=MAIL_SERVER))
    keyring = MemoryKeyring()
    dialog = open_dialog(qtbot, desk, ADMIN, runner, settings_file, keyring)
    dialog.show()
    state = dialog.smtp_password_state
    qtbot.waitUntil(lambda: state.text() == "No password stored yet.", timeout=5000)

    type_mail_password(qtbot, dialog, MAIL_PASSWORD)
    assert runner.pending_jobs == 1  # handed to the worker, not done on the GUI thread
    assert dialog.presenter.busy
    qtbot.waitUntil(lambda: dialog.status_label.text() == STORED_IN_KEYRING, timeout=5000)

    assert keyring.entries == {MAIL_ENTRY: MAIL_PASSWORD}
    assert state.text() == f"A password is stored for {MAIL_SERVER}."
    assert MAIL_PASSWORD not in texts_on_screen()
    assert not settings_file.read_text(encoding="utf-8").count(MAIL_PASSWORD)


def test_dialog_refuses_the_mail_password_without_a_server(
    qtbot: QtBot, desk: Workstation, runner: JobRunner, settings_file: Path
) -> None:
    dialog = open_dialog(qtbot, desk, ADMIN, runner, settings_file)
    dialog.show()
    dialog.smtp_password_button.click()
    problem = dialog.problem_labels["smtp_host"]
    assert problem.isVisible() and problem.text() == NO_SMTP_HOST
    assert dialog.password_form is None
    assert dialog.focusWidget() is dialog.editors["smtp_host"]


def test_dialog_without_a_secure_keyring_explains_and_stores_nothing(
    qtbot: QtBot, desk: Workstation, runner: JobRunner, settings_file: Path
) -> None:
    save_settings(settings_file, ConsoleSettings(smtp_host=MAIL_SERVER))
    dialog = open_dialog(qtbot, desk, ADMIN, runner, settings_file, null.Keyring())
    dialog.show()
    type_mail_password(qtbot, dialog, MAIL_PASSWORD)
    status = dialog.status_label
    qtbot.waitUntil(lambda: "no secure keyring" in status.text(), timeout=5000)
    assert "the console will ask for it each time" in status.text()
    assert dialog.smtp_password_state.text().startswith("No secure keyring here")
    assert MAIL_PASSWORD not in texts_on_screen()


def test_dialog_says_whether_a_password_is_stored_for_the_server_typed(
    qtbot: QtBot, desk: Workstation, runner: JobRunner, settings_file: Path
) -> None:
    keyring = MemoryKeyring()
    keyring.entries[MAIL_ENTRY] = MAIL_PASSWORD
    dialog = open_dialog(qtbot, desk, ADMIN, runner, settings_file, keyring)
    state = dialog.smtp_password_state
    qtbot.waitUntil(lambda: state.text().startswith("No mail server entered"), timeout=5000)
    host = dialog.editors["smtp_host"]
    assert isinstance(host, QLineEdit)
    qtbot.keyClicks(host, MAIL_SERVER.upper())
    assert runner.pending_jobs == 0  # not at each key
    host.editingFinished.emit()
    qtbot.waitUntil(lambda: state.text().startswith("A password is stored"), timeout=5000)
    assert state.text() == f"A password is stored for {MAIL_SERVER.upper()}."
