"""Fixtures for the windows: the real composition over a real SQLite file, and a leak check."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from console.app import build_main_window
from console.models.database import Database
from console.models.states import StaffRole
from console.services.clock import ManualClock
from console.services.permissions import Actor
from console.services.workstation import Workstation
from console.views.main_window import MainWindow
from console.views.theme import style_sheet
from console.workers.job_runner import JobRunner
from tests.adapters.clinic_accounts import add_clinic_accounts
from tests.qt_leaks import no_qt_work_left_running  # noqa: F401 - autouse
from tests.services.conftest import (
    NOW,
    add_staff,
    make_workstation,
    staff_hash,  # noqa: F401 - a fixture
)


@pytest.fixture
def desk(database: Database) -> Workstation:
    """A workstation over a new SQLite file, its clock standing at NOW."""
    return make_workstation(database, ManualClock(NOW))


@pytest.fixture
def actor(desk: Workstation, staff_hash: str) -> Actor:  # noqa: F811 - the fixture above
    """A front-desk member of staff on ``desk``'s database."""
    return add_staff(desk.database, StaffRole.FRONT_DESK, staff_hash)


@pytest.fixture
def runner() -> Iterator[JobRunner]:
    """A real worker pool for a dialog or view under test, closed after it."""
    jobs = JobRunner()
    yield jobs
    jobs.close()


@pytest.fixture
def clinic_window(qtbot: QtBot, database: Database) -> Iterator[MainWindow]:
    """The main window over a small clinic, its first count arrived. The style sheet goes on
    the window, not the shared QApplication, so that other tests keep Qt's defaults."""
    add_clinic_accounts(database)
    window = build_main_window(database)
    window.setStyleSheet(style_sheet())
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.model.row_count_changed, timeout=5000):
        pass
    yield window
    window.shutdown()
