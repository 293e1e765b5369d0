"""The console's settings (issue 5): what an administrator sets in the settings dialog,
what each may be (the checks of single values are in ``checks``), and changing them (kept
in a TOML file: ``settings.file``, SPEC §9).

Secrets are never settings: the database and SMTP passwords live in the keyring
(``secrets_store``) and the audit key in the keyring, an environment variable or an
owner-only key file whose *path* is a setting. A missing file means the defaults; a file that
cannot be used is refused with a message naming each bad key, never silently half-read.
Every change is audited with old and new values.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from console.services.accounts.patient_view import DEFAULT_PORTAL_NAME
from console.services.accounts.portal_login import LoginPolicy
from console.services.errors import InvalidSetting
from console.services.passwords import MAX_COST, MIN_COST, PasswordPolicy
from console.services.passwords import MAX_MIN_LENGTH as MAX_PASSWORD_MIN_LENGTH
from console.services.passwords import MIN_LENGTH as PASSWORD_MIN_LENGTH
from console.services.permissions import Actor, Permission
from console.services.settings.checks import (
    host_problem,
    key_file_problem,
    phone_problem,
    range_problem,
    sender_problem,
    text_problem,
    type_problem,
    url_problem,
)
from console.services.settings.file import (
    current_contents,
    read_settings_file,
    restore_contents,
    settings_file_text,
    write_settings_file,
)
from console.services.staff.session import DEFAULT_IDLE_MINUTES, DEFAULT_SESSION_HOURS
from console.services.workstation import (
    DEFAULT_INVITATION_DAYS,
    DEFAULT_STAFF_PASSWORD_LENGTH,
    MAX_INVITATION_DAYS,
    ClinicRules,
    Workstation,
    writing,
)

MAX_IDLE_MINUTES = 120
MAX_SESSION_HOURS = 12  # issue 5: a fresh sign-in after 12 hours, whatever is set
MAX_STAFF_PASSWORD_LENGTH = 64
_MAX_NAME = 200
#: A key whose last word names a secret. No setting may be called that: a secret written
#: here would sit in a plain file and in the audit log.
_SECRET_NAME = re.compile(
    r"(?:^|[._])(?:password|passwd|passphrase|secret|token|api_key|private_key|credentials?)$",
    re.IGNORECASE,
)


class SmtpSecurity(StrEnum):
    """How the connection to the mail server is protected."""

    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


@dataclass(frozen=True)
class SettingProblem:
    """One setting that cannot be used: the dataclass field, its key in the file, and what
    is wrong (a phrase that follows the key: "must be from 1 to 120 minutes")."""

    field: str
    key: str
    problem: str

    def __str__(self) -> str:
        return f"{self.key} {self.problem}" if self.key else self.problem


class SettingsRefused(InvalidSetting):
    """Settings that cannot be used; ``problems`` lists every bad setting, so that the
    settings dialog can show each next to its field."""

    def __init__(self, problems: tuple[SettingProblem, ...], where: Path | None = None) -> None:
        listed = "; ".join(str(problem) for problem in problems)
        if where is None:
            message = f"These settings cannot be used: {listed}."
        else:
            message = (
                f"The settings file {where} cannot be used: {listed}. Correct it, or remove "
                "it to start again from the defaults."
            )
        super().__init__(message)
        self.problems = problems


@dataclass(frozen=True)
class ConsoleSettings:
    """Everything an administrator sets in the settings dialog. Checked when made (like
    ``PasswordPolicy``): ``SettingsRefused`` names every setting that is out of range."""

    portal_name: str = field(metadata={"key": "portal.name"}, default=DEFAULT_PORTAL_NAME)
    #: Where invitation and reset links point; empty until the clinic sets it.
    portal_base_url: str = field(metadata={"key": "portal.base_url"}, default="")
    clinic_name: str = field(metadata={"key": "clinic.name"}, default="")
    clinic_phone: str = field(metadata={"key": "clinic.phone"}, default="")
    #: The mail server; empty until the clinic sets it. Its password is in the keyring.
    smtp_host: str = field(metadata={"key": "smtp.host"}, default="")
    smtp_port: int = field(metadata={"key": "smtp.port"}, default=587)
    smtp_security: SmtpSecurity = field(
        metadata={"key": "smtp.security"}, default=SmtpSecurity.STARTTLS
    )
    smtp_username: str = field(metadata={"key": "smtp.username"}, default="")
    #: The From address of the clinic's e-mails.
    smtp_sender: str = field(metadata={"key": "smtp.sender"}, default="")
    smtp_verify_certificate: bool = field(metadata={"key": "smtp.verify_certificate"}, default=True)
    #: Portal password policy (SPEC §5): it can be tightened, never loosened.
    password_min_length: int = field(
        metadata={"key": "passwords.min_length"}, default=PASSWORD_MIN_LENGTH
    )
    password_require_symbol: bool = field(
        metadata={"key": "passwords.require_symbol"}, default=False
    )
    password_bcrypt_cost: int = field(metadata={"key": "passwords.bcrypt_cost"}, default=MIN_COST)
    staff_password_length: int = field(
        metadata={"key": "staff.password_length"}, default=DEFAULT_STAFF_PASSWORD_LENGTH
    )
    #: Failed sign-ins before a lock-out, for portal accounts and console users alike.
    max_failures: int = field(metadata={"key": "login.max_failures"}, default=5)
    lockout_minutes: int = field(metadata={"key": "login.lockout_minutes"}, default=15)
    reset_email_minutes: int = field(metadata={"key": "login.reset_email_minutes"}, default=15)
    idle_minutes: int = field(
        metadata={"key": "session.idle_minutes"}, default=DEFAULT_IDLE_MINUTES
    )
    session_hours: int = field(metadata={"key": "session.hours"}, default=DEFAULT_SESSION_HOURS)
    invitation_days: int = field(
        metadata={"key": "invitations.expiry_days"}, default=DEFAULT_INVITATION_DAYS
    )
    #: An owner-only file holding the audit key (for servers and CI); None: keyring or
    #: environment variable.
    audit_key_file: Path | None = field(metadata={"key": "audit.key_file"}, default=None)

    def __post_init__(self) -> None:
        problems = [
            SettingProblem(name, _KEYS[name], words)
            for name, words in _problems(self)
            if words is not None
        ]
        if problems:
            raise SettingsRefused(tuple(problems))
        self.to_rules()  # the policies' own checks, should their ranges ever differ from these

    def to_rules(self) -> ClinicRules:
        """The rules the services apply, from these settings."""
        return ClinicRules(
            portal_name=self.portal_name,
            login=LoginPolicy(
                max_failures=self.max_failures,
                lockout_minutes=self.lockout_minutes,
                reset_email_minutes=self.reset_email_minutes,
                passwords=PasswordPolicy(
                    min_length=self.password_min_length,
                    require_symbol=self.password_require_symbol,
                    bcrypt_cost=self.password_bcrypt_cost,
                ),
            ),
            invitation_days=self.invitation_days,
            staff_password_length=self.staff_password_length,
        )

    def as_keys(self) -> dict[str, str | int | bool]:
        """Every setting by its key in the file (``session.idle_minutes``), as TOML holds
        it: enums as their text, no key file as ""."""
        return {_KEYS[f.name]: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}


#: Each field's key in the file, in the order the file lists them.
_KEYS: dict[str, str] = {f.name: f.metadata["key"] for f in dataclasses.fields(ConsoleSettings)}
_FIELDS: dict[str, str] = {key: name for name, key in _KEYS.items()}
_DEFAULTS: dict[str, object] = {f.name: f.default for f in dataclasses.fields(ConsoleSettings)}
if any(_SECRET_NAME.search(key) for key in _KEYS.values()):  # pragma: no cover - a code error
    raise RuntimeError("a setting is named like a secret; secrets belong in the keyring")


def load_settings(path: Path) -> ConsoleSettings:
    """The settings in the file at ``path``; the defaults when there is no file. A file that
    cannot be read or used raises ``InvalidSetting`` saying which key is wrong and how."""
    document = read_settings_file(path)
    return ConsoleSettings() if document is None else settings_from_document(document, where=path)


def settings_from_document(
    document: Mapping[str, Any], *, where: Path | None = None
) -> ConsoleSettings:
    """Settings from a parsed TOML document (tables of keys); keys left out keep their
    defaults. Every unknown key, wrong type and out-of-range value is reported at once."""
    problems: list[SettingProblem] = []
    values: dict[str, object] = {}
    for table, entries in document.items():
        if not isinstance(entries, Mapping):
            problems.append(SettingProblem("", table, "must be a [table] of settings"))
            continue
        for name, value in entries.items():
            key = f"{table}.{name}"
            field_name = _FIELDS.get(key)
            if _SECRET_NAME.search(key):
                # Never echo the value: it is probably the secret itself.
                problems.append(
                    SettingProblem(
                        "",
                        key,
                        "must not be in this file: passwords and keys are kept in the system "
                        "keyring. Remove the line, and change that password, since it was "
                        "written in a plain file",
                    )
                )
            elif field_name is None:
                problems.append(SettingProblem("", key, "is not a setting this console knows"))
            else:
                values[field_name] = _from_toml(field_name, value)
    try:
        settings = ConsoleSettings(**values)  # type: ignore[arg-type]
    except SettingsRefused as refused:
        problems.extend(refused.problems)
        settings = None
    if problems or settings is None:
        raise SettingsRefused(tuple(problems), where)
    return settings


def render_settings(settings: ConsoleSettings) -> str:
    """The text of the settings file holding ``settings``, every key written out."""
    return settings_file_text(settings.as_keys())


def save_settings(path: Path, settings: ConsoleSettings) -> None:
    """Replace the settings file at ``path`` with ``settings`` in one step (never half a
    file, owner-only). ``SettingsNotSaved`` when that fails."""
    write_settings_file(path, render_settings(settings))


def changed_settings(
    old: ConsoleSettings | None, new: ConsoleSettings
) -> dict[str, dict[str, str | int | bool | None]]:
    """Each key whose value differs, with its old and new value (old None: the old file
    could not be read)."""
    before: Mapping[str, str | int | bool] = old.as_keys() if old is not None else {}
    return {
        key: {"old": before.get(key), "new": value}
        for key, value in new.as_keys().items()
        if old is None or before[key] != value
    }


def change_settings(
    workstation: Workstation, actor: Actor, path: Path, new: ConsoleSettings
) -> tuple[str, ...]:
    """Save ``new`` as the settings file at ``path`` (administrators only) and append one
    audit event listing each changed key with its old and new value. Returns the changed
    keys (empty, and nothing written, when nothing changed); the caller rebuilds its
    ``Workstation`` with ``new.to_rules()``.

    A damaged old file is replaced (that is how an administrator repairs it); the audit
    event then says so. The file is written inside the audit event's transaction, so a
    failed write saves neither; should the commit fail after the write, the old file is put
    back."""
    actor.require(Permission.CHANGE_SETTINGS)
    new = dataclasses.replace(new)  # checked again, should someone have bypassed the checks
    try:
        old: ConsoleSettings | None = load_settings(path)
    except InvalidSetting:
        old = None
    changes = changed_settings(old, new)
    if not changes:
        return ()
    leaked = [key for key in changes if _SECRET_NAME.search(key)]
    if leaked:  # unreachable while the import-time check holds; a last line of defence
        raise RuntimeError(f"refusing to audit settings named like secrets: {leaked}")
    previous = current_contents(path)
    written = False
    try:
        with writing(workstation, actor, Permission.CHANGE_SETTINGS) as session:
            details: dict[str, object] = {"changes": changes}
            if old is None:
                details["replaced_unusable_file"] = True
            workstation.audit.record(
                session, "change_settings", actor=actor, target_type="settings", details=details
            )
            save_settings(path, new)
            written = True
    except BaseException:
        if written:
            restore_contents(path, previous)
        raise
    return tuple(changes)


# --- what each setting may be --------------------------------------------------------------


def _problems(s: ConsoleSettings) -> list[tuple[str, str | None]]:
    """(field, what is wrong or None) for every setting: its type, and then (only for a
    value of the right type) its range."""
    found = [
        (name, type_problem(getattr(s, name), _DEFAULTS[name], path=name == "audit_key_file"))
        for name in _KEYS
    ]
    return [
        (name, problem if problem is not None else _VALUE_CHECKS.get(name, _fine)(s))
        for name, problem in found
    ]


def _fine(_settings: ConsoleSettings) -> None:
    return None


#: What each setting of the right type must also be; settings not listed take any value of
#: their type (true/false, an SMTP security choice).
_VALUE_CHECKS: dict[str, Callable[[ConsoleSettings], str | None]] = {
    "portal_name": lambda s: text_problem(s.portal_name, 100, required=True),
    "portal_base_url": lambda s: url_problem(s.portal_base_url),
    "clinic_name": lambda s: text_problem(s.clinic_name, _MAX_NAME),
    "clinic_phone": lambda s: phone_problem(s.clinic_phone),
    "smtp_host": lambda s: host_problem(s.smtp_host),
    "smtp_port": lambda s: range_problem(s.smtp_port, 1, 65535, ""),
    "smtp_username": lambda s: text_problem(s.smtp_username, 254),
    "smtp_sender": lambda s: sender_problem(s.smtp_sender),
    "password_min_length": lambda s: range_problem(
        s.password_min_length, PASSWORD_MIN_LENGTH, MAX_PASSWORD_MIN_LENGTH, "chars"
    ),
    "password_bcrypt_cost": lambda s: range_problem(s.password_bcrypt_cost, MIN_COST, MAX_COST, ""),
    "staff_password_length": lambda s: range_problem(
        s.staff_password_length, DEFAULT_STAFF_PASSWORD_LENGTH, MAX_STAFF_PASSWORD_LENGTH, "chars"
    ),
    "max_failures": lambda s: range_problem(s.max_failures, 1, 100, ""),
    "lockout_minutes": lambda s: range_problem(s.lockout_minutes, 1, 24 * 60, "minutes"),
    "reset_email_minutes": lambda s: range_problem(s.reset_email_minutes, 0, 24 * 60, "minutes"),
    "idle_minutes": lambda s: range_problem(s.idle_minutes, 1, MAX_IDLE_MINUTES, "minutes"),
    "session_hours": lambda s: range_problem(s.session_hours, 1, MAX_SESSION_HOURS, "hours"),
    "invitation_days": lambda s: range_problem(s.invitation_days, 1, MAX_INVITATION_DAYS, "days"),
    "audit_key_file": lambda s: key_file_problem(s.audit_key_file),
}


def _from_toml(name: str, value: object) -> object:
    """A value from the file in the field's own type, where the file's type is right (a
    wrong one is left for the type check to name)."""
    if name == "smtp_security" and isinstance(value, str):
        try:
            return SmtpSecurity(value.strip().lower())
        except ValueError:
            return value
    if name == "audit_key_file" and isinstance(value, str):
        return Path(value) if value.strip() else None
    return value


def _plain(value: object) -> str | int | bool:
    if value is None:
        return ""
    if isinstance(value, SmtpSecurity):
        return value.value
    if isinstance(value, Path):
        return str(value)
    assert isinstance(value, str | int | bool)
    return value


__all__ = [
    "MAX_IDLE_MINUTES",
    "MAX_SESSION_HOURS",
    "MAX_STAFF_PASSWORD_LENGTH",
    "ConsoleSettings",
    "SettingProblem",
    "SettingsRefused",
    "SmtpSecurity",
    "change_settings",
    "changed_settings",
    "load_settings",
    "render_settings",
    "save_settings",
    "settings_from_document",
]
