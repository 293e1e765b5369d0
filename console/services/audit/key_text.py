"""An audit key written down (SPEC §8): as text (hex, or base64) in the keyring or the
``PORTAL_CONSOLE_AUDIT_KEY`` environment variable, or in an owner-only key file. Text that is
too short or plainly not random is refused; no message ever repeats the value.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import stat
from pathlib import Path

from console.services.audit.errors import AuditKeyInvalid, AuditKeyMissing

KEY_ENV_VAR = "PORTAL_CONSOLE_AUDIT_KEY"
KEY_BYTES = 32
_LEAST_DISTINCT_BYTES = 16
NEW_KEY_HINT = (
    "An administrator sets one up in the console's settings; on a server or CI, put the "
    'output of  python -c "import secrets; print(secrets.token_hex(32))"  in '
    f"{KEY_ENV_VAR} or in an owner-only key file (chmod 600) named in the settings."
)


def decode_key(text: str, where: str) -> bytes:
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
            f"(or base64 of at least {KEY_BYTES} bytes). {NEW_KEY_HINT}"
        )
    if len(decoded) < KEY_BYTES:
        raise AuditKeyInvalid(
            f"{where} is too short for an audit key: {len(decoded)} bytes, at least "
            f"{KEY_BYTES} are needed. {NEW_KEY_HINT}"
        )
    # 32 random bytes hold about 30 different values; a placeholder ("000…", "zzz…", a
    # repeated word) holds a handful. The odds of a random key failing this are below 1e-12.
    if len(set(decoded)) < _LEAST_DISTINCT_BYTES:
        raise AuditKeyInvalid(
            f"{where} is not a random key (it looks like a placeholder). {NEW_KEY_HINT}"
        )
    return decoded


def read_key_file(path: Path) -> bytes:
    """The key in the file at ``path``: refused when it is not a file, when other users can
    read it (POSIX), when it is missing (``AuditKeyMissing``) or when its text is no key."""
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
            f"{where} named in the settings does not exist. {NEW_KEY_HINT}"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise AuditKeyInvalid(f"{where} cannot be read ({type(error).__name__}).") from None
    return decode_key(text, where)


def write_key_file(path: Path, secret: bytes) -> None:
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
    "KEY_BYTES",
    "KEY_ENV_VAR",
    "NEW_KEY_HINT",
    "decode_key",
    "read_key_file",
    "write_key_file",
]
