"""Why the audit log cannot be written or checked, each in the clinic's words: no usable key,
or a log (its head row) that someone changed. Every message says what to do and never holds
key material."""

from __future__ import annotations

from console.services.errors import DomainError


class AuditKeyMissing(DomainError):
    """No usable audit key for this database: audited actions are refused until one is set
    up. The subclasses say more precisely what is wrong."""


class AuditKeyInvalid(AuditKeyMissing):
    """A key was found but cannot be used (malformed, too short, or a key file others can
    read)."""


class NoSecureKeyring(AuditKeyMissing):
    """A key was to be kept in the keyring, but this computer has no secure keyring."""


class ClinicKeyMissing(AuditKeyMissing):
    """This workstation knows the database as a clinic's own (it set it up, or worked on it,
    with its real key), and that key is not to be found now: a demo key is never taken in
    its place."""


class AuditLogDamaged(DomainError):
    """The audit log's head row is gone or holds what it never should: nothing can be
    appended until it is restored. ``audit verify`` reports it as broken (status 4)."""


class DemoKeyInClinicDatabase(AuditLogDamaged):
    """A clinic database's head row holds a demo key, which only a demo database has:
    someone who can write to the database put it there, to pass the log off as a demo's."""


class ClinicDatabaseReplaced(AuditLogDamaged):
    """The database at the address where this workstation set up a clinic database, in use,
    names another database in its head row: the head row, or the database, was replaced."""


__all__ = [
    "AuditKeyInvalid",
    "AuditKeyMissing",
    "AuditLogDamaged",
    "ClinicDatabaseReplaced",
    "ClinicKeyMissing",
    "DemoKeyInClinicDatabase",
    "NoSecureKeyring",
]
