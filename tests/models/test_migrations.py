"""The migrations create the schema of the models, on SQLite and PostgreSQL alike, and can be
undone and redone."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, inspect, make_url, text

from console.models.account_search import has_search_index, in_models, is_search_index_table
from console.models.database import Database, alembic_config, open_database
from console.models.schema import Base
from tests.factories import sqlite_has_trigram


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def schema_differences(database: Database) -> list[object]:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_name": in_models,  # as the migrations' env.py does
            },
        )
        return list(compare_metadata(context, Base.metadata))


def trigger_names(connection: Connection) -> set[str]:
    if connection.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    return set(connection.execute(text(query)).scalars())


def test_there_is_exactly_one_head() -> None:
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


def test_opening_a_new_database_upgrades_it_to_head(any_db_url: str) -> None:
    database = open_database(any_db_url)
    try:
        with database.engine.connect() as connection:
            assert current_revision(connection) == head_revision()
            tables = set(inspect(connection).get_table_names())
            model_tables = {name for name in tables if not is_search_index_table(name)}
            assert set(Base.metadata.tables) | {"alembic_version"} == model_tables
            # SQLite also has the trigram search index, where its FTS5 has the tokenizer.
            indexed = connection.dialect.name == "sqlite" and sqlite_has_trigram()
            assert has_search_index(connection) == indexed
            assert ({"account_search", "account_search_text"} <= tables) == indexed
            assert trigger_names(connection)  # the shared-e-mail flag is kept by triggers
    finally:
        database.dispose()


def test_migration_head_matches_the_models(any_db_url: str) -> None:
    database = open_database(any_db_url)
    try:
        assert schema_differences(database) == []
    finally:
        database.dispose()


def test_downgrade_to_base_and_upgrade_again(any_db_url: str) -> None:
    database = open_database(any_db_url)
    try:
        with database.write() as connection:
            command.downgrade(alembic_config(connection), "base")
        with database.engine.connect() as connection:
            assert current_revision(connection) is None
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
            assert trigger_names(connection) == set()

        with database.write() as connection:
            command.upgrade(alembic_config(connection), "head")
        with database.engine.connect() as connection:
            assert current_revision(connection) == head_revision()
            assert trigger_names(connection)
        assert schema_differences(database) == []
    finally:
        database.dispose()


def test_opening_a_current_database_again_changes_nothing(any_db_url: str) -> None:
    first = open_database(any_db_url)
    try:
        with first.write() as connection:
            connection.execute(
                text(
                    "INSERT INTO patients (mrn, first_name, last_name, birth_date, created_at, "
                    "updated_at, version) VALUES ('M1', 'Ada', 'Lovelace', '1815-12-10', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
                )
            )
        with first.engine.connect() as connection:
            triggers_before = trigger_names(connection)
    finally:
        first.dispose()

    second = open_database(any_db_url)
    try:
        with second.engine.connect() as connection:
            assert current_revision(connection) == head_revision()
            assert connection.execute(text("SELECT mrn FROM patients")).scalars().all() == ["M1"]
            assert trigger_names(connection) == triggers_before
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
            assert versions == [(head_revision(),)]
    finally:
        second.dispose()


def test_upgrade_false_leaves_a_new_database_empty(any_db_url: str) -> None:
    database = open_database(any_db_url, upgrade=False)
    try:
        with database.engine.connect() as connection:
            assert inspect(connection).get_table_names() == []
    finally:
        database.dispose()


@contextmanager
def another_workstation_writing(url: str) -> Iterator[None]:
    """Another workstation in the middle of writing: on SQLite, a connection holding the
    write lock (``BEGIN IMMEDIATE``); on PostgreSQL, a transaction that holds the lock a
    workstation upgrading the schema takes (migrations/env.py) and has written a row."""
    if url.startswith("sqlite"):
        path = make_url(url).database
        assert path is not None
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("SELECT pg_advisory_xact_lock(hashtext('portal-console-schema'))")
            )
            connection.execute(
                text(
                    "INSERT INTO patients (mrn, first_name, last_name, birth_date, created_at, "
                    "updated_at, version) VALUES ('W1', 'Wendy', 'Writer', '1990-01-01', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
                )
            )
            yield
            connection.rollback()
    finally:
        engine.dispose()


def test_opening_a_current_database_waits_for_no_writer(any_db_url: str) -> None:
    """Whether the schema is up to date is read without the write lock: a workstation that
    opens the database while another one writes is not held up (issue 14, point 7)."""
    open_database(any_db_url).dispose()
    opened: list[Database] = []
    with another_workstation_writing(any_db_url):
        opening = threading.Thread(target=lambda: opened.append(open_database(any_db_url)))
        started = time.monotonic()
        opening.start()
        opening.join(timeout=2.0)
        waited = time.monotonic() - started
    opening.join()  # the writer is done: a thread that waited for it ends now
    for database in opened:
        database.dispose()
    assert waited < 2.0 and opened, f"opening waited {waited:.1f} s for the writer"
