"""Where the audit log's key comes from (SPEC §8): the operating system's keyring (a secure
one only), the ``PORTAL_CONSOLE_AUDIT_KEY`` environment variable, the owner-only key file named
in the settings, and, in a demo database only, the demo key stored in the database itself —
never for a database this workstation knows as a clinic's own (``clinic_databases``): that a
database is a demo is not taken from the database, which anyone with write access could
change.

Nothing found is ``AuditKeyMissing``: audited actions are refused, never written unchained or
under a silently new key. No key material is ever logged, shown or put in an error message.
The keyring is reached through ``SecretsStore``: a keyring that hangs is given up on after a
timeout (and, when loading, the other places are looked in), so it cannot freeze the console.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row, select, update

from console.models.database import Database
from console.models.schema import AuditChainHead, AuditEvent, StaffUser
from console.services.audit.clinic_databases import (
    ClinicDatabase,
    ClinicDatabases,
    database_address,
)
from console.services.audit.errors import (
    AuditKeyInvalid,
    AuditKeyMissing,
    AuditLogDamaged,
    ClinicDatabaseReplaced,
    ClinicKeyMissing,
    DemoKeyInClinicDatabase,
    NoSecureKeyring,
)
from console.services.audit.key_text import (
    KEY_BYTES,
    KEY_ENV_VAR,
    NEW_KEY_HINT,
    decode_key,
    read_key_file,
    write_key_file,
)
from console.services.settings.secrets_store import (
    DEFAULT_TIMEOUT,
    KEYRING_SERVICE,
    KeyringFailed,
    SecretEntry,
    SecretsStore,
)

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

HEAD_ID = 1
DEMO_SOURCE = "demo database"
DEMO_LABEL = "demo — not tamper-proof"


@dataclass(frozen=True)
class AuditKey:
    """The secret that chains this database's audit log, and where it came from. The secret
    never appears in ``repr``/``str`` (and so in no log line or traceback)."""

    secret: bytes = field(repr=False)
    source: str

    def __post_init__(self) -> None:
        if len(self.secret) < KEY_BYTES:
            raise ValueError(f"an audit key has at least {KEY_BYTES} bytes")

    @property
    def tamper_proof(self) -> bool:
        """False only for a demo key, which sits in the database it protects."""
        return self.source != DEMO_SOURCE

    @property
    def label(self) -> str:
        """Where the key came from, to show wherever integrity is reported."""
        if not self.tamper_proof:
            return DEMO_LABEL
        return "key from the keyring" if self.source == "keyring" else f"key from {self.source}"


def keyring_entry(database_id: str) -> str:
    """The keyring entry (user name under the service ``portal-console``) that holds the audit
    key of the database with ``database_id``."""
    return f"audit-key:{database_id}"


def load_audit_key(
    database: Database,
    *,
    environ: Mapping[str, str],
    key_file: Path | None = None,
    keyring_backend: KeyringBackend | None = None,
    keyring_timeout: float = DEFAULT_TIMEOUT,
    clinic_databases: ClinicDatabases | None = None,
) -> AuditKey:
    """The audit key of ``database``: from the keyring (secure backends only; entry
    ``keyring_entry(database id)``), else ``PORTAL_CONSOLE_AUDIT_KEY`` in ``environ`` (hex or
    base64 of at least 32 bytes), else ``key_file`` (owner-only), else the demo key of a demo
    database — unless ``clinic_databases`` (this workstation's record, which
    ``build_workstation`` always passes) knows the database as a clinic's own. Never creates
    a key. A keyring that fails, or does not answer within ``keyring_timeout`` seconds, is
    passed over (and named in the message if no key is found).

    Raises ``AuditKeyInvalid`` for a key that is found but unusable and ``AuditKeyMissing``
    when there is none (``ClinicKeyMissing`` for a known clinic database); the message says
    where the console looked and how to set one up. A known clinic database whose head row
    holds a demo key, or names another database, is ``AuditLogDamaged``.
    """
    with database.engine.connect() as connection:
        head = read_head(connection)
    store = SecretsStore(keyring_backend, timeout=keyring_timeout)
    entry = _keyring_entry(head.database_id)
    looked = f"in the system keyring under '{KEYRING_SERVICE}' / '{entry.name}'"
    try:
        if store.is_secure():
            stored = store.get(entry)
            if stored is not None:
                return AuditKey(decode_key(stored, "The audit key in the keyring"), "keyring")
        else:
            looked = f"not in this computer's keyring ({store.backend_name()}: not a secure one)"
    except KeyringFailed as failed:  # locked, broken or hung: say so, and look further
        looked += f" ({_keyring_trouble(failed, keyring_timeout, 'it could not be read: ')})"

    value = environ.get(KEY_ENV_VAR, "").strip()
    if value:
        return AuditKey(decode_key(value, KEY_ENV_VAR), KEY_ENV_VAR)

    if key_file is not None:
        return AuditKey(read_key_file(key_file), f"key file {key_file}")

    known = None
    if clinic_databases is not None:
        known = clinic_databases.find(head.database_id, database_address(database.engine.url))
    if known is not None:
        raise _clinic_refusal(known, head, not never_used(database), looked)
    if head.demo_key is not None:
        return AuditKey(decode_key(head.demo_key, "The demo audit key"), DEMO_SOURCE)

    raise AuditKeyMissing(
        "No audit key is set up for this database, so actions that must be audited are "
        f"refused. The console looked {looked} and in the {KEY_ENV_VAR} environment "
        f"variable; no key file is named in the settings. {NEW_KEY_HINT}"
    )


def create_audit_key(
    database: Database,
    *,
    key_file: Path | None = None,
    keyring_backend: KeyringBackend | None = None,
    keyring_timeout: float = DEFAULT_TIMEOUT,
) -> AuditKey:
    """Set up a new audit key for ``database`` (first run, settings): 32 random bytes, kept in
    ``key_file`` (created owner-only, never over an existing file) when one is named, else in
    the keyring (a secure one only: ``NoSecureKeyring`` otherwise, and when the keyring fails
    or does not answer within ``keyring_timeout`` seconds).

    Refused when the database's audit log is already chained with a key (a new key would not
    fit it: restore the old one instead) or the keyring already holds one for it.
    """
    with database.engine.connect() as connection:
        head = read_head(connection)
    if head.head_mac is not None:
        raise AuditKeyInvalid(
            "This database's audit log is already kept with a key; a new key would not fit "
            "it. Restore the original key (keyring, key file or "
            f"{KEY_ENV_VAR}) instead."
        )
    secret = secrets.token_bytes(KEY_BYTES)
    if key_file is not None:
        write_key_file(key_file, secret)
        return AuditKey(secret, f"key file {key_file}")

    store = SecretsStore(keyring_backend, timeout=keyring_timeout)
    entry = _keyring_entry(head.database_id)
    try:
        if not store.is_secure():
            raise NoSecureKeyring(
                f"This computer has no secure keyring ({store.backend_name()}), so the audit "
                f"key cannot be kept there. Name an owner-only key file in the settings or set "
                f"{KEY_ENV_VAR} instead."
            )
        if store.get(entry) is not None:
            raise AuditKeyInvalid(
                "The keyring already holds an audit key for this database; it was kept."
            )
        store.set(entry, secret.hex())
    except KeyringFailed as failed:
        raise NoSecureKeyring(
            "The audit key could not be stored in the keyring "
            f"({_keyring_trouble(failed, keyring_timeout)}). Try again, or name an owner-only "
            "key file in the settings instead."
        ) from None
    return AuditKey(secret, "keyring")


def never_used(database: Database) -> bool:
    """Whether ``database`` is new: no audit event and no staff user yet (the first run,
    when creating its audit key is safe; later, a missing key must be restored instead)."""
    with database.engine.connect() as connection:
        head = read_head(connection)
        staff = connection.scalar(select(StaffUser.id).limit(1))
        # The events themselves too, not only the head's count: a head row can be replaced.
        event = connection.scalar(select(AuditEvent.id).limit(1))
    return head.last_seq == 0 and head.head_mac is None and staff is None and event is None


def install_demo_key(connection: Connection) -> AuditKey | None:
    """Store a random demo key inside a new demo database (the demo loader does this in its
    own transaction) and return it. None, and nothing changed, when the audit log already
    has events."""
    secret = secrets.token_bytes(KEY_BYTES)
    result = connection.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == HEAD_ID, AuditChainHead.last_seq == 0)
        .where(AuditChainHead.head_mac.is_(None))
        .values(demo_key=secret.hex())
    )
    return AuditKey(secret, DEMO_SOURCE) if result.rowcount == 1 else None


def read_head(connection: Connection) -> Row[Any]:
    """The audit log's head row (database id, demo key, checkpoint)."""
    head = AuditChainHead.__table__
    row = connection.execute(select(head).where(head.c.id == HEAD_ID)).first()
    if row is None:
        raise AuditLogDamaged(
            "The audit log's head row is missing, so its key cannot be found. Ask an "
            "administrator to restore the database from a backup."
        )
    return row


