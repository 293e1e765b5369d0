"""Where the audit log's key comes from (SPEC §8): the operating system's keyring (a secure
one only), the ``PORTAL_CONSOLE_AUDIT_KEY`` environment variable, the owner-only key file named
in the settings, and, in a demo database only, the demo key stored in the database itself.

Nothing found is ``AuditKeyMissing``: audited actions are refused, never written unchained or
under a silently new key. No key material is ever logged, shown or put in an error message.
The keyring is reached through ``SecretsStore``: a keyring that hangs is given up on after a
timeout (and, when loading, the other places are looked in), so it cannot freeze the console.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row, select, update

from console.models.database import Database
from console.models.schema import AuditChainHead, StaffUser
from console.services.errors import DomainError
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
KEY_ENV_VAR = "PORTAL_CONSOLE_AUDIT_KEY"
KEY_BYTES = 32
DEMO_SOURCE = "demo database"
DEMO_LABEL = "demo — not tamper-proof"
_LEAST_DISTINCT_BYTES = 16
_NEW_KEY_HINT = (
    "An administrator sets one up in the console's settings; on a server or CI, put the "
    'output of  python -c "import secrets; print(secrets.token_hex(32))"  in '
    f"{KEY_ENV_VAR} or in an owner-only key file (chmod 600) named in the settings."
)


class AuditKeyMissing(DomainError):
    """No usable audit key for this database: audited actions are refused until one is set
    up. The subclasses say more precisely what is wrong."""


class AuditKeyInvalid(AuditKeyMissing):
    """A key was found but cannot be used (malformed, too short, or a key file others can
    read)."""


class NoSecureKeyring(AuditKeyMissing):
    """A key was to be kept in the keyring, but this computer has no secure keyring."""


class AuditLogDamaged(DomainError):
    """The audit log's head row is gone: nothing can be appended until it is restored."""


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
) -> AuditKey:
    """The audit key of ``database``: from the keyring (secure backends only; entry
    ``keyring_entry(database id)``), else ``PORTAL_CONSOLE_AUDIT_KEY`` in ``environ`` (hex or
    base64 of at least 32 bytes), else ``key_file`` (owner-only), else the demo key of a demo
    database. Never creates a key. A keyring that fails, or does not answer within
    ``keyring_timeout`` seconds, is passed over (and named in the message if no key is found).

    Raises ``AuditKeyInvalid`` for a key that is found but unusable and ``AuditKeyMissing``
    when there is none; the message says where the console looked and how to set one up.
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
                return AuditKey(_decode_key(stored, "The audit key in the keyring"), "keyring")
        else:
            looked = f"not in this computer's keyring ({store.backend_name()}: not a secure one)"
    except KeyringFailed as failed:  # locked, broken or hung: say so, and look further
        looked += f" ({_keyring_trouble(failed, keyring_timeout, 'it could not be read: ')})"

    value = environ.get(KEY_ENV_VAR, "").strip()
    if value:
        return AuditKey(_decode_key(value, KEY_ENV_VAR), KEY_ENV_VAR)

    if key_file is not None:
        return AuditKey(_read_key_file(key_file), f"key file {key_file}")

    if head.demo_key is not None:
        return AuditKey(_decode_key(head.demo_key, "The demo audit key"), DEMO_SOURCE)

    raise AuditKeyMissing(
        "No audit key is set up for this database, so actions that must be audited are "
        f"refused. The console looked {looked} and in the {KEY_ENV_VAR} environment "
        f"variable; no key file is named in the settings. {_NEW_KEY_HINT}"
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
        _write_key_file(key_file, secret)
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
    return head.last_seq == 0 and head.head_mac is None and staff is None


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


def _keyring_entry(database_id: str) -> SecretEntry:
    return SecretEntry(keyring_entry(database_id), "the audit key")


def _keyring_trouble(failed: KeyringFailed, timeout: float, error_prefix: str = "") -> str:
    """What went wrong with the keyring: that it did not answer, or the type of its error
    after ``error_prefix`` (never the error's text, which may quote a secret)."""
    if failed.cause_type is None:
        return f"it did not answer within {timeout:g} seconds"
    return f"{error_prefix}{failed.cause_type.__name__}"


def _decode_key(text: str, where: str) -> bytes:
    """Hex (64 digits or more) or base64 (standard or URL-safe) of at least 32 bytes. The
    message never repeats the value."""
    value = text.strip()
    decoded: bytes | None = None
    try:
        decoded = bytes.fromhex(value)
    except ValueError:
        padded = value + "=" * (-len(value) % 4)
        for alphabet in (b"+/", b"-_"):
            try:
                decoded = base64.b64decode(padded, altchars=alphabet, validate=True)
                break
            except (binascii.Error, ValueError):
                continue
    if decoded is None:
        raise AuditKeyInvalid(
            f"{where} is not a valid audit key: it must be {2 * KEY_BYTES} hexadecimal digits "
            f"(or base64 of at least {KEY_BYTES} bytes). {_NEW_KEY_HINT}"
        )
    if len(decoded) < KEY_BYTES:
        raise AuditKeyInvalid(
            f"{where} is too short for an audit key: {len(decoded)} bytes, at least "
            f"{KEY_BYTES} are needed. {_NEW_KEY_HINT}"
        )
    # 32 random bytes hold about 30 different values; a placeholder ("000…", "zzz…", a
    # repeated word) holds a handful. The odds of a random key failing this are below 1e-12.
    if len(set(decoded)) < _LEAST_DISTINCT_BYTES:
        raise AuditKeyInvalid(
            f"{where} is not a random key (it looks like a placeholder). {_NEW_KEY_HINT}"
        )
    return decoded


def _read_key_file(path: Path) -> bytes:
    where = f"The audit key file {path}"
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):
            raise AuditKeyInvalid(f"{where} is not a file.")
        if os.name == "posix" and status.st_mode & 0o077:
            raise AuditKeyInvalid(
                f"{where} can be read by other users, so it was not used; make it readable by "
                f"its owner only (chmod 600 {path}) and check that nobody copied it."
            )
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise AuditKeyMissing(
            f"{where} named in the settings does not exist. {_NEW_KEY_HINT}"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise AuditKeyInvalid(f"{where} cannot be read ({type(error).__name__}).") from None
    return _decode_key(text, where)


def _write_key_file(path: Path, secret: bytes) -> None:
    """Write ``secret`` (hex) to a new owner-only file at ``path``: written in full beside it
    and then moved into place, so the file is never seen half-written or readable by others;
    an existing file is never replaced."""
    if path.exists():
        raise AuditKeyInvalid(f"{path} already exists; it was kept and no new key was made.")
    if not path.parent.is_dir():
        raise AuditKeyInvalid(f"The folder {path.parent} does not exist.")
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            if os.name == "posix":
                os.fchmod(file.fileno(), 0o600)
            file.write(secret.hex() + "\n")
            file.flush()
            os.fsync(file.fileno())
        os.link(temporary, path)  # fails, rather than replacing, if the file appeared meanwhile
    except FileExistsError:
        raise AuditKeyInvalid(f"{path} already exists; it was kept.") from None
    finally:
        temporary.unlink(missing_ok=True)


__all__ = [
    "DEMO_LABEL",
    "HEAD_ID",
    "KEY_ENV_VAR",
    "AuditKey",
    "AuditKeyInvalid",
    "AuditKeyMissing",
    "AuditLogDamaged",
    "NoSecureKeyring",
    "create_audit_key",
    "install_demo_key",
    "keyring_entry",
    "load_audit_key",
    "never_used",
    "read_head",
]
