"""Where the key of an encrypted clinic database is kept (issue 14, point 1): wherever this
workstation keeps the clinic's audit key, never beside the database.

- **Keyring** (a desktop workstation): a random 32-byte key of its own, in the entry
  ``database-key:<the database file's full path>`` (the key cannot be named after the
  database's id, which is inside the encrypted file).
- **Key file or environment variable** (a server, CI: ``PORTAL_CONSOLE_AUDIT_KEY``, or the
  key file the settings or ``PORTAL_CONSOLE_AUDIT_KEY_FILE`` name): derived from the audit
  key with HKDF-SHA256, so that one owner-only secret opens the database and seals its log.

A clinic database made by ``init`` or by the window's first start is encrypted; a demo
database is plain, and says so.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from sqlalchemy.engine import make_url

from console.models import sqlite_copy
from console.models.database import Database, open_database
from console.models.encryption import KEY_BYTES, FileState, file_state, new_key
from console.services.audit.key import KEY_ENV_VAR, NoSecureKeyring
from console.services.audit.key_text import decode_key, read_key_file, write_key_file
from console.services.backups import BackupDone, BackupRefused, back_up
from console.services.permissions import Actor, Permission
from console.services.settings.secrets_store import KeyringFailed, SecretEntry, SecretsStore
from console.services.settings.values import ConsoleSettings
from console.services.workstation import Workstation, writing
from console.services.workstation_setup import audit_key_file

_HKDF_INFO = b"portal-console database encryption key v1"


def database_file(url_text: str) -> Path | None:
    """The SQLite file ``url_text`` names, or None (a server, or memory)."""
    url = make_url(url_text)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(str(url.database)).resolve()


def key_entry(path: Path) -> SecretEntry:
    """The keyring entry holding the key of the database file ``path``."""
    return SecretEntry(f"database-key:{path}", "the database key")


def key_for_opening(
    url_text: str,
    settings: ConsoleSettings,
    *,
    environ: Mapping[str, str] = os.environ,
    store: SecretsStore | None = None,
) -> bytes | None:
    """The key to open the database at ``url_text`` with: None for a server or a plain
    file (the keyring is not even asked), else the key kept for it, or None when this
    workstation has none (opening then says what to set up)."""
    path = database_file(url_text)
    if path is None or file_state(path) is not FileState.ENCRYPTED:
        return None
    if secret := _server_secret(settings, environ):
        return derive(secret)
    store = store or SecretsStore()
    try:
        stored = store.get(key_entry(path)) if store.is_secure() else None
    except KeyringFailed:
        return None
    return bytes.fromhex(stored) if stored else None


def key_for_new_database(
    url_text: str,
    settings: ConsoleSettings,
    *,
    environ: Mapping[str, str] = os.environ,
    store: SecretsStore | None = None,
) -> bytes | None:
    """The key a new clinic database at ``url_text`` is created with (None for a server):
    derived from the audit key of a key file or variable (the key file made now if it is
    named and missing), else a new key kept in the keyring. ``NoSecureKeyring`` when there
    is nowhere safe to keep it; nothing is created then."""
    path = database_file(url_text)
    if path is None:
        return None
    if secret := _server_secret(settings, environ, create=True):
        return derive(secret)
    store = store or SecretsStore()
    entry = key_entry(path)
    try:
        if not store.is_secure():
            raise NoSecureKeyring(
                f"This computer has no secure keyring ({store.backend_name()}), so the key "
                "that encrypts the clinic's database cannot be kept there. Name an owner-only "
                f"key file in the settings or set {KEY_ENV_VAR} instead."
            )
        key = new_key()
        store.set(entry, key.hex())
    except KeyringFailed:
        raise NoSecureKeyring(
            "The database key could not be stored in the keyring. Try again, or name an "
            "owner-only key file in the settings instead."
        ) from None
    return key


def open_clinic_database(
    url_text: str,
    settings: ConsoleSettings,
    *,
    must_exist: bool = True,
    environ: Mapping[str, str] = os.environ,
    store: SecretsStore | None = None,
    on_wait: Callable[[], None] | None = None,
) -> Database:
    """Open the database at ``url_text`` as every command does: with its key when the file
    is encrypted (``DatabaseNeedsKey`` when this workstation has none that opens it);
    ``on_wait`` as for ``open_database``."""
    key = key_for_opening(url_text, settings, environ=environ, store=store)
    return open_database(url_text, must_exist=must_exist, cipher_key=key, on_wait=on_wait)


def create_clinic_database(
    url_text: str,
    settings: ConsoleSettings,
    *,
    environ: Mapping[str, str] = os.environ,
    store: SecretsStore | None = None,
) -> Database:
    """Open the database at ``url_text``, creating a missing SQLite file encrypted under a
    new key kept where the audit key is (``init``, the window's first start)."""
    path = database_file(url_text)
    if path is None or file_state(path) is not FileState.NEW:
        return open_clinic_database(
            url_text, settings, must_exist=False, environ=environ, store=store
        )
    key = key_for_new_database(url_text, settings, environ=environ, store=store)
    return open_database(url_text, cipher_key=key)


def encrypt_database(
    workstation: Workstation,
    actor: Actor,
    settings: ConsoleSettings,
    *,
    backup: Path,
    environ: Mapping[str, str] = os.environ,
) -> BackupDone:
    """Encrypt the plain embedded database of ``workstation`` in place (an administrator),
    after a verified backup to ``backup``; the backup comes back. Only while no other
    workstation has it open. The workstation's database is closed: open it again."""
    actor.require(Permission.BACK_UP_AND_RESTORE)
    database = workstation.database
    path = sqlite_copy.database_file(database)
    if database.encrypted:
        raise BackupRefused(f"{path} is encrypted already.")
    made = back_up(workstation, actor, backup)
    url = database.engine.url.render_as_string(hide_password=False)
    key = key_for_new_database(url, settings, environ=environ)
    assert key is not None
    scratch = path.with_name(f".{path.name}.encrypting")
    scratch.unlink(missing_ok=True)
    sqlite_copy.encrypt_copy(database, scratch, key)
    try:
        if problem := sqlite_copy.check_copy(scratch, key):
            raise BackupRefused(problem)
        os.replace(scratch, path)
    finally:
        scratch.unlink(missing_ok=True)
    encrypted = open_database(url, must_exist=True, cipher_key=key)
    try:
        done = Workstation(encrypted, workstation.audit, workstation.clock, workstation.rules)
        with writing(done, actor, Permission.BACK_UP_AND_RESTORE) as session:
            details = {"backup": backup.name}
            done.audit.record(session, "database_encrypted", actor=actor, details=details)
    finally:
        encrypted.dispose()
    return made


def derive(secret: bytes) -> bytes:
    """The database key of an audit key (HKDF-SHA256, RFC 5869: one block, no salt)."""
    extracted = hmac.new(b"\x00" * 32, secret, hashlib.sha256).digest()
    return hmac.new(extracted, _HKDF_INFO + b"\x01", hashlib.sha256).digest()[:KEY_BYTES]


def _server_secret(
    settings: ConsoleSettings, environ: Mapping[str, str], *, create: bool = False
) -> bytes | None:
    """The audit key of the variable or key file, if this workstation uses one; with
    ``create``, a named key file that does not exist yet is made."""
    if value := environ.get(KEY_ENV_VAR, "").strip():
        return decode_key(value, KEY_ENV_VAR)
    key_file = audit_key_file(settings, environ)
    if key_file is None:
        return None
    if create and not key_file.exists():
        write_key_file(key_file, new_key())
    return read_key_file(key_file)


__all__ = [
    "create_clinic_database",
    "database_file",
    "derive",
    "encrypt_database",
    "key_entry",
    "key_for_new_database",
    "key_for_opening",
    "open_clinic_database",
]
