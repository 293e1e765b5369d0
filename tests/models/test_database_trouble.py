"""A database in trouble while in use says so in the clinic's words, whoever uses it (the
window's workers, the commands, the relay): real SQLite and PostgreSQL errors, each turned
into one line that says what happened and that nothing was written."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import exc, make_url, text

from console.models.database import Database, open_database
from console.models.database_trouble import (
    DatabaseDamaged,
    DatabaseFull,
    DatabaseReadOnly,
    DatabaseUnavailable,
)

NEW_CHART = text(
    "INSERT INTO patients (mrn, first_name, last_name, birth_date, created_at, updated_at, "
    "version) VALUES (:mrn, 'Ada', 'Lovelace', '1815-12-10', CURRENT_TIMESTAMP, "
    "CURRENT_TIMESTAMP, 1)"
)


@pytest.fixture
def any_database(any_db_url: str) -> Iterator[Database]:
    database = open_database(any_db_url)
    yield database
    database.dispose()


def one_line(error: DatabaseUnavailable) -> str:
    message = str(error)
    assert message and "\n" not in message and "sqlalchemy" not in message.casefold()
    return message


def test_a_damaged_page_says_to_restore_a_backup(database: Database) -> None:
    with database.write() as connection:
        for n in range(300):  # a table of several pages
            connection.execute(NEW_CHART, {"mrn": f"M{n}"})
    path = make_url(str(database.engine.url)).database
    assert path is not None
    database.dispose()
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = raw.execute("PRAGMA page_size").fetchone()[0]
        root = raw.execute("SELECT rootpage FROM sqlite_master WHERE name = 'patients'")
        (page,) = root.fetchone()
    raw.close()
    with Path(path).open("r+b") as file:
        file.seek((page - 1) * page_size)
        file.write(b"\xff" * 64)

    with pytest.raises(DatabaseDamaged) as raised, database.engine.connect() as connection:
        connection.execute(text("SELECT mrn, last_name FROM patients ORDER BY id")).all()
    assert f"{path} is damaged" in one_line(raised.value)
    assert "restore it from the clinic's latest backup" in str(raised.value)


def test_a_full_disk_says_so_and_nothing_is_written(database: Database) -> None:
    with pytest.raises(DatabaseFull) as raised, database.write() as connection:
        # SQLite's own limit on the file's size: the same "database or disk is full" as a
        # disk with no room left (tests/test_cli_failures.py fills a real one).
        pages = connection.exec_driver_sql("PRAGMA page_count").scalar_one()
        connection.exec_driver_sql(f"PRAGMA max_page_count = {pages}")
        for n in range(2000):
            connection.execute(NEW_CHART, {"mrn": f"M{n}"})
    assert "is full, so nothing was written" in one_line(raised.value)
    with database.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM patients")).scalar() == 0


@pytest.mark.postgres
def test_a_read_only_server_says_so_and_nothing_is_written(postgres_url: str) -> None:
    database = open_database(postgres_url)
    try:
        # What a standby server, or a database an administrator made read-only, answers.
        with pytest.raises(DatabaseReadOnly) as raised, database.write() as connection:
            connection.execute(text("SET TRANSACTION READ ONLY"))
            connection.execute(NEW_CHART, {"mrn": "M1"})
        message = one_line(raised.value)
        assert "accepts no changes" in message and "nothing was written" in message
        with database.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM patients")).scalar() == 0
    finally:
        database.dispose()


def test_what_someone_can_fix_by_trying_again_is_left_alone(any_database: Database) -> None:
    """A unique key taken, like a lost race, is for the service to answer (a message next to
    the field, or "reload and try again"), not a database in trouble."""
    with any_database.write() as connection:
        connection.execute(NEW_CHART, {"mrn": "M1"})
    with pytest.raises(exc.IntegrityError), any_database.write() as connection:
        connection.execute(NEW_CHART, {"mrn": "M1"})
