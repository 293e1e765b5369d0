"""The clinic databases this workstation knows to be real (issue 14, point 4), kept outside
them.

A demo database keeps its audit key inside itself, so that it can be tried without setting
one up; its log is therefore not tamper-proof. Were "this is a demo" read from the database,
anyone who can write to a clinic's database could put a key of their own in its head row,
re-chain the log under it and have the console take the database for a demo. So that a
database is a clinic's own is recorded here instead, beside this workstation's settings
(``clinic-databases/`` next to ``settings.toml``): one small owner-only file per database,
naming its id, its address and where its real key is kept — never the key.

A database is recorded when ``init`` or the window's first start sets up its key, and when
this workstation first works with its real key. ``load_audit_key`` never takes a demo key for
a recorded database, whether it is recognised by its id or by its address (so that giving it
a new id does not make it a stranger). A workstation that never had a database's key cannot
tell; there ``audit verify`` reports the demo chain as not tamper-proof (status 5), never 0.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy.engine import URL

from console.services.errors import DomainError

FOLDER_NAME = "clinic-databases"
_PLAIN_ID = re.compile(r"[0-9a-f]{32}")
_DEFAULT_PORTS = {"postgresql": 5432}
_log = logging.getLogger(__name__)


class ClinicRecordNotSaved(DomainError):
    """This workstation could not record that a database is a clinic's own."""


@dataclass(frozen=True)
class ClinicDatabase:
    """A clinic database this workstation set up, or worked on, with its real audit key:
    ``database_id`` from its audit log's head row, ``address`` (``database_address``) and
    ``key_source``, where the key was found (``AuditKey.source``: ``keyring``, ``key file
    PATH`` or the environment variable's name), so that a refusal can say where to restore
    it."""

    database_id: str
    address: str
    key_source: str


def database_address(url: URL) -> str:
    """Where a database lives, however its URL is written and whoever connects: a SQLite
    file's resolved path; a server's backend, host, port and database name (no user, no
    password)."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        return str(Path(url.database).resolve()) if url.database else "sqlite in memory"
    host = url.host or str(url.query.get("host") or "")
    return URL.create(
        backend,
        host=host.lower(),
        port=url.port or _DEFAULT_PORTS.get(backend),
        database=url.database,
    ).render_as_string()


class ClinicDatabases:
    """The clinic databases recorded on this workstation, one JSON file each in ``folder``.
    Nothing here is secret; what matters is that it is not in the database."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def beside(cls, settings_file: Path) -> ClinicDatabases:
        """The record kept next to the settings file ``settings_file``."""
        return cls(settings_file.parent / FOLDER_NAME)

    def find(self, database_id: str, address: str) -> ClinicDatabase | None:
        """The clinic database with ``database_id``, else one set up at ``address``; None
        when this workstation knows neither."""
        at_address = None
        for record in self._records():
            if record.database_id == database_id:
                return record
            if record.address == address and at_address is None:
                at_address = record
        return at_address

    def remember(self, record: ClinicDatabase) -> None:
        """Record ``record`` (nothing is written when it is recorded already). Raises
        ``ClinicRecordNotSaved`` when the folder cannot be written."""
        path = self.folder / _file_name(record.database_id)
        if _read(path) == record:
            return
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                    json.dump(asdict(record), file, indent=1, sort_keys=True)
                    file.write("\n")
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temporary, path)
            finally:
                temporary.unlink(missing_ok=True)
        except OSError as error:
            raise ClinicRecordNotSaved(
                f"This workstation could not record in {self.folder} that the database is a "
                f"clinic's own ({type(error).__name__}), and without that record a key put "
                "in the database could pass it off as a demo. Make the folder writable for "
                "you and try again."
            ) from None

    def forget_address(self, address: str) -> None:
        """Forget the clinic databases recorded at ``address``: a demo clinic was made there
        at this workstation, so what was there before is gone."""
        for path in self._paths():
            record = _read(path)
            if record is not None and record.address == address:
                path.unlink(missing_ok=True)

    def _paths(self) -> list[Path]:
        try:
            return sorted(self.folder.glob("*.json"))
        except OSError:
            return []

    def _records(self) -> list[ClinicDatabase]:
        return [record for path in self._paths() if (record := _read(path)) is not None]


def _file_name(database_id: str) -> str:
    """The record's file name: the database id itself when it is the usual 32 hex digits,
    else a digest of it (an id read from a database is never used as a path)."""
    if _PLAIN_ID.fullmatch(database_id):
        return f"{database_id}.json"
    return hashlib.sha256(database_id.encode("utf-8", "replace")).hexdigest()[:32] + ".json"


def _read(path: Path) -> ClinicDatabase | None:
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
        record = ClinicDatabase(**values)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as error:  # damaged: said in the log, by name only
        _log.warning("clinic database record %s unreadable: %s", path.name, type(error).__name__)
        return None
    if not all(isinstance(value, str) for value in asdict(record).values()):
        _log.warning("clinic database record %s unreadable: not text", path.name)
        return None
    return record


__all__ = [
    "FOLDER_NAME",
    "ClinicDatabase",
    "ClinicDatabases",
    "ClinicRecordNotSaved",
    "database_address",
]
