"""The console the GUI-stall probe measures: the main window composed as
``console.app._run_gui`` composes it for a signed-in member of staff (the account model with
its own worker pool, the front desk, the session guard, the one-thread runner the dialogs
share, the Import wizard's thread, the mail relay), and when it is settled.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from pathlib import Path

import console.app
from bench.measure import PaintWatch, visible_rows
from console.app import build_main_window, guard_session, offer_administration
from console.models.database import Database
from console.services.desk import StaffDesk
from console.services.settings.values import ConsoleSettings
from console.services.staff.session import StaffSession
from console.services.staff.users import sign_in
from console.services.workstation import Workstation
from console.views.front_desk import FrontDesk
from console.views.main_window import MainWindow
from console.views.session_guard import SessionGuard
from console.workers.job_runner import JobRunner
from console.workers.mail_relay import MailRelay

#: ``console.services.demo.clinic.DEMO_STAFF_PASSWORD`` (published in the README). Not imported:
#: that module loads Faker, which the console never does, and a bigger heap makes longer
#: garbage collections.
DEMO_STAFF_PASSWORD = "Demo-Console-2026!"


def signed_in(workstation: Workstation, username: str) -> StaffSession:
    """A session of the demo clinic's ``username``, signed in with the demo password."""
    member = sign_in(workstation, username, DEMO_STAFF_PASSWORD)
    return StaffSession.begin(member, workstation.clock.now())


@dataclass
class Console:
    """The window and everything ``_run_gui`` makes with it."""

    window: MainWindow
    desk: FrontDesk
    runner: JobRunner
    import_runner: JobRunner
    guard: SessionGuard
    relay: MailRelay | None
    watch: PaintWatch
    frozen: bool

    def painted(self) -> bool:
        """The rows on screen are read and painted after the model's last change."""
        model, table = self.window.model, self.window.table
        return (
            not model.is_loading
            and self.watch.last_paint > self.watch.last_change
            and all(model.account_row(r) is not None for r in visible_rows(table))
        )

    def settled(self) -> bool:
        """Nothing under way: the list painted, no job waiting, no page reading."""
        desk = self.desk
        return (
            self.painted()
            and self.runner.pending_jobs == 0
            and self.import_runner.pending_jobs == 0
            and not desk.panel.busy
            and not desk.worklist.busy
            and not desk.invitations.busy
            and not desk.outbox.busy
            and not (self.relay and self.relay.running)
        )

    def close(self) -> None:
        """Shut down as ``_run_gui`` does (without saving the layout into the user's
        settings)."""
        if self.relay:
            self.relay.stop()
        self.guard.close()
        self.desk.stop_import()
        self.import_runner.close()
        self.runner.close()
        self.window.shutdown()
        self.window.hide()
        if self.frozen:
            gc.unfreeze()  # as _run_gui does: the next sign-in's window replaces this one


def open_console(
    database: Database,
    workstation: Workstation,
    settings: ConsoleSettings,
    session: StaffSession,
    *,
    folder: Path,
    freeze: bool,
) -> Console:
    """Build and show the window for ``session``; with ``freeze``, ``gc.freeze()`` once it is
    up, as the console does. Settings an administrator would save go to ``folder``."""
    window = build_main_window(database, session)
    staff_desk = StaffDesk(workstation, session.actor)
    guard = guard_session(window, staff_desk, session, settings)
    runner = offer_administration(window, staff_desk, folder / "settings.toml")
    import_runner = JobRunner(max_threads=1, parent=window)
    desk = FrontDesk(window, staff_desk, runner, settings, import_runner=import_runner)
    guard.locked.connect(desk.clear)
    guard.unlocked.connect(desk.reopen)
    # Looked up on the module: the probe hands it a pickup folder instead of a mail server.
    relay = console.app.run_mail_relay(desk, guard, workstation, settings)
    window.show()
    if freeze:  # --gc-freeze: what console.app does once the window is up
        gc.collect()
        gc.freeze()
    watch = PaintWatch(window.table, window.model)
    return Console(window, desk, runner, import_runner, guard, relay, watch, freeze)


__all__ = ["DEMO_STAFF_PASSWORD", "Console", "open_console", "signed_in"]
