"""Fixtures for the staff actions: a workstation over a real database, with a real audit
trail, a clock that stands still, and one signed-in member of staff per role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import bcrypt
import pytest
from sqlalchemy.orm import Session

from console.models.database import Database, open_database
from console.models.schema import StaffUser
from console.models.states import StaffRole
from console.services.audit.key import AuditKey
from console.services.audit.trail import AuditTrail
from console.services.clock import ManualClock
from console.services.permissions import Actor
from console.services.workstation import Workstation

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
STAFF_PASSWORD = "Correct-Horse-Battery-9"
TEST_AUDIT_KEY = AuditKey(secret=bytes(range(32)), source="PORTAL_CONSOLE_AUDIT_KEY")


@pytest.fixture(scope="session")
def staff_hash() -> str:
    """STAFF_PASSWORD at bcrypt's least cost (a real hash, checked in a millisecond)."""
    return bcrypt.hashpw(STAFF_PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()


def make_workstation(database: Database, clock: ManualClock) -> Workstation:
    """A workstation named 'test-desk' over ``database``."""
    return Workstation(
        database, AuditTrail(TEST_AUDIT_KEY, workstation="test-desk", clock=clock), clock
    )


@pytest.fixture
def desk(database: Database) -> Workstation:
    """A workstation over a new SQLite file, its clock standing at NOW."""
    return make_workstation(database, ManualClock(NOW))


@pytest.fixture
def any_desk(any_db_url: str) -> Iterator[Workstation]:
    """A workstation over a new SQLite file, then over a new PostgreSQL database."""
    database = open_database(any_db_url)
    yield make_workstation(database, ManualClock(NOW))
    database.dispose()


@pytest.fixture
def pg_desk(postgres_url: str) -> Iterator[Workstation]:
    """A workstation over a new PostgreSQL database (for what only PostgreSQL can show)."""
    database = open_database(postgres_url)
    yield make_workstation(database, ManualClock(NOW))
    database.dispose()


def add_staff(database: Database, role: StaffRole, staff_hash: str, name: str = "") -> Actor:
    """A staff user with STAFF_PASSWORD, as the Actor a sign-in would give."""
    username = name or f"{role.value}_user"
    with Session(database.writer) as session, session.begin():
        user = StaffUser(
            username=username,
            display_name=username,
            role=role.value,
            password_hash=staff_hash,
            created_at=NOW,
        )
        session.add(user)
        session.flush()
        return Actor(user.id, user.username, user.role)


@pytest.fixture
def staff(desk: Workstation, staff_hash: str) -> dict[StaffRole, Actor]:
    """One member of staff per role on ``desk``'s database."""
    return {role: add_staff(desk.database, role, staff_hash) for role in StaffRole}
