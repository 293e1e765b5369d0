"""The composition root of the desktop console: builds the application, the workstation (the
database, its audit trail and the clinic's settings), asks who is signing in, and runs the
main window over the account table until the window closes or the session ends."""

from __future__ import annotations

import gc
import io
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from logging.handlers import RotatingFileHandler
from pathlib import Path

import platformdirs
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog
from sqlalchemy.engine import URL, make_url

from console.adapters.account_table import AccountTableModel
from console.models.account_list import AccountList
from console.models.database import (
    Database,
    DatabaseNeedsPassword,
    describe_url,
    open_database,
)
from console.services.accounts.listing import AccountListing
from console.services.audit.clinic_databases import ClinicDatabases
from console.services.audit.key import AuditKeyMissing, never_used
from console.services.database_key import create_clinic_database
from console.services.desk import Desk, StaffDesk
from console.services.errors import DomainError
from console.services.mail.mail_server import transport_from_settings
from console.services.mail.templates import branding_from
from console.services.mail.transport import Transport
from console.services.settings.file import settings_path
from console.services.settings.secrets_store import (
    SecretsStore,
    database_password_entry,
    smtp_password_entry,
)
from console.services.settings.values import ConsoleSettings, load_settings
from console.services.staff.session import StaffSession
from console.services.staff.users import has_staff
from console.services.workstation import Workstation
from console.services.workstation_setup import build_workstation, set_up_audit_key
from console.views.audit_state import AuditState
from console.views.database_password import ask_database_password
from console.views.front_desk import FrontDesk
from console.views.main_window import MainWindow
from console.views.session_guard import SessionGuard
from console.views.settings_dialog import SettingsDialog
from console.views.staff_dialog import StaffDialog
from console.views.startup_prompts import DialogPrompts, StartupPrompts
from console.views.theme import APP_NAME, apply_theme
from console.workers.job_runner import JobRunner
from console.workers.mail_relay import MailRelay

_ROLE_NAMES = {"front_desk": "front desk", "manager": "manager", "admin": "administrator"}
#: How long a thread keeps the GIL while another waits for it (Python's default is 5 ms).
#: The GUI thread takes the GIL again for every call into Python while it draws and
#: dispatches; with a busy worker (an import, a page's read) each of those waited up to
#: 5 ms, which added up to stalls of 55-85 ms all through a 100,000-row import
#: (bench/gui_stall.py). At 1 ms there are none over 50 ms, and the import is no slower.
GIL_SWITCH_INTERVAL_S = 0.001
LOG_DIR_VAR = "PORTAL_CONSOLE_LOG_DIR"
_log = logging.getLogger(__name__)


