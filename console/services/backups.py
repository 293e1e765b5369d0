"""Backups that restore (issue 14, point 3): an administrator copies the live embedded database
while others keep working, and puts a copy back only once it has passed every check.

A backup is checked as soon as it is written (SQLite's integrity check, and its audit chain
under this clinic's key): a copy that would not restore is removed at once rather than kept
to fail on the day it is needed. A restore checks the file the same way, brings its schema
up to date on a scratch copy, and refuses a backup of another clinic database (its audit log
does not fit this clinic's key). Both are in the audit log; a restore's event is the first
of the restored log, so that it shows what happened to it.

PostgreSQL has its own tools for this (``pg_dump``, ``pg_restore``: see the README).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection

from console.models.database import open_database, resolve_database_url
from console.models.private_files import create_private_file, with_companions
from console.models.schema import StaffUser
from console.models.sqlite_copy import check_copy, copy_in, copy_out, database_file, read_only
from console.services.audit.key import read_head
from console.services.audit.verifier import verify_chain
from console.services.errors import DomainError
from console.services.imports.files import file_sha256
from console.services.permissions import Actor, Permission
from console.services.workstation import Workstation, writing


class BackupRefused(DomainError):
    """A backup or a restore that cannot be done; nothing was changed."""


@dataclass(frozen=True)
class BackupDone:
    """A backup written and checked, or a restore done: the file, its size and SHA-256."""

    path: Path
    size: int
    sha256: str
    audit_events: int


def back_up(workstation: Workstation, actor: Actor, target: Path) -> BackupDone:
    """Copy the embedded database to the new file ``target`` (owner-only) and check it."""
    actor.require(Permission.BACK_UP_AND_RESTORE)
    database = workstation.database
    source = database_file(database)
    if target.exists():
        raise BackupRefused(f"There is already a file at {target}; choose another name.")
    if not target.parent.is_dir():
        raise BackupRefused(f"The folder {target.parent} does not exist.")
    if target.resolve() == source.resolve():
        raise BackupRefused("A backup cannot be written over the database itself.")
    with writing(workstation, actor, Permission.BACK_UP_AND_RESTORE) as session:
        workstation.audit.record(session, "backup_made", actor=actor, details={"file": target.name})
    try:
        copy_out(database, target)
        events = _check(workstation, target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return _done(target, events)


def restore(workstation: Workstation, actor: Actor, backup: Path) -> BackupDone:
    """Put the checked backup ``backup`` in the place of the live embedded database."""
    actor.require(Permission.BACK_UP_AND_RESTORE)
    live = database_file(workstation.database)
    scratch = live.with_name(f".{live.name}.restore-{os.getpid()}")
    for leftover in with_companions(scratch):
        leftover.unlink(missing_ok=True)
    _check(workstation, backup)
    try:
        # Brought up to date (an older version's backup) and checked again on a scratch
        # copy: the backup itself stays as it is.
        create_private_file(scratch)
        shutil.copyfile(backup, scratch)
        upgraded = open_database(
            resolve_database_url(str(scratch), {}),
            must_exist=True,
            cipher_key=workstation.database.cipher_key,
        )
        try:
            with upgraded.engine.connect() as connection:
                events = _verified(workstation, connection, backup)
        finally:
            upgraded.dispose()
        done = _done(backup, events)
        copy_in(scratch, workstation.database)
    finally:
        for path in with_companions(scratch):
            path.unlink(missing_ok=True)
    _record_restore(workstation, actor, done)
    return done


def _check(workstation: Workstation, path: Path) -> int:
    """Check the backup ``path`` as it is, changing nothing in it: readable, undamaged, and
    its audit chain whole under this clinic's key. Its number of audit events comes back."""
    key = workstation.database.cipher_key
    if problem := check_copy(path, key):
        raise BackupRefused(problem)
    with read_only(path, key) as connection:
        return _verified(workstation, connection, path)


def _verified(workstation: Workstation, connection: Connection, shown: Path) -> int:
    with workstation.database.engine.connect() as live:
        ours = read_head(live).database_id
    try:
        theirs = read_head(connection).database_id
        report = verify_chain(connection, workstation.audit.key)
    except DomainError as error:
        raise BackupRefused(f"{shown} cannot be trusted: {error}") from None
    if theirs != ours:
        raise BackupRefused(f"{shown} is a backup of another clinic database, not of this one.")
    if not report.ok:
        raise BackupRefused(
            f"{shown} cannot be trusted: its audit log is broken ({report.summary()})."
        )
    return report.events


def _record_restore(workstation: Workstation, actor: Actor, done: BackupDone) -> None:
    details = {"file": done.path.name, "sha256": done.sha256, "restored_by": actor.username}
    with writing(workstation) as session:
        # The restored log may be older than this member of staff.
        known = session.get(StaffUser, actor.id) is not None
        workstation.audit.record(
            session, "database_restored", actor=actor if known else None, details=details
        )


def _done(path: Path, events: int) -> BackupDone:
    return BackupDone(path, path.stat().st_size, file_sha256(path), events)


__all__ = ["BackupDone", "BackupRefused", "back_up", "restore"]
