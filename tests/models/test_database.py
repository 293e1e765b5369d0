"""Choosing, opening and using the database: where it is, what goes wrong in the clinic's
words, how SQLite is set up, time zones, optimistic locking and what error messages reveal."""

from __future__ import annotations

import datetime as dt
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import platformdirs
import pytest
from sqlalchemy import exc, func, make_url, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from console.models.database import (
    APP_NAME,
    DB_ENV_VAR,
    Database,
    DatabaseUnavailable,
    default_database_path,
    describe_url,
    open_database,
    resolve_database_url,
)
from console.models.schema import Patient, PortalAccount
from console.models.states import AccountState
from tests.factories import add_account, add_patient

RECOGNISABLE_EMAIL = "zelda.quixote-1987@example.org"


@pytest.fixture
def any_database(any_db_url: str) -> Iterator[Database]:
    """An empty, migrated database on each backend."""
    database = open_database(any_db_url)
    yield database
    database.dispose()


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    assert database is not None
    return Path(database)


def folder_listing(folder: Path) -> list[str]:
    return sorted(entry.name for entry in folder.iterdir())


def unavailable(url: str, **options: bool) -> str:
    """The message of the DatabaseUnavailable that opening ``url`` raises, after checking
    that it is a single line with no traceback behind it."""
    with pytest.raises(DatabaseUnavailable) as raised:
        open_database(url, **options)
    message = str(raised.value)
    assert message.strip() and "\n" not in message
    assert "Traceback" not in message and "sqlalchemy" not in message.casefold()
    error = raised.value
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    return message


# --- Which database -------------------------------------------------------------------------


def test_db_option_wins_over_environment_and_default(tmp_path: Path) -> None:
    environ = {DB_ENV_VAR: "postgresql://clinic@db.example/portal"}
    url = resolve_database_url(str(tmp_path / "option.db"), environ)
    assert url == f"sqlite:///{tmp_path / 'option.db'}"


def test_environment_wins_over_default() -> None:
    environ = {DB_ENV_VAR: "postgresql://clinic@db.example/portal"}
    assert resolve_database_url(None, environ) == "postgresql://clinic@db.example/portal"
    assert resolve_database_url("", environ) == "postgresql://clinic@db.example/portal"


def test_default_is_a_file_in_the_users_data_folder() -> None:
    url = resolve_database_url(None, {})
    path = sqlite_path(url)
    assert path == default_database_path()
    assert path.parent == Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    assert url.startswith("sqlite:///")


def test_a_bare_path_becomes_an_absolute_sqlite_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_database_url("clinic.db", {}) == f"sqlite:///{tmp_path / 'clinic.db'}"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_database_url("~/home.db", {}) == f"sqlite:///{tmp_path / 'home.db'}"


def test_urls_pass_through_unchanged() -> None:
    for url in ("sqlite:///relative.db", "postgresql+psycopg://u@h:5433/x"):
        assert resolve_database_url(url, {}) == url


def test_descriptions_never_show_the_password(tmp_path: Path) -> None:
    described = describe_url(make_url("postgresql://clinic:s3cret@db.example/portal"))
    assert "s3cret" not in described and "db.example" in described
    assert describe_url(make_url(f"sqlite:///{tmp_path}/c.db")) == f"{tmp_path}/c.db"


# --- What goes wrong when opening ----------------------------------------------------------


def test_unsupported_kind_of_database() -> None:
    message = unavailable("mysql://clinic@db.example/portal")
    assert "'mysql' databases are not supported" in message


@pytest.mark.parametrize(
    "url", ["::::", "postgresql://clinic@db.example:notaport/portal", "sqlite:///a%00b.db"]
)
def test_garbage_address(url: str) -> None:
    assert "address is not valid" in unavailable(url)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens there once the probe closes


def test_unreachable_server_message_hides_the_password() -> None:
    port = closed_port()
    message = unavailable(f"postgresql://clinic:secret@127.0.0.1:{port}/portal")
    assert "secret" not in message
    assert message.startswith("Cannot reach the database server at")
    assert f"127.0.0.1:{port}" in message


