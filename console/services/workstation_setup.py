"""The one place a workstation is put together: the database, the clinic's settings (and the
rules they set), the audit key and the clock. The window, every headless command and the
mail relay get their ``Workstation`` from ``build_workstation``, so a rule an administrator
tightened holds the same wherever an action starts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from console.models.database import Database
from console.services.audit.key import (
    AuditKey,
    AuditKeyInvalid,
    AuditKeyMissing,
    create_audit_key,
    load_audit_key,
)
from console.services.audit.trail import AuditTrail, workstation_name
from console.services.clock import Clock, SystemClock
from console.services.settings.values import ConsoleSettings
from console.services.workstation import Workstation

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
) -> Workstation:
    """The workstation over ``database`` under ``settings``: its audit key found
    (``AuditKeyMissing`` when there is none, ``AuditKeyInvalid`` for an unusable one), the
    system clock unless ``clock`` is given, and the rules the settings describe."""
    key = load_audit_key(database, environ=environ, key_file=audit_key_file(settings, environ))
    clock = clock or SystemClock()
    audit = AuditTrail(key, workstation=workstation_name(), clock=clock)
    return Workstation(database, audit, clock, settings.to_rules())


def set_up_audit_key(
    database: Database, settings: ConsoleSettings, *, environ: Mapping[str, str] = os.environ
) -> AuditKey:
    """The audit key of a database never used before: the one already set up for it (the
    keyring, ``PORTAL_CONSOLE_AUDIT_KEY``, the key file), else a new one, kept in the key
    file the settings name or else in the keyring (``NoSecureKeyring`` where there is no
    secure one). An unusable key found is refused (``AuditKeyInvalid``), never replaced."""
    key_file = audit_key_file(settings, environ)
    try:
        return load_audit_key(database, environ=environ, key_file=key_file)
    except AuditKeyInvalid:
        raise
    except AuditKeyMissing:
        return create_audit_key(database, key_file=key_file)


__all__ = ["AUDIT_KEY_FILE_VAR", "audit_key_file", "build_workstation", "set_up_audit_key"]