def create_application(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication (made once), named and themed as the Portal Account Console."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else None
    if app is None:
        app = QApplication(list(argv if argv is not None else sys.argv))
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    apply_theme(app)
    return app


def build_main_window(
    database: Database, session: StaffSession | None = None, audit: AuditState | None = None
) -> MainWindow:
    """The main window over ``database`` for the signed-in ``session``, its first read
    started: the list is read as that member of staff (``AccountListing``), and the status
    bar says how the audit log is kept (``audit``: sealed, or a demo's, not tamper-proof).
    Without a session (benchmarks, tests of the table itself) it reads the list as it is.
    The caller shows it and, when done, calls ``window.shutdown()`` (closing it does too)."""
    accounts = AccountList(database.engine)
    actor = session.actor if session is not None else None
    model = AccountTableModel(accounts if actor is None else AccountListing(accounts, actor))
    staff_name = f"{actor.username} ({_ROLE_NAMES.get(actor.role, actor.role)})" if actor else ""
    window = MainWindow(
        model, database.display_name, actor=actor, staff_name=staff_name, audit=audit
    )
    model.refresh()
    return window


def _workstation_on_first_run(
    database: Database, settings: ConsoleSettings, prompts: StartupPrompts, known: ClinicDatabases
) -> Workstation | None:
    """The workstation; on a database never used before, offer to create its audit key
    first (None if declined) and record the database in ``known`` as a clinic's own.
    Elsewhere a missing key stays a refusal to start."""
    try:
        return build_workstation(database, settings, clinic_databases=known)
    except AuditKeyMissing:
        if not never_used(database):
            raise
    if not prompts.create_audit_key():
        return None
    set_up_audit_key(database, settings, clinic_databases=known)
    _log.info("audit key created")
    return build_workstation(database, settings, clinic_databases=known)


def guard_session(
    window: MainWindow, desk: StaffDesk, session: StaffSession, settings: ConsoleSettings
) -> SessionGuard:
    """Lock ``window`` when idle and close it when the session ends (see SessionGuard)."""
    guard = SessionGuard(
        desk,
        session,
        idle_minutes=settings.idle_minutes,
        session_hours=settings.session_hours,
        parent=window,
    )
    name = session.actor.username
    guard.locked.connect(
        lambda: window.show_locked(name, settings.idle_minutes, by_hand=guard.locked_by_hand)
    )
    guard.unlocked.connect(window.show_unlocked)
    guard.refused.connect(window.lock_screen.show_problem)
    guard.ended.connect(lambda _message: window.close())
    window.lock_requested.connect(guard.lock)
    window.sign_out_requested.connect(guard.sign_out)
    window.lock_screen.unlock_requested.connect(guard.unlock)
    return guard


def log_file_path(environ: os._Environ[str] | dict[str, str] = os.environ) -> Path:
    """The console's log file: in ``PORTAL_CONSOLE_LOG_DIR``, else the user's log folder."""
    folder = environ.get(LOG_DIR_VAR) or platformdirs.user_log_dir(
        "portal-console", appauthor=False
    )
    return Path(folder) / "console.log"


class _OwnerOnlyLog(RotatingFileHandler):
    """A rotating log whose every file, rotated ones included, only its owner can read."""

    def _open(self) -> io.TextIOWrapper:
        descriptor = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.chmod(self.baseFilename, 0o600)  # also a file made earlier with other rights
        return open(descriptor, "a", encoding=self.encoding, errors=self.errors)


@contextmanager
def log_file(path: Path) -> Iterator[None]:
    """Log INFO and above to ``path`` (owner-only, rotated at 1 MB, five kept) while the
    console runs. What is logged are ids, outcomes and error types: never a name, an e-mail
    address, a password, a PIN or a token (the canary test holds the console to that)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    handler = _OwnerOnlyLog(path, maxBytes=1_000_000, backupCount=5, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(min(level, logging.INFO) if level else logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()


def run_mail_relay(
    desk: FrontDesk, guard: SessionGuard, workstation: Workstation, settings: ConsoleSettings
) -> MailRelay | None:
    """Send the outbox in the background while the console is unlocked (issue 7): every
    30 s and as soon as an action queued an e-mail. None until the mail server and the
    portal's address are set; the Outbox page says so."""
    if not (settings.smtp_host and settings.portal_base_url):
        return None
    secrets = SecretsStore()

    def make_transport() -> Transport:  # on the relay's worker: the keyring may be slow
        password = (
            secrets.get(smtp_password_entry(settings.smtp_host)) if settings.smtp_username else None
        )
        return transport_from_settings(settings, password)

    relay = MailRelay(workstation, make_transport, lambda: branding_from(settings), parent=desk)
    relay.ran.connect(desk.outbox.relay_ran)
    relay.problem.connect(desk.outbox.relay_problem)
    desk.outbox.send_now.connect(relay.wake)
    desk.mail_queued.connect(relay.wake)
    guard.locked.connect(relay.stop)
    guard.unlocked.connect(relay.start)
    relay.start()
    return relay


def offer_administration(window: MainWindow, desk: StaffDesk, config: Path) -> JobRunner:
    """Open the staff and settings dialogs from the window's Administration menu (the menu
    disables them for other roles; the dialogs and services refuse too). Returns the runner
    their service calls use, for the caller to close."""
    runner = JobRunner(max_threads=1, parent=window)

    def open_staff() -> None:
        _open_modeless(StaffDialog(desk, runner, window))

    def open_settings() -> None:
        dialog = SettingsDialog(desk, runner, window, path=config)
        dialog.saved.connect(
            lambda _settings: window.statusBar().showMessage(
                "Settings saved. Sign-in, lock and e-mail settings apply from the next sign-in.",
                15_000,
            )
        )
        _open_modeless(dialog)

    window.staff_requested.connect(open_staff)
    window.settings_requested.connect(open_settings)
    return runner


def _open_modeless(dialog: QDialog) -> None:
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()


#: Asks for the database password: (where, can remember, problem) → (password, remember)
#: or None when the person quits.
AskPassword = Callable[[str, bool, str], tuple[str, bool] | None]


def open_with_password(url_text: str, *, store: SecretsStore, ask: AskPassword) -> Database | None:
    """Open the database at ``url_text``; when its server wants a password, take it from
    the keyring, else ask for it (and remember it there if asked to, and only if the keyring
    is a secure one). None when the person quits. Other failures raise DatabaseUnavailable.
    A new embedded database is a clinic's: created encrypted (``create_clinic_database``)."""
    try:
        return create_clinic_database(url_text, load_settings(settings_path()), store=store)
    except DatabaseNeedsPassword:
        problem = ""
    url = make_url(url_text)
    entry = database_password_entry(url)
    try:
        remembered = store.get(entry)
        can_remember = store.is_secure()
    except DomainError as error:  # a keyring that fails or hangs: ask, remember nothing
        _log.warning("keyring unavailable: %s", type(error).__name__)
        remembered, can_remember = None, False
    if remembered is not None:
        try:
            return open_database(_with_password(url, remembered))
        except DatabaseNeedsPassword:
            problem = "The password remembered in the keyring no longer works: enter the new one."
    while True:
        answer = ask(describe_url(url), can_remember, problem)
        if answer is None:
            return None
        password, remember = answer
        try:
            database = open_database(_with_password(url, password))
        except DatabaseNeedsPassword as refused:
            problem = str(refused)
            continue
        if remember and can_remember:
            try:
                store.set(entry, password)
            except DomainError as error:
                _log.warning("database password not remembered: %s", type(error).__name__)
        return database


def run_console(url_text: str) -> int:
    """The console as ``portal-console`` starts it: open the database (asking for its
    password if need be), then ``run_gui``."""
    create_application()
    try:
        database = open_with_password(url_text, store=SecretsStore(), ask=ask_database_password)
    except DomainError as error:  # no safe place for a new database's key, unusable settings
        DialogPrompts().cannot_start(error.message)
        return 2
    if database is None:
        return 0
    try:
        return run_gui(database)
    finally:
        database.dispose()


def _with_password(url: URL, password: str) -> str:
    return url.set(password=password).render_as_string(hide_password=False)


def run_gui(
    database: Database,
    *,
    config: Path | None = None,
    log_path: Path | None = None,
    prompts: StartupPrompts | None = None,
) -> int:
    """Sign in, then run the main window on ``database`` until it is closed; after a
    sign-out or the session limit, ask who signs in next. The exit status. The database
    stays open: whoever opened it disposes of it. ``prompts`` asks the questions before
    the window opens (message boxes and the sign-in dialog unless given)."""
    with log_file(log_path or log_file_path()):
        _log.info("console started")
        asking = prompts or DialogPrompts()
        if database.exposure and asking.make_private(database.exposure):
            _log.info("database files made owner-only: %d", len(database.make_private()))
        return _run_gui(database, config, asking)


def hand_over_the_gil_quickly() -> None:
    """Let a worker keep the GIL at most ``GIL_SWITCH_INTERVAL_S`` while the GUI thread
    waits for it (for the whole process: every worker competes with the GUI thread)."""
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)