def test_a_text_file_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"Dr. Who's shopping list\n" * 200)
    before, listing = notes.read_bytes(), folder_listing(tmp_path)

    message = unavailable(resolve_database_url(str(notes), {}))

    assert "is not a Portal Account Console database" in message
    assert notes.read_bytes() == before
    assert folder_listing(tmp_path) == listing


def test_another_programs_database_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    other = tmp_path / "billing.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        connection.execute("INSERT INTO invoices (total) VALUES (12.5)")
    connection.close()
    before, listing = other.read_bytes(), folder_listing(tmp_path)

    message = unavailable(resolve_database_url(str(other), {}))

    assert "belongs to another program" in message
    assert other.read_bytes() == before  # not even switched to WAL
    assert folder_listing(tmp_path) == listing


def test_a_folder_is_refused(tmp_path: Path) -> None:
    assert "is a folder" in unavailable(resolve_database_url(str(tmp_path), {}))


def test_a_missing_file_is_refused_when_it_must_exist(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    message = unavailable(resolve_database_url(str(missing), {}), must_exist=True)
    assert message == f"There is no database at {missing}."
    assert not missing.exists()


def test_a_missing_folder_is_not_created(tmp_path: Path) -> None:
    message = unavailable(resolve_database_url(str(tmp_path / "nowhere" / "c.db"), {}))
    assert "does not exist" in message
    assert not (tmp_path / "nowhere").exists()


def test_a_database_from_a_newer_console_is_refused(any_db_url: str) -> None:
    database = open_database(any_db_url)
    with database.write() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'from_the_future'"))
    database.dispose()

    assert "upgraded by a newer Portal Account Console" in unavailable(any_db_url)


def test_a_postgresql_url_without_driver_uses_psycopg(postgres_url: str) -> None:
    database = open_database(postgres_url.replace("postgresql+psycopg://", "postgresql://"))
    try:
        assert database.engine.url.drivername == "postgresql+psycopg"
    finally:
        database.dispose()


# --- SQLite set-up and locking -------------------------------------------------------------


def test_sqlite_connections_are_set_up(database: Database) -> None:
    for engine in (database.engine, database.writer):
        with engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA foreign_keys").scalar_one() == 1
            assert pragma("PRAGMA journal_mode").scalar_one() == "wal"
            assert pragma("PRAGMA busy_timeout").scalar_one() > 0


def raw_connection(database: Database) -> sqlite3.Connection:
    """Another program's connection to the same file that gives up waiting at once."""
    path = database.engine.url.database
    assert path is not None
    return sqlite3.connect(path, timeout=0.05, isolation_level=None)


def test_a_write_transaction_holds_the_write_lock_from_its_start(database: Database) -> None:
    other = raw_connection(database)
    try:
        with database.write():
            # Nothing written yet, and still nobody else may start writing.
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            # Readers are not held up (WAL).
            assert other.execute("SELECT count(*) FROM patients").fetchone() == (0,)
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_a_read_transaction_does_not_hold_up_a_writer(database: Database) -> None:
    other = raw_connection(database)
    try:
        with database.engine.connect() as reader:
            assert reader.execute(select(func.count()).select_from(Patient)).scalar() == 0
            assert reader.in_transaction()
            other.execute("BEGIN IMMEDIATE")  # would time out at once if the reader blocked it
            other.execute(
                "INSERT INTO patients (mrn, first_name, last_name, birth_date, created_at, "
                "updated_at, version) VALUES ('M1', 'A', 'B', '2000-01-01', "
                "'2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000', 1)"
            )
            other.execute("COMMIT")
            with database.write() as writer:
                writer.execute(text("UPDATE patients SET first_name = 'Ann'"))
            # The reader keeps its snapshot until its transaction ends.
            assert reader.execute(select(func.count()).select_from(Patient)).scalar() == 0
    finally:
        other.close()


# --- Both backends: time zones, optimistic locking, unique keys, hidden values -------------


def test_timestamps_come_back_as_aware_utc(any_database: Database) -> None:
    india = dt.timezone(dt.timedelta(hours=5, minutes=30))
    moment = dt.datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=india)
    with Session(any_database.writer) as session:
        account = add_account(session, "a@example.org", last_login_at=moment)
        session.commit()
        account_id = account.id

    with Session(any_database.engine) as session:
        stored = session.get_one(PortalAccount, account_id)
        assert stored.last_login_at == moment
        assert stored.last_login_at is not None and stored.last_login_at.tzinfo == dt.UTC
        assert stored.last_login_at.hour == 20  # 01:30 in India is 20:00 UTC the day before
        assert stored.created_at.tzinfo == dt.UTC
        later = session.scalars(
            select(PortalAccount.id).where(
                PortalAccount.last_login_at > dt.datetime(2026, 3, 28, 19, 59, tzinfo=dt.UTC)
            )
        ).all()
        assert later == [account_id]


