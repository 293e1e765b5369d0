"""An embedded database encrypted at rest (issue 14, point 1), with SQLCipher: every page of
the file, its WAL and its temporary files is AES-256 encrypted, so a stolen disk or a copied
file shows nothing without the key, which never sits beside the database (the keyring, or a
key file or variable the settings name).

The key is 32 random bytes given to SQLCipher as a raw key (``x'…'``), not a passphrase: no
key derivation runs at each connection, which keeps opening a connection as fast as plain
SQLite. SQLCipher 4 bundles a recent SQLite (FTS5 with the trigram tokenizer included), so
search works the same. A file is told apart by its first bytes: plain SQLite files begin
with ``SQLite format 3``, encrypted ones with random-looking bytes.
"""

from __future__ import annotations

import importlib
import secrets
from enum import StrEnum
from pathlib import Path
from types import ModuleType

from console.models.database_trouble import DatabaseNeedsKey

SQLITE_HEADER = b"SQLite format 3\x00"
KEY_BYTES = 32


class FileState(StrEnum):
    """What a SQLite file is, from its first bytes."""

    NEW = "new"  # missing or empty: whatever opens it first decides
    PLAIN = "plain"
    ENCRYPTED = "encrypted"


def file_state(path: Path) -> FileState:
    """Whether ``path`` is new, a plain SQLite file or an encrypted one (anything that is not
    a file, such as a folder, counts as new: opening it then says what it is)."""
    if not path.is_file():
        return FileState.NEW
    with path.open("rb") as file:
        header = file.read(len(SQLITE_HEADER))
    if not header:
        return FileState.NEW
    return FileState.PLAIN if header == SQLITE_HEADER else FileState.ENCRYPTED


def opens_encrypted(path: Path, key: bytes | None) -> bool:
    """Whether the SQLite file ``path`` is opened with SQLCipher: an encrypted file (refused,
    ``DatabaseNeedsKey``, without a key), or a new one given a key. A plain file stays plain."""
    state = file_state(path)
    if state is FileState.ENCRYPTED and key is None:
        raise DatabaseNeedsKey(
            f"{path} is not a Portal Account Console database that can be read here: it is "
            "another kind of file, or an encrypted clinic database whose key this workstation "
            "does not have (set the key up in the keyring, or name the key file or variable "
            "in the settings: see 'Encryption' in the README)."
        )
    return key is not None and state is not FileState.PLAIN


def new_key() -> bytes:
    """A new database key: 32 random bytes."""
    return secrets.token_bytes(KEY_BYTES)


def raw_key(key: bytes) -> str:
    """``key`` as SQLCipher takes a raw key: ``x'…'`` (no key derivation)."""
    if len(key) != KEY_BYTES:
        raise ValueError("a database key is 32 bytes")
    return f"x'{key.hex()}'"


#: The page authentication every encrypted database uses. SHA-256 rather than SQLCipher's
#: default SHA-512: as strong for a 32-byte HMAC key, and faster where the processor has
#: SHA instructions. Not stored in the file, so it is set on every connection.
HMAC = "HMAC_SHA256"
#: The same for the files a connection makes (VACUUM INTO's backups, an attached export):
#: they take SQLCipher's defaults, not the connection's own settings.
DEFAULT_HMAC = f"PRAGMA cipher_default_hmac_algorithm = {HMAC}"


def opening_statements(key: bytes) -> tuple[str, ...]:
    """What a connection runs first to read the database encrypted with ``key``: no
    SQLCipher log lines on standard error (a wrong key is the console's own message), the
    key, then the settings the file was made with (and that the files it makes take)."""
    return (
        "PRAGMA cipher_log_level = NONE",
        f'PRAGMA key = "{raw_key(key)}"',
        f"PRAGMA cipher_hmac_algorithm = {HMAC}",
        DEFAULT_HMAC,
    )


def cipher_dbapi() -> ModuleType:
    """SQLCipher's DB-API module, a drop-in for ``sqlite3``."""
    # Loaded only for an encrypted database.
    module: ModuleType = importlib.import_module("sqlcipher3.dbapi2")
    return module


__all__ = [
    "DEFAULT_HMAC",
    "HMAC",
    "KEY_BYTES",
    "SQLITE_HEADER",
    "FileState",
    "cipher_dbapi",
    "file_state",
    "new_key",
    "opening_statements",
    "opens_encrypted",
    "raw_key",
]
