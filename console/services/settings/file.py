"""Where the console's settings are kept and in what form: a TOML file in the user's config
directory (SPEC §8), one table per group of settings (``[session]`` holds
``idle_minutes``).

This module knows the file, not the settings: it reads a TOML document, renders keys such
as ``session.idle_minutes`` as one, and replaces the file whole (written beside it, flushed,
then moved into place), so that a crash mid-write leaves the old settings and no reader
ever sees half a file. What the keys mean and which values are allowed is ``settings``.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import platformdirs
import tomli_w

from console.models.database import APP_NAME
from console.services.errors import DomainError, InvalidSetting

CONFIG_ENV_VAR = "PORTAL_CONSOLE_CONFIG"
SETTINGS_FILE_NAME = "settings.toml"
_HEADER = (
    "# Portal Account Console settings. The console writes this file (Settings, for\n"
    "# administrators); passwords and keys are never kept here but in the system keyring.\n\n"
)


class SettingsNotSaved(DomainError):
    """The settings file could not be written; the old file, if any, is unchanged."""


def settings_path(environ: Mapping[str, str] | None = None) -> Path:
    """The settings file: ``PORTAL_CONSOLE_CONFIG`` when set (a file, or a folder to hold
    ``settings.toml``), else ``settings.toml`` in the user's config directory."""
    env = os.environ if environ is None else environ
    chosen = env.get(CONFIG_ENV_VAR, "").strip()
    if chosen:
        path = Path(chosen).expanduser()
        return path / SETTINGS_FILE_NAME if path.is_dir() else path
    folder = platformdirs.user_config_dir(APP_NAME, appauthor=False)
    return Path(folder) / SETTINGS_FILE_NAME


def read_settings_file(path: Path) -> dict[str, Any] | None:
    """The TOML document in the file at ``path`` (tables of keys), or None when there is no
    file. A file that cannot be read or is not TOML raises ``InvalidSetting`` saying so."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise InvalidSetting(
            f"The settings file {path} cannot be read ({_os_reason(error)})."
        ) from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidSetting(
            f"The settings file {path} is not UTF-8 text. Correct it, or remove it to start "
            "again from the defaults."
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise InvalidSetting(
            f"The settings file {path} is damaged ({error}). Correct it, or remove it to start "
            "again from the defaults."
        ) from None


def settings_file_text(values: Mapping[str, str | int | bool]) -> str:
    """The text of a settings file holding ``values``, each under its key (``table.name``):
    one table per group, in the order given."""
    document: dict[str, dict[str, str | int | bool]] = {}
    for key, value in values.items():
        table, _, name = key.partition(".")
        document.setdefault(table, {})[name] = value
    return _HEADER + tomli_w.dumps(document)


def write_settings_file(path: Path, text: str) -> None:
    """Replace the settings file at ``path`` with ``text`` in one step: written in full to
    a new owner-only file beside it, flushed to disk, then moved over the old one.
    ``SettingsNotSaved`` when that fails."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _replace(path, text.encode("utf-8"))
    except OSError as error:
        raise SettingsNotSaved(
            f"The settings could not be saved to {path} ({_os_reason(error)}); nothing was changed."
        ) from None


def current_contents(path: Path) -> bytes | None:
    """What the file at ``path`` holds now (None: no file, or it cannot be read), to put it
    back with ``restore_contents`` should a change have to be undone."""
    try:
        return path.read_bytes()
    except OSError:
        return None


def restore_contents(path: Path, contents: bytes | None) -> None:
    """Undo a write: ``contents`` back in the file, or no file when it had none. A failure
    here is ignored: the error that made the caller undo the write is the one to show."""
    try:
        if contents is None:
            path.unlink(missing_ok=True)
        else:
            _replace(path, contents)
    except OSError:
        pass


def _os_reason(error: OSError) -> str:
    return error.strerror or type(error).__name__


def _replace(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            if os.name == "posix":  # the umask may have widened the mode asked for
                os.fchmod(file.fileno(), 0o600)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


__all__ = [
    "CONFIG_ENV_VAR",
    "SETTINGS_FILE_NAME",
    "SettingsNotSaved",
    "current_contents",
    "read_settings_file",
    "restore_contents",
    "settings_file_text",
    "settings_path",
    "write_settings_file",
]