def test_a_naive_timestamp_is_refused(any_database: Database) -> None:
    with Session(any_database.writer) as session:
        with pytest.raises(exc.StatementError, match="time zone"):
            add_account(session, "a@example.org", last_login_at=dt.datetime(2026, 1, 1, 12))
        session.rollback()
        assert session.scalar(select(func.count()).select_from(PortalAccount)) == 0


def test_a_change_made_meanwhile_elsewhere_is_not_overwritten(any_database: Database) -> None:
    with Session(any_database.writer) as session:
        account_id = add_account(session, "first@example.org").id
        session.commit()

    front_desk = Session(any_database.writer, expire_on_commit=False)
    back_office = Session(any_database.writer, expire_on_commit=False)
    try:
        # Both read version 1, each in its own short transaction (the writer's transactions
        # hold the write lock, so on SQLite they cannot overlap).
        mine = front_desk.get_one(PortalAccount, account_id)
        front_desk.commit()
        theirs = back_office.get_one(PortalAccount, account_id)
        back_office.commit()

        mine.state = AccountState.RESET_PENDING
        front_desk.commit()

        add_patient(back_office, mrn="HALF-WRITTEN")  # flushed in the same transaction
        theirs.login_email = "second@example.org"
        with pytest.raises(StaleDataError):
            back_office.commit()
        back_office.rollback()
    finally:
        front_desk.close()
        back_office.close()

    with Session(any_database.engine) as session:
        stored = session.get_one(PortalAccount, account_id)
        assert (stored.state, stored.login_email, stored.version) == (
            AccountState.RESET_PENDING,
            "first@example.org",
            2,
        )
        assert stored.email_key == "first@example.org"
        assert session.scalar(select(Patient).where(Patient.mrn == "HALF-WRITTEN")) is None


def test_usernames_are_unique_without_regard_to_case(any_database: Database) -> None:
    with Session(any_database.writer) as session:
        add_account(session, None, username="Alice")
        session.commit()
        with pytest.raises(exc.IntegrityError):
            add_account(session, None, username=" alice ")
        session.rollback()
        names = session.scalars(select(PortalAccount.username)).all()
        assert names == ["Alice"]


@pytest.mark.parametrize(
    "failing_fields",
    [
        pytest.param({"failed_logins": -1}, id="check"),
        pytest.param({"username": RECOGNISABLE_EMAIL.upper()}, id="unique"),
        pytest.param({"patient_id": 999_999}, id="foreign-key"),
    ],
)
def test_error_messages_do_not_reveal_the_values_written(
    any_database: Database, failing_fields: dict[str, Any]
) -> None:
    with Session(any_database.writer) as session:
        add_account(session, "someone@example.org", username=RECOGNISABLE_EMAIL)
        session.commit()
        with pytest.raises(exc.IntegrityError) as raised:
            add_account(session, RECOGNISABLE_EMAIL, **failing_fields)
        session.rollback()

    for shown in (str(raised.value), str(raised.value.orig), repr(raised.value)):
        assert "zelda" not in shown.casefold()
    assert "hidden" in str(raised.value)
