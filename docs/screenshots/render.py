"""Render every screenshot that README.md and docs/front-desk.md show.

    .venv/bin/python docs/screenshots/render.py [NAME ...]

NAME is a screenshot's file name, with or without ".png" (``render.py worklist
revoke-dialog``); without one, all of them are rendered into this folder.

Each screenshot starts from a fresh copy of one small demo clinic
(``console.services.demo.clinic``, a fixed seed and date) in a temporary folder, a workstation
whose clock stands still, and a demo staff user signed in with their password. The windows
and dialogs are the console's own, composed as ``console.app`` composes them, opened with
``show()`` / ``open()`` (never ``exec()``) and driven offscreen, as the person at the desk
would, until their workers have answered; then they are grabbed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from unittest import mock

# Before Qt is imported: no display, and the same dates, times and numbers wherever this runs.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["LC_ALL"] = "C.UTF-8"
os.environ["TZ"] = "UTC"
if hasattr(time, "tzset"):
    time.tzset()

import keyring
from keyring.backend import KeyringBackend
from PySide6.QtCore import QCoreApplication, QEvent, QLocale, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.app import build_main_window, create_application, guard_session, offer_administration
from console.models.database import open_database
from console.models.schema import Patient, PortalAccount
from console.models.states import InvitationState
from console.models.worklist import (
    KEEP,
    LINK_TO_GUARDIAN,
    REVOKE_AND_REINVITE,
    ClusterAccount,
    ClusterCase,
)
from console.services.accounts.actions import RevokeReason, revoke_access
from console.services.accounts.worklist import shared_email_worklist
from console.services.audit.key import load_audit_key
from console.services.audit.trail import AuditTrail
from console.services.clock import ManualClock
from console.services.demo.clinic import DEMO_STAFF_PASSWORD, fill_demo_database
from console.services.desk import Desk, StaffDesk
from console.services.imports import run as import_run
from console.services.imports import source as import_source
from console.services.imports.columns import Field
from console.services.imports.source import Entry
from console.services.invitations import issuing as invitation_service
from console.services.mail.relay import RelayReport, send_due
from console.services.mail.smtp import SmtpTransport
from console.services.mail.templates import branding_from
from console.services.permissions import Actor
from console.services.settings.values import ConsoleSettings, SmtpSecurity, save_settings
from console.services.staff.session import StaffSession
from console.services.staff.users import sign_in
from console.services.workstation import Workstation
from console.views.address_verdict import AddressState
from console.views.front_desk import FrontDesk
from console.views.import_wizard import ImportWizard
from console.views.link_dialog import LinkDialog
from console.views.main_window import MainWindow
from console.views.reissue_dialog import ReissueDialog
from console.views.revoke_dialog import RevokeDialog
from console.views.session_guard import SessionGuard
from console.views.settings_dialog import SettingsDialog
from console.views.sign_in import SignInDialog, Stage
from console.views.staff_dialog import StaffDialog

HERE = Path(__file__).resolve().parent
PATIENTS = 10_000
SEED = 7
TODAY = dt.date(2026, 11, 2)  # the demo clinic's "today"
NOW = dt.datetime(2026, 11, 2, 14, 30, tzinfo=dt.UTC)  # the workstation's clock, standing still
#: The PIN the re-issue shows (it is random; a fixed one keeps the picture the same).
SHOWN_PIN = 482_916
WINDOW_SIZE = (1280, 800)
#: Finds Williams, Wilson, William… in this clinic: invitations in every state, one screenful.
INVITATIONS_SEARCH = "Wil"
FRONT_DESK = "demo_front_desk"
MANAGER = "demo_manager"
ADMIN = "demo_admin"
#: The EHR's export the import screenshots read (in each screenshot's folder).
EXPORT_FILE = "riverside-ehr-export.csv"
#: Opened relative to each screenshot's folder, so the status bar shows just this name.
DATABASE = "demo-clinic.db"
CLINIC_SETTINGS = ConsoleSettings(
    portal_base_url="https://portal.example.org",
    clinic_name="Riverside Family Practice",
    clinic_phone="(555) 010-2040",
    smtp_host="smtp.example.org",
    smtp_username="portal@example.org",
    smtp_sender="portal@example.org",
)

_Dialog = TypeVar("_Dialog", bound=QWidget)


class DemoKeyring(KeyringBackend):
    """A secure keyring that keeps its entries in memory: the render neither reads nor
    writes this computer's own keyring."""

    priority = 1  # type: ignore[assignment]
    viable = False  # type: ignore[assignment]  # never chosen by keyring on its own

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop((service, username), None)


