"""Small factory functions for tests: one call makes one realistic row, with overridable
fields, through the ORM (so the triggers and validators run as in production)."""

from __future__ import annotations

import datetime as dt
import itertools
import sqlite3
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from console.models.database import Database, resolve_database_url
from console.models.schema import Patient, PortalAccount
from console.models.states import AccountState
from console.services.database_key import open_clinic_database
from console.services.settings.file import settings_path
from console.services.settings.values import load_settings

_numbers = itertools.count(1)


def add_patient(session: Session, **fields: object) -> Patient:
    """A chart with a unique MRN."""
    n = next(_numbers)
    values: dict[str, object] = {
        "mrn": f"T{n:07d}",
        "first_name": "Test",
        "last_name": f"Patient{n}",
        "birth_date": dt.date(1980, 1, 1),
    }
    values.update(fields)
    patient = Patient(**values)
    session.add(patient)
    session.flush()
    return patient


def add_account(
    session: Session,
    login_email: str | None,
    state: AccountState = AccountState.LEGACY,
    patient: Patient | None = None,
    **fields: object,
) -> PortalAccount:
    """A portal account (and, unless given, a chart for it) with a unique username."""
    patient = patient or add_patient(session)
    values: dict[str, object] = {
        "username": f"user{next(_numbers)}",
        "security_stamp": "test-stamp",
        "patient_id": patient.id,
        "login_email": login_email,
        "state": state.value,
    }
    values.update(fields)
    account = PortalAccount(**values)
    session.add(account)
    session.flush()
    return account


def count_rows(where: Database | Path, model: type[object]) -> int:
    """How many rows ``model``'s table has, in an open database or the SQLite file at a path
    (opened as a command opens it: with its key, when it is encrypted)."""
    settings = load_settings(settings_path())
    database = (
        where if isinstance(where, Database) else open_clinic_database(where_url(where), settings)
    )
    try:
        with database.engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        if database is not where:
            database.dispose()


def where_url(path: Path) -> str:
    return resolve_database_url(str(path), {})


def change_row(database: Database, model: type[object], row_id: int, **fields: object) -> None:
    """Set ``fields`` on one row through the ORM, in its own committed transaction."""
    with Session(database.writer) as session:
        row = session.get_one(model, row_id)
        for name, value in fields.items():
            setattr(row, name, value)
        session.commit()


def refuse_audit_appends(database: Database) -> None:
    """Make every audit append fail, as a full disk would (SQLite: a trigger)."""
    with database.write() as connection:
        connection.exec_driver_sql(
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )


def sqlite_has_trigram() -> bool:
    """Whether this Python's SQLite can make the search index (FTS5 with trigram)."""
    try:
        with sqlite3.connect(":memory:") as connection:
            connection.execute("CREATE VIRTUAL TABLE probe USING fts5(x, tokenize='trigram')")
    except sqlite3.OperationalError:
        return False
    return True
