"""The settings dialog: its presenter driven directly (a stand-in view, calls run inline),
then the real dialog offscreen over a real SQLite file and a real JobRunner."""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QCheckBox, QGroupBox, QLabel, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import update
from sqlalchemy.orm import Session

from console.models.schema import StaffUser
from console.models.states import StaffRole
from console.services.desk import StaffDesk
from console.services.permissions import Actor, NotAllowed
from console.services.settings.secrets_store import SecretsStore
from console.services.settings.values import ConsoleSettings, SmtpSecurity, save_settings
from console.services.workstation import Workstation
from console.views.settings_dialog import KEYRING_NOTE, SettingsDialog
from console.views.settings_presenter import SHOWN_FIELDS, SettingsPresenter
from console.workers.job_runner import JobRunner
from tests.keyrings import MemoryKeyring
from tests.runners import HeldRunner, InlineRunner
from tests.services.conftest import NOW, add_staff, make_workstation, staff_hash  # noqa: F401

REFUSED = "Only administrators may change settings; ask one of them."


class FakeSettingsView:
    def __init__(self) -> None:
        self.settings: ConsoleSettings | None = None
        self.problems: Mapping[str, str] = {}
        self.general = ""
        self.status = ""
        self.busy = False
        self.saved: list[ConsoleSettings] = []
        self.field_problems: dict[str, str] = {}
        self.asked: list[str] = []
        self.password_state = ""

    def show_settings(self, settings: ConsoleSettings) -> None:
        self.settings = settings

    def show_problems(self, problems: Mapping[str, str], general: str) -> None:
        self.problems, self.general = dict(problems), general

    def show_status(self, text: str) -> None:
        self.status = text

    def set_busy(self, busy: bool) -> None:
        self.busy = busy

    def settings_saved(self, settings: ConsoleSettings) -> None:
        self.saved.append(settings)

    def show_field_problem(self, name: str, problem: str) -> None:
        self.field_problems[name] = problem

    def ask_smtp_password(self, host: str) -> None:
        self.asked.append(host)

    def show_smtp_password_state(self, text: str) -> None:
        self.password_state = text


@pytest.fixture
def admin(desk: Workstation, staff_hash: str) -> Actor:  # noqa: F811
    return add_staff(desk.database, StaffRole.ADMIN, staff_hash, "ada")


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    return tmp_path / "config" / "settings.toml"


@pytest.fixture
def runner() -> Iterator[JobRunner]:
    runner = JobRunner()
    yield runner
    runner.close()


def form_of(settings: ConsoleSettings) -> dict[str, object]:
    """The form's values for ``settings``, as the dialog hands them over."""
    values: dict[str, object] = {name: getattr(settings, name) for name in SHOWN_FIELDS}
    key_file = values["audit_key_file"]
    values["audit_key_file"] = "" if key_file is None else str(key_file)
    return values


def presenter_for(
    desk: Workstation,
    actor: Actor,
    path: Path,
    runner: Any = None,
    keyring: Any = None,
) -> tuple[SettingsPresenter, FakeSettingsView]:
    view = FakeSettingsView()
    secrets = SecretsStore(keyring if keyring is not None else MemoryKeyring())
    presenter = SettingsPresenter(
        StaffDesk(desk, actor), runner or InlineRunner(), view, path, secrets
    )
    return presenter, view