# --- waiting ----------------------------------------------------------------------------------


def wait_until(done: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    """Process events until ``done()``: a worker's answer has arrived and been shown."""
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        QTest.qWait(10)
    QTest.qWait(50)  # layouts and paints that the answer started


def rows_shown(window: MainWindow) -> bool:
    """Whether the account list has read every row in its viewport."""
    table, model = window.table, window.model
    if model.is_loading or model.rowCount() == 0:
        return False
    first = table.rowAt(0)
    last = table.rowAt(table.viewport().height() - 1)
    last = model.rowCount() - 1 if last < 0 else last
    return all(model.account_row(r) is not None for r in range(first, last + 1))


def opened(window: MainWindow, kind: type[_Dialog]) -> _Dialog:
    """The dialog of ``kind`` that an action opened on ``window``."""
    dialog = window.findChild(kind)
    if dialog is None or not dialog.isVisible():
        raise RuntimeError(f"no {kind.__name__} opened")
    return dialog


# --- the demo clinic and a signed-in console --------------------------------------------------


@dataclass
class Console:
    """The main window of one signed-in staff user, and what ``console.app`` wires to it."""

    window: MainWindow
    desk: FrontDesk
    guard: SessionGuard
    workstation: Workstation
    actor: Actor

    def select_row(self, row: int) -> None:
        """Select the list's ``row`` and wait for its details beside the list."""
        self.window.table.selectRow(row)
        account = self.window.model.account_row(row)
        assert account is not None
        self._wait_for_details(account.account_id)

    def select_account(self, account: ClusterAccount) -> None:
        """Search for ``account`` as the front desk would, select it, wait for its details."""
        window, model = self.window, self.window.model
        window.search_field.setText(account.username)

        def row() -> int | None:
            if model.is_loading:
                return None
            rows = (model.account_row(r) for r in range(model.rowCount()))
            ids = [found.account_id if found else None for found in rows]
            return ids.index(account.account_id) if account.account_id in ids else None

        wait_until(lambda: row() is not None, f"{account.username} in the list")
        self.select_row(row() or 0)

    def shared_emails(self) -> list[ClusterCase]:
        """The shared-e-mail clusters, in the worklist's order."""
        return shared_email_worklist(self.workstation, self.actor)

    def _wait_for_details(self, account_id: int) -> None:
        panel = self.desk.panel
        wait_until(
            lambda: (
                panel.details is not None
                and panel.details.account_id == account_id
                and not panel.busy
            ),
            "the account's details",
        )


class Demo:
    """The demo clinic, copied afresh for each screenshot, and what that screenshot opened
    (``close()`` closes it)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.template = folder / "template.db"
        self.config = folder / "settings.toml"
        self.settings = CLINIC_SETTINGS
        self._closing: list[Callable[[], None]] = []
        save_settings(self.config, self.settings)
        database = open_database(f"sqlite:///{self.template}")
        fill_demo_database(database, patients=PATIENTS, seed=SEED, today=TODAY)
        database.dispose()

    def open_clinic(self, name: str) -> Workstation:
        """A fresh copy of the clinic (in a folder of its own, which becomes the current
        one) and a workstation on it whose clock stands at NOW."""
        here = self.folder / name
        here.mkdir()
        shutil.copyfile(self.template, here / DATABASE)
        os.chdir(here)
        database = open_database(f"sqlite:///{DATABASE}")
        self._closing.append(database.dispose)
        clock = ManualClock(NOW)
        audit = AuditTrail(
            load_audit_key(database, environ={}), workstation="reception-1", clock=clock
        )
        return Workstation(database, audit, clock, self.settings.to_rules())

    def console(self, name: str, username: str) -> Console:
        """The main window for ``username``, signed in with the demo password, composed as
        ``console.app.run_gui`` does; shown with its first page of accounts read."""
        workstation = self.open_clinic(name)
        session = StaffSession.begin(
            sign_in(workstation, username, DEMO_STAFF_PASSWORD), workstation.clock.now()
        )
        window = build_main_window(workstation.database, session)
        staff_desk = StaffDesk(workstation, session.actor)
        guard = guard_session(window, staff_desk, session, self.settings)
        runner = offer_administration(window, staff_desk, self.config)
        desk = FrontDesk(window, staff_desk, runner, self.settings)
        guard.locked.connect(desk.clear)
        guard.unlocked.connect(desk.reopen)
        self._closing += [window.deleteLater, window.shutdown, runner.close, guard.close]
        window.resize(*WINDOW_SIZE)
        window.show()
        wait_until(lambda: rows_shown(window), "the first page of accounts")
        return Console(window, desk, guard, workstation, session.actor)

    def on_close(self, step: Callable[[], None]) -> None:
        self._closing.append(step)

    def close(self) -> None:
        """Close what the last screenshot opened, newest first."""
        while self._closing:
            self._closing.pop()()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        QCoreApplication.processEvents()
        os.chdir(self.folder)


# --- choosing the patients shown --------------------------------------------------------------


def two_adults(console: Console) -> tuple[ClusterAccount, ClusterAccount]:
    """Of the addresses shared by just two adults, the one where the adult to re-invite
    leaves the most behind: (the one who keeps it, the one re-invited)."""
    pairs = [
        (_account(case, KEEP), _account(case, REVOKE_AND_REINVITE))
        for case in console.shared_emails()
        if sorted(step.kind for step in case.steps) == [KEEP, REVOKE_AND_REINVITE]
    ]
    return max(pairs, key=lambda pair: pair[1].message_count + pair[1].intake_form_count)


def family(console: Console) -> ClusterCase:
    """The first address shared by a family that needs every kind of step."""
    for case in console.shared_emails():
        if {step.kind for step in case.steps} == {KEEP, LINK_TO_GUARDIAN, REVOKE_AND_REINVITE}:
            return case
    raise LookupError("the demo clinic has no family needing every kind of step")


def _account(case: ClusterCase, kind: str) -> ClusterAccount:
    step = next(step for step in case.steps if step.kind == kind)
    return next(a for a in case.accounts if a.account_id == step.account_id)


def own_address(account: ClusterAccount) -> str:
    """A new address of the patient's own, for the re-issued invitation."""
    return f"{account.first_name}.{account.last_name}.{account.birth_date:%y}@example.net".lower()


# --- the screenshots, one function each -------------------------------------------------------


def sign_in_dialog(demo: Demo) -> QWidget:
    """Signing in: the username and password typed."""
    dialog = SignInDialog(Desk(demo.open_clinic("sign-in")), first_run=False)
    demo.on_close(dialog.deleteLater)
    demo.on_close(dialog.reject)
    dialog.show()
    wait_until(lambda: dialog.presenter.stage is Stage.SIGN_IN, "the sign-in form")
    QTest.keyClicks(dialog.username, FRONT_DESK)
    QTest.keyClicks(dialog.password, DEMO_STAFF_PASSWORD)
    return dialog


def main_window(demo: Demo) -> QWidget:
    """The account list, an account selected, its details beside the list."""
    console = demo.console("main-window", FRONT_DESK)
    console.select_row(3)
    return console.window


def shared_emails_only(demo: Demo) -> QWidget:
    """ "Shared e-mail only" ticked, a shared account selected."""
    console = demo.console("shared-emails-only", FRONT_DESK)
    console.window.shared_only.setChecked(True)
    wait_until(
        lambda: console.window.model.account_filter.shared_only and rows_shown(console.window),
        "the shared-e-mail accounts",
    )
    console.select_row(1)
    return console.window


def worklist(demo: Demo) -> QWidget:
    """The shared-e-mail worklist (Ctrl+2), a family's address expanded and selected."""
    console = demo.console("worklist", FRONT_DESK)
    case = family(console)
    view = console.desk.worklist
    console.window.navigation.setCurrentRow(1)
    wait_until(lambda: view.model.rowCount() > 0 and not view.busy, "the worklist")
    row = view.model.row_of(case.email_key)
    assert row is not None
    index = view.model.index(row, 0)
    view.tree.expand(index)
    view.tree.setCurrentIndex(index)
    view.tree.scrollTo(index)
    wait_until(lambda: view.detail.case == case, "the proposed resolution")
    return console.window


def invitations(demo: Demo) -> QWidget:
    """Invitations (Ctrl+3), searched for a name: every state, newest first; a pending one
    selected."""
    console = demo.console("invitations", FRONT_DESK)
    view = console.desk.invitations
    console.window.navigation.setCurrentRow(2)
    wait_until(lambda: view.footer.startswith("Showing") and not view.busy, "the invitations")
    pages: list[int] = []
    view.loaded.connect(pages.append)
    QTest.keyClicks(view.search, INVITATIONS_SEARCH)
    QTest.keyClick(view.search, Qt.Key.Key_Return)
    wait_until(lambda: bool(pages) and not view.busy, "the invitations found")
    shown = [view.model.row_at(view.model.index(r, 0)) for r in range(view.model.rowCount())]
    pending = [r for r, row in enumerate(shown) if row and row.state is InvitationState.PENDING]
    view.table.selectRow(pending[0] if pending else 0)
    return console.window


def revoke_dialog(demo: Demo) -> QWidget:
    """Revoke access for the second adult on a shared address: what stays behind, whom it
    unblocks, the reason chosen, a note and the confirmation."""
    console = demo.console("revoke-dialog", FRONT_DESK)
    keeper, leaving = two_adults(console)
    console.select_account(leaving)
    console.window.actions_by_id["revoke"].trigger()
    dialog = opened(console.window, RevokeDialog)
    wait_until(lambda: dialog.presenter.facts is not None, "what stays behind")
    dialog.reason.setCurrentIndex(dialog.reason.findData(RevokeReason.SHARED_EMAIL.value))
    dialog.note.setPlainText(
        f"{keeper.full_name} keeps the address; {leaving.first_name} gets an invitation at an "
        "address of their own (checked by phone)."
    )
    dialog.confirmation.setChecked(True)
    wait_until(dialog.revoke_button.isEnabled, "the Revoke button")
    return dialog


def _reissue(demo: Demo, name: str) -> ReissueDialog:
    """The re-issue dialog for the adult whose account was revoked, their own address typed
    and checked."""
    console = demo.console(name, FRONT_DESK)
    _keeper, leaving = two_adults(console)
    revoke_access(
        console.workstation, console.actor, leaving.account_id, reason=RevokeReason.SHARED_EMAIL
    )
    console.select_account(leaving)
    console.window.actions_by_id["reissue"].trigger()
    dialog = opened(console.window, ReissueDialog)
    QTest.keyClicks(dialog.email, own_address(leaving))
    wait_until(
        lambda: dialog.presenter.verdict.state is AddressState.FREE, "the address to be checked"
    )
    return dialog


def reissue_dialog(demo: Demo) -> QWidget:
    """Re-issue an invitation: the new address typed and found free."""
    return _reissue(demo, "reissue-dialog")


def reissue_pin(demo: Demo) -> QWidget:
    """The PIN page after the invitation was really issued."""
    dialog = _reissue(demo, "reissue-pin")
    with mock.patch.object(invitation_service.secrets, "randbelow", return_value=SHOWN_PIN):
        dialog.issue_button.click()
        wait_until(lambda: dialog.on_pin_page, "the PIN")
    return dialog


def link_dialog(demo: Demo) -> QWidget:
    """Link a child's chart: the guardian found by the family name and selected."""
    console = demo.console("link-dialog", FRONT_DESK)
    case = family(console)
    step = next(step for step in case.steps if step.kind == LINK_TO_GUARDIAN)
    child = next(a for a in case.accounts if a.account_id == step.account_id)
    guardian = next(a for a in case.accounts if a.account_id == step.guardian_account_id)
    console.select_account(child)
    console.window.actions_by_id["link"].trigger()
    dialog = opened(console.window, LinkDialog)
    QTest.keyClicks(dialog.search, guardian.last_name)
    wait_until(
        lambda: not dialog.presenter.busy and bool(dialog.presenter.results), "the accounts found"
    )
    found = dialog.results
    item = next(
        found.topLevelItem(i)
        for i in range(found.topLevelItemCount())
        if found.topLevelItem(i).text(0) == guardian.username
    )
    found.setCurrentItem(item)
    wait_until(dialog.link_button.isEnabled, "the Link button")
    return dialog


def locked(demo: Demo) -> QWidget:
    """The console locked: no patient data on screen."""
    console = demo.console("locked", FRONT_DESK)
    console.guard.lock()
    wait_until(lambda: console.window.locked, "the lock screen")
    return console.window


def staff_dialog(demo: Demo) -> QWidget:
    """Administration → Staff users…, the front-desk user selected."""
    console = demo.console("staff-dialog", ADMIN)
    console.window.staff_action.trigger()
    dialog = opened(console.window, StaffDialog)
    wait_until(lambda: dialog.model.rowCount() == 3, "the staff users")
    members = [dialog.model.row_number(r) for r in range(dialog.model.rowCount())]
    dialog.table.selectRow(next(r for r, m in enumerate(members) if m and m.username == FRONT_DESK))
    return dialog


def settings_dialog(demo: Demo) -> QWidget:
    """Administration → Settings…, the clinic's settings read."""
    console = demo.console("settings-dialog", ADMIN)
    console.window.settings_action.trigger()
    dialog = opened(console.window, SettingsDialog)
    wait_until(
        lambda: not dialog.presenter.busy and bool(dialog.smtp_password_state.text()),
        "the settings",
    )
    return dialog


def outbox(demo: Demo) -> QWidget:
    """The Outbox (Ctrl+4) after a morning's e-mail through a local SMTP server that took
    most, refused one address (550), greylisted two (451) and found one mailbox full (552);
    the failed one selected."""
    sys.path.insert(0, str(HERE.parent.parent))
    from tests.smtp_server import HOST, smtp_server  # a real server on 127.0.0.1

    console = demo.console("outbox", FRONT_DESK)
    workstation, actor = console.workstation, console.actor
    clock = workstation.clock
    assert isinstance(clock, ManualClock)
    branding = branding_from(demo.settings)
    accounts = iter(
        account for case in console.shared_emails() for account in case.accounts if account.adult
    )
    with smtp_server() as server:

        def send(*replies: str) -> None:
            server.script(*replies)
            with SmtpTransport(HOST, server.port, SmtpSecurity.NONE) as transport:
                send_due(workstation, transport, branding)

        def reinvite(email: str) -> None:
            account = next(accounts)
            revoke_access(
                workstation, actor, account.account_id, reason=RevokeReason.SHARED_EMAIL,
                notify_patient=True,
            )  # fmt: skip
            invitation_service.reissue_invitation(workstation, actor, account.patient_id, email)

        clock.set(NOW.replace(hour=11, minute=5))
        reinvite("m.okafor.1987@examplemail.net")
        send("250 2.0.0 Ok", "550 5.1.1 <m.okafor.1987@examplemail.net>: Recipient address "
             "rejected: User unknown in virtual mailbox table")  # fmt: skip
        clock.set(NOW.replace(hour=12, minute=15))
        reinvite("jlindqvist@post.example.net")
        send()
        clock.set(NOW.replace(hour=14, minute=10))
        reinvite("d.haddad@inbox.example.org")
        send("250 2.0.0 Ok", "552 5.2.2 Mailbox full: quota exceeded")
        clock.set(NOW.replace(hour=14, minute=27))
        reinvite("a.petrova@example.com")
        send("451 4.7.1 Greylisted, please try again in a few minutes")
        clock.set(NOW)
        reinvite("s.nguyen@example.net")
    window = console.window
    window.navigation.setCurrentRow(3)
    view = console.desk.outbox
    view.refresh()
    wait_until(lambda: not view.busy and view.model.rowCount() > 0, "the outbox")
    view.relay_ran(RelayReport(sent=1, retrying=1))
    states = [row.state.value for row in view.model.rows]
    view.table.selectRow(states.index("failed"))
    return window


# --- importing a clinic's records --------------------------------------------------------------

_NEW_PEOPLE = (
    ("Amara", "Okafor", "1984-03-12"),
    ("Tomasz", "Nowak", "1977-11-02"),
    ("Priya", "Raman", "1991-06-25"),
    ("Lucas", "Moreau", "2009-09-14"),
    ("Hana", "Sato", "1968-01-30"),
    ("Diego", "Alvarez", "1999-12-08"),
    ("Ingrid", "Berg", "1956-04-17"),
    ("Kwame", "Mensah", "1988-08-21"),
)


def write_clinic_export(workstation: Workstation, path: Path) -> None:
    """The EHR's export a manager brings: the clinic's first 160 charts with their portal
    accounts (a few with a new phone or address since), 40 new patients, and the rows an
    export always has — an impossible date, a missing MRN, an MRN twice, a bad e-mail. Its
    MRN column is "Acct No", a name the console does not know; the care provider's column
    is not one it reads."""
    with Session(workstation.database.engine) as session:
        charts = session.execute(
            select(Patient, PortalAccount)
            .outerjoin(PortalAccount, PortalAccount.patient_id == Patient.id)
            .order_by(Patient.id)
            .limit(160)
        ).all()
    providers = ("Dr. Ellis", "Dr. Osei", "Dr. Park", "Dr. Quinn")
    lines = [
        "Acct No,First Name,Last Name,DOB,Email,Cell,Username,Portal Email,Status,"
        "Primary Care Provider"
    ]
    for n, (chart, account) in enumerate(charts):
        phone = chart.mobile_phone or ""
        email = chart.contact_email or ""
        if n % 23 == 5:
            phone = f"(555) 01{n:02d}-{4000 + n}"
        if n % 41 == 7:
            email = f"{chart.first_name}.{chart.last_name}.{n}@example.net".lower()
        account_cells = (
            f"{account.username},{account.login_email or ''},{account.state}"
            if account is not None
            else ",,"
        )
        lines.append(
            f"{chart.mrn},{chart.first_name},{chart.last_name},{chart.birth_date:%m/%d/%Y},"
            f"{email},{phone},{account_cells},{providers[n % 4]}"
        )
    for n in range(40):
        first, last, born = _NEW_PEOPLE[n % len(_NEW_PEOPLE)]
        last = f"{last}-{chr(65 + n // len(_NEW_PEOPLE))}" if n >= len(_NEW_PEOPLE) else last
        handle = f"{first[0]}{last}".lower().replace("-", "")
        lines.append(
            f"9{n:07d},{first},{last},{born},{handle}@example.org,,{handle},,Legacy,"
            f"{providers[n % 4]}"
        )
    lines += [
        f"90000041,Noor,Haddad,1990-02-30,noor.haddad@example.org,,,,,{providers[0]}",
        f",Walk-in,Patient,1979-05-05,,,,,,{providers[1]}",
        f"{charts[3][0].mrn},Duplicate,Row,1980-01-01,,,,,,{providers[2]}",
        f"90000042,Ola,Nordmann,1983-07-19,ola.nordmann@example,,,,,{providers[3]}",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _import_wizard(demo: Demo, name: str) -> ImportWizard:
    """File → Import records… as the demo manager, the clinic's export typed in."""
    console = demo.console(name, MANAGER)
    write_clinic_export(console.workstation, Path(EXPORT_FILE))
    console.window.actions_by_id["import"].trigger()
    wizard = opened(console.window, ImportWizard)
    QTest.keyClicks(wizard.file_page.path, EXPORT_FILE)
    return wizard


def _next_page(wizard: ImportWizard, page: QWidget, what: str) -> None:
    wizard.next_button.click()
    wait_until(lambda: wizard.pages.currentWidget() is page and not wizard.presenter.busy, what)


def _columns(demo: Demo, name: str) -> ImportWizard:
    """The columns found: "Acct No" chosen as the MRN."""
    wizard = _import_wizard(demo, name)
    _next_page(wizard, wizard.columns_page, "the columns")
    mrn = wizard.columns_page.combos[Field.MRN]
    mrn.setCurrentIndex(mrn.findText("Acct No"))
    return wizard


def _preview(demo: Demo, name: str) -> ImportWizard:
    wizard = _columns(demo, name)
    _next_page(wizard, wizard.preview_page, "the preview")
    return wizard


def import_file(demo: Demo) -> QWidget:
    """Import, step 1: the export chosen."""
    return _import_wizard(demo, "import-file")


def import_columns(demo: Demo) -> QWidget:
    """Import, step 2: the columns found, the MRN's chosen by hand."""
    return _columns(demo, "import-columns")


def import_preview(demo: Demo) -> QWidget:
    """Import, step 3: the dry run's figures and first rejected rows and warnings."""
    return _preview(demo, "import-preview")


def import_progress(demo: Demo) -> QWidget:
    """Import, step 4: half-way, in batches of 25 (the worker held at row 101 meanwhile)."""
    wizard = _preview(demo, "import-progress")
    gate = threading.Event()
    reads = import_source.first_in_file

    def held_half_way(entries: Iterable[Entry], unit: str = "row") -> Iterator[Entry]:
        for number, entry in enumerate(reads(entries, unit), start=1):
            if number == 101:
                gate.wait(30)
            yield entry

    for patch in (
        mock.patch.object(import_run, "BATCH_ENTRIES", 25),
        mock.patch.object(import_source, "first_in_file", held_half_way),
    ):
        patch.start()
        demo.on_close(patch.stop)
    demo.on_close(gate.set)
    demo.on_close(lambda: wizard.done(0))  # first: the import stops after its batch
    wizard.next_button.click()
    wait_until(lambda: wizard.progress_page.bar.value() == 100, "half of the import")
    return wizard


def import_report(demo: Demo) -> QWidget:
    """Import, step 5: the report of the finished import."""
    wizard = _preview(demo, "import-report")
    _next_page(wizard, wizard.report_page, "the report")
    return wizard


#: Every screenshot: its file, and the function that brings it on screen.
SCREENSHOTS: dict[str, Callable[[Demo], QWidget]] = {
    "sign-in.png": sign_in_dialog,
    "main-window.png": main_window,
    "shared-emails-only.png": shared_emails_only,
    "worklist.png": worklist,
    "invitations.png": invitations,
    "revoke-dialog.png": revoke_dialog,
    "reissue-dialog.png": reissue_dialog,
    "reissue-pin.png": reissue_pin,
    "link-dialog.png": link_dialog,
    "locked.png": locked,
    "staff-dialog.png": staff_dialog,
    "settings-dialog.png": settings_dialog,
    "outbox.png": outbox,
    "import-file.png": import_file,
    "import-columns.png": import_columns,
    "import-preview.png": import_preview,
    "import-progress.png": import_progress,
    "import-report.png": import_report,
}


def render(names: list[str]) -> list[Path]:
    """Render the screenshots ``names`` into this folder; their paths."""
    app: QApplication = create_application([sys.argv[0]])
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
    app.setCursorFlashTime(0)  # a text cursor that does not blink: the same picture each time
    keyring.set_keyring(DemoKeyring())
    written = []
    start = Path.cwd()
    with tempfile.TemporaryDirectory() as folder:
        demo = Demo(Path(folder))
        try:
            for name in names:
                widget = SCREENSHOTS[name](demo)
                QTest.qWait(300)  # animations (a search field's clear button fading in) end
                path = HERE / name
                widget.grab().save(str(path), "PNG", 0)  # 0: the smallest file (lossless)
                written.append(path)
                demo.close()
        finally:
            demo.close()
            os.chdir(start)
    app.processEvents()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help="screenshots to render")
    arguments = parser.parse_args()
    names = [n if n.endswith(".png") else f"{n}.png" for n in arguments.names] or [*SCREENSHOTS]
    unknown = [n for n in names if n not in SCREENSHOTS]
    if unknown:
        parser.error(f"no screenshot {', '.join(unknown)}; there are: {', '.join(SCREENSHOTS)}")
    for path in render(names):
        print(f"{path.relative_to(HERE.parent.parent)}  {path.stat().st_size / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