def _clinic_refusal(
    known: ClinicDatabase, head: Row[Any], in_use: bool, looked: str
) -> AuditKeyMissing | AuditLogDamaged:
    """Why a database this workstation knows as a clinic's own gets no key here: its real
    key is missing, or its head row holds a demo key or names another database. Never the
    demo key: anyone who can write to the database could have put it there."""
    kept = _where_kept(known.key_source)
    check = (
        "Nothing is recorded until an administrator has checked the log with 'portal-console "
        "audit verify' on a workstation that has the clinic's key, and restored the database "
        "from a backup if it reports damage."
    )
    if head.demo_key is not None:
        replaced = ""
        if known.database_id != head.database_id:
            replaced = (
                " (If a demo clinic was put at this address on purpose, make it with "
                "'portal-console demo', which tells this workstation.)"
            )
        return DemoKeyInClinicDatabase(
            "This is a clinic database, not a demo: this workstation knows it as one, kept "
            f"with its audit key {kept}. Yet its audit log holds a demo key, which only a demo "
            "database has: someone who can write to the database put it there, and nothing "
            f"is recorded under it. {check}{replaced}"
        )
    if known.database_id != head.database_id and in_use:
        return ClinicDatabaseReplaced(
            "This is not the clinic database this workstation set up at this address: its "
            "audit log names another database, so its head row was replaced, or the whole "
            f"database was. {check}"
        )
    return ClinicKeyMissing(
        "The audit key for this clinic database is missing, so actions that must be audited "
        f"are refused. This workstation knows it as one kept with its key {kept}; the "
        f"console looked {looked} and in the {KEY_ENV_VAR} environment variable. Restore the "
        "key from the clinic's copy of it (the keyring entry, the key file named in the "
        f"settings, or {KEY_ENV_VAR}); a new key would not fit the log. A key kept inside "
        "the database is never used for a clinic database."
    )


