"""Opening the clinic's database: choosing it, connecting safely, and bringing its schema up
to date through the migrations.

One SQLite file in the user's data directory is the embedded default; several workstations
share one PostgreSQL server instead. Whatever goes wrong while opening becomes a
``DatabaseUnavailable`` with one line a clinic can act on, never a traceback; so does what
goes wrong later that a person can act on (``console.models.database_trouble``).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from importlib.resources import files
from pathlib import Path
from typing import Any

import platformdirs
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, create_engine, event, exc, inspect, make_url
from sqlalchemy.engine import URL, ExceptionContext

from console.models.database_trouble import (
    DatabaseNeedsKey,
    DatabaseNeedsPassword,
    DatabaseUnavailable,
    busy_too_long,
    describe_url,
    translate_database_errors,
    trouble_opening,
)
from console.models.encryption import cipher_dbapi, opening_statements, opens_encrypted
from console.models.file_systems import network_file_system
from console.models.private_files import (
    create_private_file,
    exposure_warning,
    make_private,
    private_folder,
)

APP_NAME = "portal-console"
DB_ENV_VAR = "PORTAL_CONSOLE_DB"
SQLITE_BUSY_TIMEOUT_MS = 5000
#: How long a write waits for another workstation's write before ``on_wait`` is told.
SQLITE_WAIT_NOTICE_MS = 1000
#: How the write engine marks its transactions; see ``_begin``.
_WRITE_OPTION = "portal_console_write"
_SQLITE_BUSY = 5


@dataclass(frozen=True)
class Database:
    """An open, up-to-date database.

    ``engine`` is for reading. ``writer`` shares its connection pool but takes the write lock
    when its transaction begins (SQLite ``BEGIN IMMEDIATE``), so two workstations writing at
    once queue up instead of failing half-way with "database is locked".
    """

    engine: Engine
    writer: Engine
    #: What to tell the clinic about the database's files (readable by others), if anything.
    exposure: str | None = None
    #: The key an embedded database is encrypted with (SQLCipher), None when it is plain.
    #: Its backups are encrypted with it too; never shown (``repr``) or logged.
    cipher_key: bytes | None = field(default=None, repr=False)

    @property
    def encrypted(self) -> bool:
        """Whether the database is encrypted at rest."""
        return self.cipher_key is not None

    @property
    def display_name(self) -> str:
        """Where the data lives, safe to show on screen (no password)."""
        return describe_url(self.engine.url)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed when the block ends, rolled back on any error."""
        with self.writer.begin() as connection:
            yield connection

    def make_private(self) -> list[Path]:
        """Make an embedded database's files owner-only; the files changed come back (none
        for a server, which keeps its files itself)."""
        path = self.engine.url.database
        if self.engine.url.get_backend_name() != "sqlite" or path in (None, "", ":memory:"):
            return []
        return make_private(Path(str(path)))

    def dispose(self) -> None:
        """Close every pooled connection (at exit, and between tests)."""
        self.engine.dispose()


def default_database_path() -> Path:
    """The embedded database in the user's data directory."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "portal-console.db"


def resolve_database_url(cli_value: str | None, environ: os._Environ[str] | dict[str, str]) -> str:
    """``--db`` wins, then ``PORTAL_CONSOLE_DB``, then the embedded default. A value without
    ``://`` is taken as the path of a SQLite file."""
    value = cli_value or environ.get(DB_ENV_VAR) or str(default_database_path())
    if "://" in value:
        return value
    return str(URL.create("sqlite", database=str(Path(value).expanduser().absolute())))