def _run_gui(database: Database, config: Path | None, prompts: StartupPrompts) -> int:
    app = create_application()
    hand_over_the_gil_quickly()
    config_path = config or settings_path()
    known = ClinicDatabases.beside(config_path)
    first = True
    while True:
        # Read again at every sign-in: what an administrator saved applies from the next one.
        try:
            settings = load_settings(config_path)
            if first:
                workstation = _workstation_on_first_run(database, settings, prompts, known)
                if workstation is None:
                    return 0
            else:
                workstation = build_workstation(database, settings, clinic_databases=known)
        except DomainError as error:
            _log.error("console cannot start: %s", type(error).__name__)
            prompts.cannot_start(error.message)
            return 2
        first = False
        reception = Desk(workstation)
        signed_in = prompts.sign_in(reception, first_run=not reception.run(has_staff))
        if signed_in is None:
            return 0
        session = StaffSession.begin(signed_in, workstation.clock.now())
        _log.info("staff user %s signed in", session.actor.id)
        staff_desk = reception.for_staff(session.actor)
        key = workstation.audit.key
        window = build_main_window(database, session, AuditState(key.label, key.tamper_proof))
        window.restore_layout()
        guard = guard_session(window, staff_desk, session, settings)
        admin_runner = offer_administration(window, staff_desk, config_path)
        import_runner = JobRunner(max_threads=1, parent=window)
        desk = FrontDesk(window, staff_desk, admin_runner, settings, import_runner=import_runner)
        guard.locked.connect(desk.clear)
        guard.unlocked.connect(desk.reopen)
        relay = run_mail_relay(desk, guard, workstation, settings)
        window.show()
        # What exists now lives as long as the window: keep it out of later full garbage
        # collections, which hold every thread (the GUI's too) for tens of milliseconds on
        # a big clinic (bench/gui_stall.py: 70-80 ms → about 6 ms).
        gc.collect()
        gc.freeze()
        try:
            app.exec()
        finally:
            if relay is not None:
                relay.stop()
            guard.close()
            desk.stop_import()  # an import under way stops after its batch
            import_runner.close()
            admin_runner.close()
            window.shutdown()
            gc.unfreeze()  # the next sign-in's window replaces this one
        if not guard.ended_session:  # closed or quit: the console is done
            session.sign_out(workstation)
            return 0