def file_keys(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


# --- the presenter -------------------------------------------------------------------------


def test_no_file_shows_the_defaults(desk: Workstation, admin: Actor, settings_file: Path) -> None:
    presenter, view = presenter_for(desk, admin, settings_file)
    presenter.load()
    assert view.settings == ConsoleSettings()
    assert (view.general, view.status, view.busy) == ("", "", False)


def test_save_reports_how_many_settings_changed(
    desk: Workstation, admin: Actor, settings_file: Path
) -> None:
    presenter, view = presenter_for(desk, admin, settings_file)
    presenter.load()
    form = form_of(ConsoleSettings())
    form.update(clinic_name="  Riverside Family Practice ", idle_minutes=5)
    presenter.save(form)

    assert view.status == "Saved: 2 settings changed."
    assert view.problems == {} and view.general == ""
    saved = file_keys(settings_file)
    assert saved["clinic"]["name"] == "Riverside Family Practice"
    assert saved["session"]["idle_minutes"] == 5
    assert view.saved == [presenter.loaded]
    assert presenter.loaded is not None and presenter.loaded.idle_minutes == 5

    form["smtp_port"] = 465
    presenter.save(form)
    assert view.status == "Saved: 1 setting changed."
    presenter.save(form)
    assert view.status == "Nothing to save: no setting was changed."
    assert len(view.saved) == 2


def test_each_problem_is_shown_next_to_its_field_and_nothing_is_saved(
    desk: Workstation, admin: Actor, settings_file: Path
) -> None:
    presenter, view = presenter_for(desk, admin, settings_file)
    presenter.load()
    form = form_of(ConsoleSettings())
    form.update(
        portal_base_url="http://portal.example.org",
        lockout_minutes=0,
        smtp_sender="not an address",
        audit_key_file="keys/audit.key",
    )
    presenter.save(form)

    assert set(view.problems) == {
        "portal_base_url",
        "lockout_minutes",
        "smtp_sender",
        "audit_key_file",
    }
    assert view.problems["lockout_minutes"] == "Must be from 1 to 1440 minutes."
    assert view.problems["portal_base_url"].startswith("Must start with https://")
    assert view.status == "Not saved: correct the settings marked in red."
    assert not settings_file.exists()
    assert view.saved == []


def test_settings_the_form_does_not_show_keep_their_value(
    desk: Workstation, admin: Actor, settings_file: Path
) -> None:
    save_settings(settings_file, ConsoleSettings(password_bcrypt_cost=13, reset_email_minutes=30))
    presenter, view = presenter_for(desk, admin, settings_file)
    presenter.load()
    assert view.settings is not None and view.settings.password_bcrypt_cost == 13
    form = form_of(view.settings)
    form["clinic_phone"] = "(555) 010-2040"
    presenter.save(form)
    saved = file_keys(settings_file)
    assert saved["passwords"]["bcrypt_cost"] == 13
    assert saved["login"]["reset_email_minutes"] == 30
    assert saved["clinic"]["phone"] == "(555) 010-2040"


def test_a_damaged_file_shows_the_defaults_and_saving_replaces_it(
    desk: Workstation, admin: Actor, settings_file: Path
) -> None:
    settings_file.parent.mkdir(parents=True)
    settings_file.write_text("[session]\nidle_minutes = 'soon'\n", encoding="utf-8")
    presenter, view = presenter_for(desk, admin, settings_file)
    presenter.load()
    assert view.settings == ConsoleSettings()
    assert "session.idle_minutes must be a whole number" in view.general
    assert "saving replaces the file" in view.general

    presenter.save(form_of(ConsoleSettings()))
    assert view.status.startswith("Saved:")
    assert file_keys(settings_file)["session"]["idle_minutes"] == ConsoleSettings().idle_minutes


@pytest.mark.parametrize("role", [StaffRole.FRONT_DESK, StaffRole.MANAGER])
def test_a_front_desk_or_manager_presenter_gets_the_refusal(
    desk: Workstation,
    staff_hash: str,  # noqa: F811
    settings_file: Path,
    role: StaffRole,
) -> None:
    actor = add_staff(desk.database, role, staff_hash)
    runner = HeldRunner()
    presenter, view = presenter_for(desk, actor, settings_file, runner)
    assert presenter.refusal == REFUSED
    presenter.load()
    presenter.save(form_of(ConsoleSettings(idle_minutes=3)))
    assert view.general == REFUSED
    assert runner.jobs == [] and view.settings is None
    assert not settings_file.exists()


def test_an_administrator_disabled_meanwhile_is_refused_by_the_service(
    desk: Workstation, admin: Actor, settings_file: Path
) -> None:
    presenter, view = presenter_for(desk, admin, settings_file)
    presenter.load()
    with Session(desk.database.writer) as session, session.begin():
        session.execute(update(StaffUser).where(StaffUser.id == admin.id).values(disabled=True))
    presenter.save(form_of(ConsoleSettings(idle_minutes=3)))
    assert "has been disabled" in view.general
    assert view.status == "Not saved."
    assert view.busy is False
    assert not settings_file.exists()


def test_a_save_waits_for_its_worker_and_cannot_be_sent_twice(
    desk: Workstation, admin: Actor, settings_file: Path
) -> None:
    runner = HeldRunner()
    presenter, view = presenter_for(desk, admin, settings_file, runner)
    presenter.load()
    runner.run_all()
    presenter.save(form_of(ConsoleSettings(idle_minutes=3)))
    presenter.save(form_of(ConsoleSettings(idle_minutes=4)))
    assert len(runner.jobs) == 1 and presenter.busy and view.busy
    assert view.status == "Saving…"
    assert not settings_file.exists()  # nothing on the calling thread
    runner.run_all()
    assert view.status == "Saved: 1 setting changed."
    assert file_keys(settings_file)["session"]["idle_minutes"] == 3


def test_a_closed_presenter_delivers_nothing(
    desk: Workstation, admin: Actor, settings_file: Path
) -> None:
    runner = HeldRunner()
    presenter, view = presenter_for(desk, admin, settings_file, runner)
    presenter.load()
    presenter.close()
    runner.run_all()
    assert view.settings is None


# --- the dialog ----------------------------------------------------------------------------


def open_dialog(
    qtbot: QtBot,
    desk: Workstation,
    actor: Actor,
    runner: JobRunner,
    path: Path,
    keyring: Any = None,
) -> SettingsDialog:
    secrets = SecretsStore(keyring if keyring is not None else MemoryKeyring())
    dialog = SettingsDialog(StaffDesk(desk, actor), runner, path=path, secrets=secrets)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.presenter.loaded is not None, timeout=5000)
    return dialog


