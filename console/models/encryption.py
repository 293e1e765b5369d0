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


def new_key() -> bytes:
    """A new database key: 32 random bytes."""
    return secrets.token_bytes(KEY_BYTES)


def key_pragma(key: bytes) -> str:
    """The statement that opens an encrypted database with ``key`` (first on a connection)."""
    if len(key) != KEY_BYTES:
        raise ValueError("a database key is 32 bytes")
    return f"PRAGMA key = \"x'{key.hex()}'\""


def cipher_dbapi() -> ModuleType:
    """SQLCipher's DB-API module, a drop-in for ``sqlite3``."""
    # Loaded only for an encrypted database.
    module: ModuleType = importlib.import_module("sqlcipher3.dbapi2")
    return module


__all__ = [
    "KEY_BYTES",
    "SQLITE_HEADER",
    "FileState",
    "cipher_dbapi",
    "file_state",
    "key_pragma",
    "new_key",
]