def _where_kept(source: str) -> str:
    """Where a key was found (``AuditKey.source``), as a sentence says it."""
    if source == "keyring":
        return "in the system keyring"
    if source == KEY_ENV_VAR:
        return f"in the {KEY_ENV_VAR} environment variable"
    return f"in the {source}" if source.startswith("key file ") else f"in {source}"


def _keyring_entry(database_id: str) -> SecretEntry:
    return SecretEntry(keyring_entry(database_id), "the audit key")


def _keyring_trouble(failed: KeyringFailed, timeout: float, error_prefix: str = "") -> str:
    """What went wrong with the keyring: that it did not answer, or the type of its error
    after ``error_prefix`` (never the error's text, which may quote a secret)."""
    if failed.cause_type is None:
        return f"it did not answer within {timeout:g} seconds"
    return f"{error_prefix}{failed.cause_type.__name__}"


__all__ = [
    "DEMO_LABEL",
    "HEAD_ID",
    "KEY_ENV_VAR",
    "AuditKey",
    "AuditKeyInvalid",
    "AuditKeyMissing",
    "AuditLogDamaged",
    "ClinicDatabaseReplaced",
    "ClinicKeyMissing",
    "DemoKeyInClinicDatabase",
    "NoSecureKeyring",
    "create_audit_key",
    "install_demo_key",
    "keyring_entry",
    "load_audit_key",
    "never_used",
    "read_head",
]