def test_dialog_shows_the_file_in_groups(
    qtbot: QtBot, desk: Workstation, admin: Actor, runner: JobRunner, settings_file: Path
) -> None:
    on_file = ConsoleSettings(
        clinic_name="Riverside Family Practice",
        smtp_security=SmtpSecurity.TLS,
        smtp_port=465,
        password_require_symbol=True,
        audit_key_file=Path("/etc/portal-console/audit.key"),
    )
    save_settings(settings_file, on_file)
    dialog = open_dialog(qtbot, desk, admin, runner, settings_file)
    assert dialog.windowTitle() == "Settings"
    assert set(dialog.editors) == set(SHOWN_FIELDS)
    assert dialog.form_values() == form_of(on_file)
    note = dialog.findChild(QLabel, "smtpPasswordNote")
    assert note is not None and note.text() == KEYRING_NOTE
    assert "keyring" in note.text()
    assert all(not label.isVisible() for label in dialog.problem_labels.values())


def test_the_form_has_a_heading_bold_group_titles_and_straight_columns(
    qtbot: QtBot, desk: Workstation, admin: Actor, runner: JobRunner, settings_file: Path
) -> None:
    dialog = open_dialog(qtbot, desk, admin, runner, settings_file)
    dialog.show()
    qtbot.waitExposed(dialog)
    heading = dialog.findChild(QLabel, "settingsHeading")
    assert heading is not None and heading.text() == "Console settings"
    groups = dialog.findChildren(QGroupBox)
    assert groups and all(box.font().weight() >= QFont.Weight.DemiBold for box in groups)
    assert all(editor.font().weight() == QFont.Weight.Normal for editor in dialog.editors.values())

    # Every field starts at one x in the left column and one in the right, whichever group
    # it is in (once the labels' shared widths, set on showing, are laid out).
    def starts() -> set[int]:
        return {editor.mapTo(dialog, QPoint(0, 0)).x() for editor in dialog.editors.values()}

    qtbot.waitUntil(lambda: len(starts()) == 2, timeout=2000)


def test_every_control_is_named_and_reachable_by_keyboard(
    qtbot: QtBot, desk: Workstation, admin: Actor, runner: JobRunner, settings_file: Path
) -> None:
    dialog = open_dialog(qtbot, desk, admin, runner, settings_file)
    controls = [*dialog.editors.values(), dialog.browse_button, dialog.save_button]
    controls.append(dialog.smtp_password_button)
    controls.append(dialog.close_button)
    for control in controls:
        assert control.accessibleName(), control.objectName()
    for label in dialog.problem_labels.values():
        assert label.accessibleName().startswith("Problem with ")

    chain: list[QWidget] = []
    widget: QWidget = dialog.editors[SHOWN_FIELDS[0]]
    for _ in range(200):
        chain.append(widget)
        widget = widget.nextInFocusChain()
        if widget is chain[0]:
            break
    reachable = [w for w in chain if w.focusPolicy() & w.focusPolicy().TabFocus]
    for control in controls:
        assert control in reachable, control.accessibleName()
    # The keyboard visits the fields in the order they are laid out.
    order = [reachable.index(dialog.editors[name]) for name in SHOWN_FIELDS]
    assert order == sorted(order)


def test_dialog_save_runs_on_the_worker_and_says_what_changed(
    qtbot: QtBot, desk: Workstation, admin: Actor, runner: JobRunner, settings_file: Path
) -> None:
    dialog = open_dialog(qtbot, desk, admin, runner, settings_file)
    saved: list[ConsoleSettings] = []
    dialog.saved.connect(saved.append)
    clinic = dialog.editors["clinic_name"]
    qtbot.keyClicks(clinic, "Riverside Family Practice")
    verify = dialog.editors["smtp_verify_certificate"]
    assert isinstance(verify, QCheckBox)
    verify.setChecked(False)

    dialog.save_button.click()
    assert runner.pending_jobs == 1  # handed to the worker, not done on the GUI thread
    assert not dialog.save_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.status_label.text().startswith("Saved"), timeout=5000)

    assert dialog.status_label.text() == "Saved: 2 settings changed."
    assert dialog.save_button.isEnabled()
    assert [s.clinic_name for s in saved] == ["Riverside Family Practice"]
    assert file_keys(settings_file)["smtp"]["verify_certificate"] is False


