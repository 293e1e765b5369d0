"""Fixtures of the crash tests: how hard this run tries, and the clinic's staff."""

from __future__ import annotations

import bcrypt
import pytest

from console.models.database import Database
from console.models.states import StaffRole
from console.services.audit.trail import AuditTrail
from console.services.clock import ManualClock
from console.services.permissions import Actor
from console.services.staff.users import sign_in
from console.services.workstation import Workstation
from tests.crash.common import AUDIT_KEY, FRONT_DESK, MANAGER, STAFF_PASSWORD, START
from tests.crash.processes import CrashRun
from tests.services.conftest import add_staff


@pytest.fixture(scope="session")
def crash_run() -> CrashRun:
    """``PORTAL_CRASH=full`` or the fast subset, and the seed of the kill points."""
    return CrashRun.from_environment()


@pytest.fixture(scope="session")
def crash_staff_hash() -> str:
    """STAFF_PASSWORD at bcrypt's least cost: the children sign in with it in a moment."""
    return bcrypt.hashpw(STAFF_PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()


def setup_desk(database: Database) -> Workstation:
    """The workstation the parent sets the clinic up from, at START."""
    clock = ManualClock(START)
    return Workstation(
        database, AuditTrail(AUDIT_KEY, workstation="crash-setup", clock=clock), clock
    )


def add_crash_staff(database: Database, staff_hash: str) -> dict[StaffRole, Actor]:
    """The front desk member and the manager the children sign in as, each signed in once
    (so that the audit log, which a database with staff is never without, has begun)."""
    for role, username in ((StaffRole.FRONT_DESK, FRONT_DESK), (StaffRole.MANAGER, MANAGER)):
        add_staff(database, role, staff_hash, username)
    desk = setup_desk(database)
    return {
        StaffRole.FRONT_DESK: sign_in(desk, FRONT_DESK, STAFF_PASSWORD).actor,
        StaffRole.MANAGER: sign_in(desk, MANAGER, STAFF_PASSWORD).actor,
    }
