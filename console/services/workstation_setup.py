"""The one place a workstation is put together: the database, the clinic's settings (and the
rules they set), the audit key and the clock. The window, every headless command and the
mail relay get their ``Workstation`` from ``build_workstation``, so a rule an administrator
tightened holds the same wherever an action starts — and so does the record, beside the
settings, of the clinic databases this workstation knows to be real, which keeps a key put
into a clinic's database from passing it off as a demo.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Mapping
from pathlib import Path

from console.models.database import Database
from console.services.audit.chain import head_mac
from console.services.audit.clinic_databases import (
    ClinicDatabase,
    ClinicDatabases,
    ClinicRecordNotSaved,
    database_address,
)
from console.services.audit.key import (
    AuditKey,
    AuditKeyInvalid,
    AuditKeyMissing,
    create_audit_key,
    load_audit_key,
    read_head,
)
from console.services.audit.trail import AuditTrail, workstation_name
from console.services.clock import Clock, SystemClock
from console.services.settings.file import settings_path
from console.services.settings.values import ConsoleSettings
from console.services.workstation import Workstation

_log = logging.getLogger(__name__)

#: An owner-only file holding the audit key, for a workstation whose settings name none.
AUDIT_KEY_FILE_VAR = "PORTAL_CONSOLE_AUDIT_KEY_FILE"


def audit_key_file(settings: ConsoleSettings, environ: Mapping[str, str]) -> Path | None:
    """The audit key file the settings name, else the one ``PORTAL_CONSOLE_AUDIT_KEY_FILE``
    names, else None (keyring or environment variable)."""
    if settings.audit_key_file is not None:
        return settings.audit_key_file
    named = environ.get(AUDIT_KEY_FILE_VAR, "").strip()
    return Path(named).expanduser() if named else None


def build_workstation(
    database: Database,
    settings: ConsoleSettings,
    *,
    environ: Mapping[str, str] = os.environ,
    clock: Clock | None = None,
    clinic_databases: ClinicDatabases | None = None,
) -> Workstation:
    """The workstation over ``database`` under ``settings``: its audit key found
    (``AuditKeyMissing`` when there is none, ``AuditKeyInvalid`` for an unusable one, never
    a demo key for a database ``clinic_databases`` knows as a clinic's own; by default the
    record beside the settings file), the system clock unless ``clock`` is given, and the
    rules the settings describe. A real key that fits the database's log has it recorded as
    a clinic database, if it was not already."""
    known = clinic_databases or clinic_databases_beside_settings(environ)
    key = load_audit_key(
        database,
        environ=environ,
        key_file=audit_key_file(settings, environ),
        clinic_databases=known,
    )
    record = _record_if_it_fits(database, key)
    if record is not None:
        try:
            known.remember(record)
        except ClinicRecordNotSaved as error:  # the work goes on; the next start tries again
            _log.warning("clinic database not recorded: %s", type(error).__name__)
    clock = clock or SystemClock()
    audit = AuditTrail(key, workstation=workstation_name(), clock=clock)
    return Workstation(database, audit, clock, settings.to_rules())


def set_up_audit_key(
    database: Database,
    settings: ConsoleSettings,
    *,
    environ: Mapping[str, str] = os.environ,
    clinic_databases: ClinicDatabases | None = None,
) -> AuditKey:
    """The audit key of a database never used before: the one already set up for it (the
    keyring, ``PORTAL_CONSOLE_AUDIT_KEY``, the key file), else a new one, kept in the key
    file the settings name or else in the keyring (``NoSecureKeyring`` where there is no
    secure one). An unusable key found is refused (``AuditKeyInvalid``), never replaced.

    The database is then recorded in ``clinic_databases`` (by default, beside the settings
    file) as a clinic's own, so that this workstation never takes a demo key for it;
    ``ClinicRecordNotSaved`` when that cannot be written."""
    known = clinic_databases or clinic_databases_beside_settings(environ)
    key_file = audit_key_file(settings, environ)
    try:
        key = load_audit_key(database, environ=environ, key_file=key_file, clinic_databases=known)
    except AuditKeyInvalid:
        raise
    except AuditKeyMissing:
        key = create_audit_key(database, key_file=key_file)
    if key.tamper_proof:
        known.remember(_record(database, key))
    return key


def clinic_databases_beside_settings(environ: Mapping[str, str]) -> ClinicDatabases:
    """The clinic databases recorded beside the settings file (``PORTAL_CONSOLE_CONFIG``, else
    the user's config directory)."""
    return ClinicDatabases.beside(settings_path(environ))


def _record(database: Database, key: AuditKey) -> ClinicDatabase:
    with database.engine.connect() as connection:
        database_id = str(read_head(connection).database_id)
    return ClinicDatabase(database_id, database_address(database.engine.url), key.source)


def _record_if_it_fits(database: Database, key: AuditKey) -> ClinicDatabase | None:
    """The record of ``database`` as a clinic's own when ``key`` is a real key that seals its
    log, or will seal it (the log is new and holds no demo key); else None. A real key
    configured for a demo database does not make it a clinic's own."""
    if not key.tamper_proof:
        return None
    with database.engine.connect() as connection:
        head = read_head(connection)
    if head.demo_key is not None:
        return None
    if head.head_mac is None:
        fits = head.last_seq == 0
    else:
        fits = hmac.compare_digest(str(head.head_mac), head_mac(key.secret, head))
    if not fits:
        return None
    return ClinicDatabase(str(head.database_id), database_address(database.engine.url), key.source)


__all__ = [
    "AUDIT_KEY_FILE_VAR",
    "audit_key_file",
    "build_workstation",
    "clinic_databases_beside_settings",
    "set_up_audit_key",
]
