"""What went wrong with the database, in the clinic's words.

Opening a database can fail in many ways (a mistyped path, a text file, a server that refuses
the password), and so can a database in use: a damaged file, a file or a disk that is
read-only, a full disk, another workstation writing for longer than a command waits. Each of
these becomes a ``DatabaseUnavailable`` whose message is one line that says what happened,
that nothing (more) was written, and what to do — never SQL, a traceback or a value written.

``translate_database_errors`` installs the translation on an engine, so that every caller
(the window's workers, the headless commands, the mail relay) gets the same sentence instead
of a driver's error; errors that mean "try again" (a lost race, a deadlock) are left as they
are, for ``console.services.errors.changed_elsewhere`` to turn into a reload.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, event
from sqlalchemy.engine import URL, ExceptionContext

# SQLite's primary result codes (an extended code keeps them in its low byte).
_SQLITE_READONLY = 8
_SQLITE_IOERR = 10
_SQLITE_CORRUPT = 11
_SQLITE_FULL = 13
_SQLITE_CANTOPEN = 14
_SQLITE_NOTADB = 26
# PostgreSQL's SQLSTATEs for the same situations on a server.
_PG_READ_ONLY = "25006"  # read_only_sql_transaction (e.g. a standby, or a read-only database)
_PG_DISK_FULL = "53100"
_PG_DAMAGED = frozenset({"XX001", "XX002"})  # data_corrupted, index_corrupted


class DatabaseUnavailable(Exception):
    """The database cannot be opened or used; the message says why in the clinic's words."""


class DatabaseNeedsPassword(DatabaseUnavailable):
    """The database server wants a password that was not given, or refused the one given."""


class DatabaseNeedsKey(DatabaseUnavailable):
    """An encrypted database was opened without its key, or with another one."""


class DatabaseDamaged(DatabaseUnavailable):
    """Part of the database cannot be read: the file (or the server's data) is damaged."""


class DatabaseReadOnly(DatabaseUnavailable):
    """The database may be read here but not changed; the change was not written."""


class DatabaseFull(DatabaseUnavailable):
    """The disk holding the database is full; the change was not written."""


class DatabaseBusy(DatabaseUnavailable):
    """Another workstation kept writing for longer than this one waits; nothing was
    written here."""


def describe_url(url: URL) -> str:
    """A URL as shown to staff: SQLite as its file path, servers without the password."""
    if url.get_backend_name() == "sqlite":
        return url.database or "in-memory database"
    return url.render_as_string(hide_password=True)


def trouble_in_use(error: BaseException, url: URL) -> DatabaseUnavailable | None:
    """The clinic's sentence for ``error`` (a driver's error, or SQLAlchemy's wrapping of one)
    raised while using the database at ``url``, when it is one a person can act on; None for
    anything else."""
    where = describe_url(url)
    original = getattr(error, "orig", None) or error
    code = getattr(original, "sqlite_errorcode", None)
    state = getattr(original, "sqlstate", None)
    if code is not None:
        primary = code & 0xFF
        if primary == _SQLITE_CORRUPT:
            return DatabaseDamaged(_damaged(where))
        if primary == _SQLITE_NOTADB:
            return DatabaseUnavailable(
                f"{where} is not a Portal Account Console database (or it is damaged)."
            )
        if primary == _SQLITE_READONLY:
            return DatabaseReadOnly(
                f"{where} is read-only for this user (the file, its folder or the disk), so "
                "nothing was written. Ask your IT support to let this user change it."
            )
        if primary == _SQLITE_CANTOPEN and _read_only_place(url):
            # SQLite cannot make its -wal and -shm files beside the database.
            return DatabaseReadOnly(
                f"{where} is in a folder or on a disk that is read-only for this user, so it "
                "cannot be opened and nothing was written. Ask your IT support to let this "
                "user change it, or copy the database where this user may write."
            )
        if primary == _SQLITE_FULL:
            return DatabaseFull(
                f"The disk holding {where} is full, so nothing was written. Free some space "
                "on it (or ask your IT support) and try again."
            )
        if primary == _SQLITE_IOERR:
            return DatabaseUnavailable(
                f"The disk holding {where} failed to read or write, so nothing was written. "
                "Ask your IT support to check the disk before trying again."
            )
    elif state is not None:
        if state in _PG_DAMAGED:
            return DatabaseDamaged(_damaged(f"The database on the server at {where}"))
        if state == _PG_READ_ONLY:
            return DatabaseReadOnly(
                f"The database server at {where} accepts no changes at the moment "
                "(read-only), so nothing was written. Ask your IT support."
            )
        if state == _PG_DISK_FULL:
            return DatabaseFull(
                f"The database server at {where} has run out of disk space, so nothing was "
                "written. Ask your IT support to free some."
            )
    return None


def trouble_opening(error: BaseException, url: URL) -> DatabaseUnavailable:
    """The clinic's sentence for ``error`` raised while connecting to ``url`` or reading
    what it holds."""
    known = trouble_in_use(error, url)
    if known is not None:
        return known
    where = describe_url(url)
    reason = str(getattr(error, "orig", error) or error).strip().splitlines()[0]
    if url.get_backend_name() == "sqlite":
        if "locked" in reason:
            return DatabaseBusy(
                f"{where} is in use by another program and did not become free in time."
            )
        return DatabaseUnavailable(f"Cannot open {where}: {reason}.")
    if "password authentication failed" in reason:
        return DatabaseNeedsPassword(
            f"The database server at {where} refused the user name or password."
        )
    if "no password supplied" in reason:
        return DatabaseNeedsPassword(f"The database server at {where} needs a password.")
    if "does not exist" in reason:
        return DatabaseUnavailable(f"The database server at {where} has no such database or user.")
    return DatabaseUnavailable(f"Cannot reach the database server at {where}: {reason}.")


def busy_too_long(url: URL, seconds: float) -> DatabaseBusy:
    """Another workstation held the write lock for all of ``seconds``."""
    return DatabaseBusy(
        f"Another workstation has been writing to {describe_url(url)} for more than "
        f"{seconds:g} seconds, so nothing was written here. Try again in a moment."
    )


def translate_database_errors(engine: Engine) -> None:
    """Have every statement on ``engine`` raise the clinic's sentence for an error a person
    can act on (``trouble_in_use``) instead of the driver's error."""
    event.listen(engine, "handle_error", _translated)


def _translated(context: ExceptionContext) -> None:
    if context.engine is None:
        return
    trouble = trouble_in_use(context.original_exception, context.engine.url)
    if trouble is not None:
        raise trouble  # SQLAlchemy raises what a handler raises, in place of its own error


def _read_only_place(url: URL) -> bool:
    """Whether this user may not write to the SQLite file ``url`` names, or to its folder
    (a read-only disk refuses even root)."""
    if not url.database or url.database == ":memory:":
        return False
    path = Path(url.database)
    try:
        return not os.access(path.parent, os.W_OK) or (
            path.exists() and not os.access(path, os.W_OK)
        )
    except OSError:
        return False


def _damaged(what: str) -> str:
    return (
        f"{what} is damaged: part of it cannot be read. Stop using it on every workstation "
        "and restore it from the clinic's latest backup (ask your IT support)."
    )


__all__ = [
    "DatabaseBusy",
    "DatabaseDamaged",
    "DatabaseFull",
    "DatabaseNeedsKey",
    "DatabaseNeedsPassword",
    "DatabaseReadOnly",
    "DatabaseUnavailable",
    "busy_too_long",
    "describe_url",
    "translate_database_errors",
    "trouble_in_use",
    "trouble_opening",
]
