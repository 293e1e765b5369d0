"""Render the screenshots in this folder from a demo clinic.

    .venv/bin/python docs/screenshots/render.py [--patients 100000] [--seed 7]

Uses the same composition as the application (``console.app``: the sign-in dialog, the main
window signed in as the demo front-desk user, the lock screen) on a throw-away SQLite file
filled by ``console.services.demo_data``, offscreen.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication, QWidget
from sqlalchemy import select

from console.adapters.worker import JobRunner
from console.app import build_main_window, build_workstation, create_application
from console.models.database import open_database, resolve_database_url
from console.models.schema import StaffUser
from console.services.demo_data import fill_demo_database
from console.services.permissions import Actor
from console.services.settings import ConsoleSettings
from console.services.staff_session import StaffSession
from console.services.staff_users import SignedIn
from console.views.front_desk import FrontDesk
from console.views.main_window import MainWindow
from console.views.sign_in import SignInDialog

HERE = Path(__file__).resolve().parent
SIZE = (1400, 840)


def settle(app: QApplication, done: Callable[[], bool], timeout_s: float = 20.0) -> None:
    """Process events until ``done()`` (the window has read what it shows)."""
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not finish loading")
        app.processEvents()
        time.sleep(0.005)
    app.processEvents()


def visible_rows_loaded(window: MainWindow) -> bool:
    """Whether every row in the table's viewport has its data."""
    table, model = window.table, window.model
    if model.is_loading or model.rowCount() == 0:
        return False
    first = table.rowAt(0)
    last = table.rowAt(table.viewport().height() - 1)
    last = model.rowCount() - 1 if last < 0 else last
    return all(model.account_row(r) is not None for r in range(first, last + 1))


def save(window: QWidget, name: str) -> Path:
    """Grab the whole window into ``name`` beside this script."""
    path = HERE / name
    window.grab().save(str(path), "PNG", 0)  # 0: the smallest file (lossless)
    return path


def render(patients: int, seed: int) -> list[Path]:
    """Write the screenshots; return their paths."""
    app = create_application([sys.argv[0]])
    written = []
    with tempfile.TemporaryDirectory() as folder:
        database = open_database(resolve_database_url(str(Path(folder) / "demo.db"), {}))
        fill_demo_database(database, patients=patients, seed=seed, today=dt.date(2026, 11, 2))
        workstation = build_workstation(database, ConsoleSettings())
        with database.engine.connect() as connection:
            user = connection.execute(
                select(StaffUser.id, StaffUser.username, StaffUser.role).where(
                    StaffUser.username == "demo_front_desk"
                )
            ).one()
        session = StaffSession.begin(SignedIn(Actor(*user), False), workstation.clock.now())
        dialog = SignInDialog(workstation, first_run=False)
        dialog.username.setText(user.username)
        dialog.show()
        settle(app, lambda: True)
        written.append(save(dialog, "sign-in.png"))
        dialog.reject()
        window = build_main_window(database, session)
        runner = JobRunner()
        desk = FrontDesk(window, workstation, session.actor, runner)
        try:
            window.resize(*SIZE)
            window.show()
            settle(app, lambda: visible_rows_loaded(window))
            window.table.selectRow(3)
            settle(app, lambda: visible_rows_loaded(window) and desk.panel.details is not None)
            written.append(save(window, "main-window.png"))
            window.shared_only.setChecked(True)
            settle(app, lambda: visible_rows_loaded(window))
            window.table.selectRow(1)
            settle(app, lambda: desk.panel.details is not None and not desk.panel.busy)
            written.append(save(window, "shared-emails-only.png"))
            window.show_locked(user.username, 10)
            settle(app, lambda: True)
            written.append(save(window, "locked.png"))
        finally:
            runner.close()
            window.shutdown()
            window.deleteLater()
            app.processEvents()
            database.dispose()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()
    for path in render(arguments.patients, arguments.seed):
        print(f"{path} ({path.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
