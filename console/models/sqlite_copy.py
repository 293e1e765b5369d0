"""Copies of an embedded database (issue 14, point 3): taken while others keep working, checked
page by page, and put back in place without closing anyone's connection.

``copy_out`` uses ``VACUUM INTO``: it reads one consistent snapshot (in WAL mode, writers
carry on meanwhile) and writes a compact file, owner-only from its first byte. ``check_copy``
runs SQLite's integrity check on a file. ``copy_in`` writes a checked file's pages over the
live database with SQLite's online backup API, holding the write lock while it does: other
workstations wait for it as for any writer, then read the restored data.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Connection, create_engine

from console.models.database import Database, DatabaseUnavailable
from console.models.private_files import create_private_file

SQLITE_HEADER = b"SQLite format 3\x00"


def database_file(database: Database) -> Path:
    """The file of an embedded database; ``DatabaseUnavailable`` for a server's."""
    url = database.engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        raise DatabaseUnavailable(
            "Backups of a PostgreSQL database are made with the server's own tools "
            "(pg_dump and pg_restore): see 'Backups' in the README."
        )
    return Path(str(url.database))


def copy_out(database: Database, target: Path) -> None:
    """Write a consistent copy of the embedded ``database`` to the new file ``target``."""
    create_private_file(target)  # VACUUM INTO fills an empty file and keeps its mode
    try:
        raw = database.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("VACUUM INTO ?", (str(target),))
            cursor.close()
        finally:
            raw.close()
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def check_copy(path: Path) -> str | None:
    """What is wrong with the database file ``path`` (not one, or damaged), in the clinic's
    words; None when SQLite's integrity check finds nothing."""
    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except OSError as error:
        return f"{path} cannot be read ({error.strerror})."
    if header != SQLITE_HEADER:
        return f"{path} is not a database backup."
    try:
        with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as connection:
            found = [row[0] for row in connection.execute("PRAGMA integrity_check(5)")]
    except sqlite3.DatabaseError:
        return f"{path} is damaged: SQLite cannot read it."
    if found != ["ok"]:
        return f"{path} is damaged: SQLite's integrity check found {len(found)} problem(s)."
    return None


@contextmanager
def read_only(path: Path) -> Iterator[Connection]:
    """A connection that can only read the database file ``path`` (a backup is checked
    without changing a byte of it)."""
    engine = create_engine(f"sqlite:///file:{quote(str(path))}?mode=ro&uri=true")
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def copy_in(source: Path, database: Database) -> None:
    """Write every page of the checked database file ``source`` over the live embedded
    ``database``, in one step under the write lock."""
    target = database_file(database)
    with (
        closing(sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True)) as reading,
        closing(sqlite3.connect(target, timeout=30)) as writing,
    ):
        reading.backup(writing)


__all__ = ["SQLITE_HEADER", "check_copy", "copy_in", "copy_out", "database_file", "read_only"]