def test_dialog_shows_each_problem_under_its_field(
    qtbot: QtBot, desk: Workstation, admin: Actor, runner: JobRunner, settings_file: Path
) -> None:
    dialog = open_dialog(qtbot, desk, admin, runner, settings_file)
    dialog.show()
    qtbot.keyClicks(dialog.editors["clinic_phone"], "call us")
    dialog.editors["idle_minutes"].setValue(500)  # type: ignore[attr-defined]
    dialog.save_button.click()

    shown = {n for n, label in dialog.problem_labels.items() if label.isVisible()}
    assert shown == {"clinic_phone", "idle_minutes"}
    assert dialog.problem_labels["idle_minutes"].text() == "Must be from 1 to 120 minutes."
    assert dialog.problem_labels["clinic_phone"].text().startswith("Must be a phone number")
    assert dialog.status_label.text() == "Not saved: correct the settings marked in red."
    assert dialog.focusWidget() is dialog.editors["clinic_phone"]
    assert not settings_file.exists()

    dialog.editors["clinic_phone"].clear()  # type: ignore[attr-defined]
    dialog.editors["idle_minutes"].setValue(20)  # type: ignore[attr-defined]
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.status_label.text().startswith("Saved"), timeout=5000)
    assert not any(label.isVisible() for label in dialog.problem_labels.values())


def test_closing_while_saving_waits_for_the_save(
    qtbot: QtBot, desk: Workstation, admin: Actor, runner: JobRunner, settings_file: Path
) -> None:
    dialog = open_dialog(qtbot, desk, admin, runner, settings_file)
    dialog.show()
    dialog.editors["session_hours"].setValue(8)  # type: ignore[attr-defined]
    dialog.save_button.click()
    dialog.reject()
    assert dialog.isVisible()
    qtbot.waitUntil(lambda: not dialog.presenter.busy, timeout=5000)
    with qtbot.waitSignal(dialog.finished, timeout=1000):
        dialog.close_button.click()


@pytest.mark.parametrize("role", [StaffRole.FRONT_DESK, StaffRole.MANAGER])
def test_dialog_does_not_open_for_a_role_without_the_permission(
    desk: Workstation,
    staff_hash: str,  # noqa: F811
    runner: JobRunner,
    settings_file: Path,
    role: StaffRole,
) -> None:
    actor = add_staff(desk.database, role, staff_hash)
    with pytest.raises(NotAllowed, match=REFUSED):
        SettingsDialog(StaffDesk(desk, actor), runner, path=settings_file)
    assert runner.pending_jobs == 0


def test_form_values_round_trip(
    qtbot: QtBot, desk: Workstation, admin: Actor, runner: JobRunner, settings_file: Path
) -> None:
    dialog = open_dialog(qtbot, desk, admin, runner, settings_file)
    wanted = dataclasses.replace(
        ConsoleSettings(),
        portal_base_url="https://portal.example.org",
        smtp_security=SmtpSecurity.NONE,
        audit_key_file=Path("/srv/audit.key"),
        max_failures=7,
    )
    dialog.show_settings(wanted)
    assert dialog.form_values() == form_of(wanted)


def test_once_loaded_the_focus_is_on_the_first_field_and_enter_saves(
    qtbot: QtBot, desk: Workstation, admin: Actor, settings_file: Path
) -> None:
    runner = HeldRunner()
    secrets = SecretsStore(MemoryKeyring())
    dialog = SettingsDialog(StaffDesk(desk, admin), runner, path=settings_file, secrets=secrets)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(lambda: dialog.focusWidget() is not None, timeout=5000)
    # While loading, the form and Save are disabled: the focus went on to Close, which
    # became the default button, so that Enter would close the dialog.
    assert not dialog.save_button.isEnabled()
    assert dialog.focusWidget() is dialog.close_button
    runner.run_all()  # the settings, then whether the mail password is stored
    runner.run_all()

    first = dialog.editors[SHOWN_FIELDS[0]]
    assert dialog.focusWidget() is first
    assert dialog.save_button.isDefault() and not dialog.close_button.isDefault()
    qtbot.keyClick(first, Qt.Key.Key_Return)
    assert dialog.isVisible()
    assert dialog.status_label.text() == "Saving…" and len(runner.jobs) == 1