def open_database(
    url_text: str,
    *,
    must_exist: bool = False,
    upgrade: bool = True,
    on_wait: Callable[[], None] | None = None,
    cipher_key: bytes | None = None,
) -> Database:
    """Connect to ``url_text`` and upgrade its schema to the newest migration.

    Whether the schema is up to date is read without taking the write lock, which is taken
    only when there is a migration to run: a workstation opening the database while another
    one writes is not held up (SQLite in WAL mode lets readers go on beside a writer).

    ``must_exist`` refuses a SQLite file that is not there yet (a read command pointed at a
    mistyped path should say so rather than create an empty database). ``on_wait`` is
    called when a write on SQLite has waited a second for another workstation's write, so
    that a person can be told why nothing happens yet. With ``cipher_key``, a new SQLite
    file is created encrypted and an encrypted one is opened with it; a plain file stays
    plain. An encrypted file without its key is refused (``DatabaseNeedsKey``).
    """
    url = _parse(url_text)
    backend = url.get_backend_name()
    encrypted = False
    if backend == "sqlite":
        _check_sqlite_path(url, must_exist)
        encrypted = url.database not in (None, "", ":memory:") and opens_encrypted(
            Path(str(url.database)), cipher_key
        )
        engine = create_engine(
            url,
            hide_parameters=True,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            **({"module": cipher_dbapi()} if encrypted else {}),
        )
        key = cipher_key if encrypted else None
        event.listen(engine, "connect", lambda raw, record: _sqlite_connect(raw, record, key))
        event.listen(engine, "begin", _sqlite_begin(url, on_wait))
    else:
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        engine = create_engine(
            url,
            hide_parameters=True,
            pool_pre_ping=True,
            connect_args={"connect_timeout": 5, "application_name": APP_NAME},
        )
    event.listen(engine, "handle_error", _without_row_values)
    translate_database_errors(engine)
    database = Database(
        engine=engine,
        writer=engine.execution_options(**{_WRITE_OPTION: True}),
        cipher_key=cipher_key if encrypted else None,
    )
    try:
        with database.engine.connect() as connection:
            _refuse_foreign_database(connection, url)
            behind = upgrade and _schema_is_behind(connection, url)
        if backend == "sqlite":
            _use_wal(engine)
        if behind:
            with database.write() as connection:
                command.upgrade(alembic_config(connection), "head")
    except (exc.DBAPIError, sqlite3.Error, cipher_dbapi().Error) as error:
        engine.dispose()
        raise trouble_opening(error, url) from None
    except CommandError:
        engine.dispose()
        raise _newer_console(url) from None
    except DatabaseUnavailable as error:
        engine.dispose()
        raise error from None  # what the driver said is not for the person at the desk
    on_disk = backend == "sqlite" and url.database not in (None, "", ":memory:")
    if on_disk and (warning := exposure_warning(Path(str(url.database)))):
        database = replace(database, exposure=warning)
    return database


