"""Files that hold patient data, readable by their owner only (issue 14, point 2): the SQLite
database with its WAL and shared-memory files, backups, reports and exports.

Every such file is created ``0600`` and every folder made for one ``0700``, whatever the
umask (the mode is set again after creating, since a umask can only take bits away, and an
odd one like ``0277`` would leave even the owner unable to write). SQLite creates a
database's ``-wal`` and ``-shm`` files with the database file's own permissions, so a
database created private stays private. One found readable by others (copied in from
elsewhere, made by an older version) is reported when it is opened, and ``make_private``
fixes it on request.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TextIO

FILE_MODE = 0o600
FOLDER_MODE = 0o700
#: The files SQLite keeps beside a database.
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_folder(path: Path) -> None:
    """Make the folder ``path`` (and the missing ones above it) for its owner only; a folder
    that exists already is left as it is (it may be the clinic's own shared folder)."""
    missing = [folder for folder in (path, *path.parents) if not folder.is_dir()]
    for folder in reversed(missing):
        folder.mkdir(mode=FOLDER_MODE, exist_ok=True)
        os.chmod(folder, FOLDER_MODE)


def create_private_file(path: Path) -> None:
    """Create the empty file ``path`` for its owner only; ``FileExistsError`` if it exists."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)
    finally:
        os.close(descriptor)


def open_private(path: Path, *, encoding: str = "utf-8", newline: str | None = None) -> TextIO:
    """``path`` opened for writing text, owner-only: a new file is created so, and an
    existing one is made so before anything is written to it."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)
        return os.fdopen(descriptor, "w", encoding=encoding, newline=newline)
    except BaseException:
        os.close(descriptor)
        raise


def with_companions(database: Path) -> list[Path]:
    """The database file and the files SQLite may keep beside it."""
    return [database, *(Path(f"{database}{end}") for end in SQLITE_COMPANIONS)]


def exposed_files(database: Path) -> list[Path]:
    """The database file and its companions that others than the owner may read or write."""
    found = []
    for path in with_companions(database):
        try:
            mode = path.stat().st_mode
        except OSError:
            continue
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            found.append(path)
    return found


def exposure_warning(database: Path) -> str | None:
    """What to tell the clinic when its database is readable by others; None when it is not."""
    exposed = exposed_files(database)
    if not exposed:
        return None
    return (
        f"The database {database} can be read by other users of this computer "
        f"({oct(stat.S_IMODE(exposed[0].stat().st_mode))[2:]}): anyone signed in to it could "
        "copy every patient's record. Make it private: 'portal-console fix-permissions', or "
        "Yes when the console asks."
    )


def make_private(database: Path) -> list[Path]:
    """Set the database file and its companions to owner-only; the files changed come back."""
    changed = exposed_files(database)
    for path in changed:
        os.chmod(path, FILE_MODE)
    return changed


__all__ = [
    "FILE_MODE",
    "FOLDER_MODE",
    "create_private_file",
    "exposed_files",
    "exposure_warning",
    "make_private",
    "open_private",
    "private_folder",
    "with_companions",
]
