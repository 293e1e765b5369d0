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
from typing import Any

from sqlalchemy import Connection, create_engine

from console.models.database import Database, DatabaseUnavailable
from console.models.encryption import (
    DEFAULT_HMAC,
    FileState,
    cipher_dbapi,
    file_state,
    opening_statements,
    raw_key,
)
from console.models.private_files import create_private_file


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


def check_copy(path: Path, key: bytes | None) -> str | None:
    """What is wrong with the database file ``path`` (not one, damaged, or not encrypted
    with ``key``), in the clinic's words; None when SQLite's integrity check finds nothing."""
    if not path.is_file():
        return f"There is no backup file at {path}."
    try:
        state = file_state(path)
    except OSError as error:
        return f"{path} cannot be read ({error.strerror})."
    if state is FileState.NEW or (state is FileState.ENCRYPTED) != (key is not None):
        return f"{path} is not a database backup{' of this encrypted database' if key else ''}."
    try:
        with closing(_connect(path, key, read_only=True)) as connection:
            found = [row[0] for row in connection.execute("PRAGMA integrity_check(5)")]
    except (sqlite3.DatabaseError, cipher_dbapi().DatabaseError):
        if key is not None:
            return f"{path} is damaged, or encrypted with another key: it cannot be read."
        return f"{path} is damaged: SQLite cannot read it."
    if found != ["ok"]:
        return f"{path} is damaged: SQLite's integrity check found {len(found)} problem(s)."
    return None


@contextmanager
def read_only(path: Path, key: bytes | None) -> Iterator[Connection]:
    """A connection that can only read the database file ``path`` (a backup is checked
    without changing a byte of it), encrypted with ``key`` if given."""
    engine = create_engine("sqlite://", creator=lambda: _connect(path, key, read_only=True))
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def copy_in(source: Path, database: Database) -> None:
    """Write every page of the checked database file ``source`` over the live embedded
    ``database``, in one step under the write lock."""
    target = database_file(database)
    key = database.cipher_key
    with (
        closing(_connect(source, key, read_only=True)) as reading,
        closing(_connect(target, key, read_only=False)) as writing,
    ):
        reading.backup(writing)


def encrypt_copy(database: Database, target: Path, key: bytes) -> None:
    """Write an encrypted copy (``key``) of the plain embedded ``database`` to the new file
    ``target``, with SQLCipher's export. Only while no other connection has the database
    open: ``DatabaseUnavailable`` otherwise (a workstation still writing to the plain file
    would lose its work once the encrypted one takes its place)."""
    source = database_file(database)
    # This console's own connections go first: SQLCipher's library, not the standard one,
    # reads the plain file for the export (see ``_connect``).
    database.dispose()
    create_private_file(target)
    try:
        with closing(cipher_dbapi().connect(str(source), timeout=30)) as plain:
            plain.isolation_level = None
            try:
                # Leaving WAL mode needs the only connection: the test that no one else is in.
                # It also folds the WAL into the file and removes it, so that no plain WAL
                # is left beside the encrypted file that takes this one's place.
                mode = plain.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
            except cipher_dbapi().OperationalError:
                mode = "wal"
            if mode != "delete":
                raise DatabaseUnavailable(
                    f"{source} is open on another workstation or in another program. Close "
                    "the console everywhere else, then encrypt it."
                )
            # Settings for an attached file are the connection's defaults when it attaches.
            plain.execute(DEFAULT_HMAC)
            plain.execute("ATTACH DATABASE ? AS encrypted KEY ?", (str(target), raw_key(key)))
            plain.execute("SELECT sqlcipher_export('encrypted')")
            plain.execute("DETACH DATABASE encrypted")
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _connect(path: Path, key: bytes | None, *, read_only: bool) -> Any:
    """A DB-API connection to ``path``, through the SQLite library the console's own engine
    uses for such a file: the standard one for a plain file, SQLCipher's (opened with
    ``key``) for an encrypted one. Two copies of SQLite in one process must never hold the
    same file: closing one's handle drops the other's locks."""
    module: Any = sqlite3 if key is None else cipher_dbapi()
    where = f"{path.absolute().as_uri()}?mode=ro" if read_only else str(path)
    connection = module.connect(where, uri=read_only, timeout=30, check_same_thread=False)
    for statement in opening_statements(key) if key is not None else ():
        connection.execute(statement)
    return connection


__all__ = ["check_copy", "copy_in", "copy_out", "database_file", "encrypt_copy", "read_only"]