def alembic_config(connection: Connection | None = None) -> Config:
    """The Alembic configuration of the migrations shipped inside this package."""
    config = Config()
    config.set_main_option("script_location", str(files("console.models") / "migrations"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _schema_is_behind(connection: Connection, url: URL) -> bool:
    """Whether migrations are still to run, read in a plain read transaction. A revision
    this console does not know comes from a newer console, and is refused."""
    current = set(MigrationContext.configure(connection).get_current_heads())
    script = ScriptDirectory.from_config(alembic_config())
    if current - {revision.revision for revision in script.walk_revisions()}:
        raise _newer_console(url)
    return current != set(script.get_heads())


def _newer_console(url: URL) -> DatabaseUnavailable:
    return DatabaseUnavailable(
        f"{describe_url(url)} was upgraded by a newer Portal Account Console; "
        "install the newer version on this workstation too."
    )


def _refuse_foreign_database(connection: Connection, url: URL) -> None:
    """Never add our tables to another program's database."""
    tables = set(inspect(connection).get_table_names())
    if tables and "alembic_version" not in tables:
        raise DatabaseUnavailable(
            f"{describe_url(url)} belongs to another program: it is not a Portal Account "
            "Console database."
        )


def _parse(url_text: str) -> URL:
    try:
        url = make_url(url_text)
        if "\x00" in (url.database or ""):
            raise ValueError("a NUL character in the database name")
    except (exc.ArgumentError, ValueError):  # ValueError: e.g. a port that is not a number
        raise DatabaseUnavailable(
            "The database address is not valid. Use a file path, sqlite:///PATH or "
            "postgresql://USER@HOST/NAME."
        ) from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseUnavailable(
            f"'{url.get_backend_name()}' databases are not supported: use a SQLite file or a "
            "PostgreSQL server."
        )
    if url.get_backend_name() == "postgresql" and url.get_driver_name() not in (
        "psycopg",
        "postgresql",
    ):
        url = url.set(drivername="postgresql+psycopg")
    return url


def _check_sqlite_path(url: URL, must_exist: bool) -> None:
    if not url.database or url.database == ":memory:":
        return
    path = Path(url.database)
    try:
        is_dir, exists, folder_exists = path.is_dir(), path.exists(), path.parent.exists()
    except OSError as error:  # e.g. a name longer than the file system allows
        raise DatabaseUnavailable(f"Cannot use {path}: {error.strerror}.") from None
    if is_dir:
        raise DatabaseUnavailable(f"{path} is a folder, not a database file.")
    if must_exist and not exists:
        raise DatabaseUnavailable(f"There is no database at {path}.")
    if not folder_exists:
        if url.database == str(default_database_path()):
            private_folder(path.parent)
        else:
            raise DatabaseUnavailable(f"The folder {path.parent} does not exist.")
    if kind := network_file_system(path.parent):
        raise DatabaseUnavailable(
            f"{path} is on a network file system ({kind}), where SQLite cannot keep two "
            "workstations from damaging the file. Keep the database on this computer's own "
            "disk, or point every workstation at one PostgreSQL server."
        )
    if not exists:
        # Owner-only from its first byte; SQLite gives its -wal and -shm files the same mode.
        try:
            create_private_file(path)
        except FileExistsError:
            pass  # another workstation's console made it meanwhile
        except OSError as error:
            raise DatabaseUnavailable(
                f"Cannot create the database {path}: {error.strerror}."
            ) from None


def _sqlite_connect(dbapi_connection: Any, _record: Any, key: bytes | None = None) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (the pysqlite driver's own implicit
    # transactions would defer locking to the first write, see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        if key is not None:
            _open_with_key(cursor, key)
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _open_with_key(cursor: Any, key: bytes) -> None:
    """SQLCipher: the key before anything else reads the file, then one read that shows
    whether it is the right one (SQLCipher itself only finds out at the first read)."""
    for statement in opening_statements(key):
        cursor.execute(statement)
    try:
        cursor.execute("SELECT count(*) FROM sqlite_master").fetchall()
    except cipher_dbapi().DatabaseError:
        raise DatabaseNeedsKey(
            "The database is encrypted, and the key this workstation has for it does not "
            "open it (another clinic database's key, or a damaged file)."
        ) from None


def _use_wal(engine: Engine) -> None:
    # WAL lets readers go on while a workstation writes. The journal mode is stored in the file
    # itself (and stays), so it is set only once the file is known to be ours or new: setting
    # it on every connection rewrote the header of another program's database before
    # _refuse_foreign_database turned it away. Outside any transaction, as SQLite requires.
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()
    finally:
        raw.close()


def _without_row_values(context: ExceptionContext) -> None:
    # hide_parameters keeps bound values out of error messages, but PostgreSQL repeats them
    # in the DETAIL of a constraint violation ("Key (username_key)=(...) already exists",
    # "Failing row contains (..., jane.doe@example.org, ...)"), and such messages end up in
    # logs and on screen. Keep only the primary message; the details stay in ``orig.diag``.
    original = context.original_exception
    primary = getattr(getattr(original, "diag", None), "message_primary", None)
    if not primary:
        return
    original.args = (primary,)
    if context.sqlalchemy_exception is not None:  # its message was made from the full text
        kind = type(original)
        context.sqlalchemy_exception.args = (f"({kind.__module__}.{kind.__qualname__}) {primary}",)


def _sqlite_begin(url: URL, on_wait: Callable[[], None] | None) -> Callable[[Connection], None]:
    """The "begin" event of a SQLite engine: a write transaction takes the write lock at
    BEGIN; if it waited until its first write, another writer could slip in between its
    reads and its write and it would fail with "database is locked" half-way through an
    action. Readers keep a deferred BEGIN so that, under WAL, they never wait for writers.

    A writer behind another workstation's write waits ``SQLITE_BUSY_TIMEOUT_MS`` in all:
    after the first ``SQLITE_WAIT_NOTICE_MS`` it calls ``on_wait``, and at the end it gives
    up with ``DatabaseBusy``, having written nothing."""

    def begin(connection: Connection) -> None:
        if not connection.get_execution_options().get(_WRITE_OPTION):
            connection.exec_driver_sql("BEGIN DEFERRED")
            return
        first = min(SQLITE_WAIT_NOTICE_MS, SQLITE_BUSY_TIMEOUT_MS)
        try:
            if _begin_immediate(connection, first):
                return
            if on_wait is not None:
                on_wait()
            if not _begin_immediate(connection, SQLITE_BUSY_TIMEOUT_MS - first):
                raise busy_too_long(url, SQLITE_BUSY_TIMEOUT_MS / 1000)
        finally:
            connection.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")

    return begin


def _begin_immediate(connection: Connection, wait_ms: int) -> bool:
    """``BEGIN IMMEDIATE``, waiting up to ``wait_ms`` for the write lock; False when another
    connection still held it then."""
    connection.exec_driver_sql(f"PRAGMA busy_timeout = {wait_ms}")
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except exc.OperationalError as error:
        if getattr(error.orig, "sqlite_errorcode", 0) & 0xFF != _SQLITE_BUSY:
            raise
        return False
    return True


__all__ = [
    "APP_NAME",
    "DB_ENV_VAR",
    "SQLITE_BUSY_TIMEOUT_MS",
    "SQLITE_WAIT_NOTICE_MS",
    "Database",
    "DatabaseNeedsKey",
    "DatabaseNeedsPassword",
    "DatabaseUnavailable",
    "alembic_config",
    "default_database_path",
    "describe_url",
    "open_database",
    "resolve_database_url",
]
