"""What the settings dialog decides, without Qt: which settings the form shows, what to
load, what a save sends, and which message goes where.

``SettingsPresenter`` reads the settings file and saves the form through
``change_settings`` on a worker (``ServiceCalls``). It tells its view (``SettingsView``: the
dialog, or a test's stand-in) what to show; each refused setting is explained next to its
field. ``FORM_GROUPS`` describes the form the dialog lays out.

The mail server's password is no setting: ``MailPasswordPresenter``
(``console.views.mail_password``) keeps it in the keyring, with the same view.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from console.services.desk import StaffDesk
from console.services.errors import DomainError, InvalidSetting
from console.services.permissions import Permission, refusal
from console.services.settings.secrets_store import SecretsStore
from console.services.settings.values import (
    ConsoleSettings,
    SettingsRefused,
    change_settings,
    load_settings,
)
from console.views.mail_password_presenter import MailPasswordPresenter, MailPasswordView
from console.workers.service_calls import ServiceCalls, Submitter

# --- the form ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingField:
    """One field of the form: the ``ConsoleSettings`` field it edits and how it reads."""

    name: str
    label: str
    hint: str = ""
    suffix: str = ""


#: The form's groups, each a title and its fields, in the order they are laid out.
FORM_GROUPS: tuple[tuple[str, tuple[SettingField, ...]], ...] = (
    (
        "Portal",
        (
            SettingField("portal_name", "Portal name", "The name patients know the portal by"),
            SettingField("portal_base_url", "Base URL", "https://portal.example.org"),
        ),
    ),
    (
        "Clinic",
        (
            SettingField("clinic_name", "Clinic name", "As it appears in e-mails and handouts"),
            SettingField("clinic_phone", "Phone", "(555) 010-2040 ext. 204"),
        ),
    ),
    (
        "E-mail (SMTP)",
        (
            SettingField("smtp_host", "Server", "smtp.example.org"),
            SettingField("smtp_port", "Port"),
            SettingField("smtp_security", "Security"),
            SettingField("smtp_username", "Username", "Often the sender address"),
            SettingField("smtp_sender", "Sender address", "portal@example.org"),
            SettingField("smtp_verify_certificate", "Verify the server's certificate"),
        ),
    ),
    (
        "Passwords",
        (
            SettingField("password_min_length", "Portal minimum", suffix=" characters"),
            SettingField("password_require_symbol", "Portal passwords need a symbol"),
            SettingField("staff_password_length", "Staff minimum", suffix=" characters"),
        ),
    ),
    (
        "Sign-in",
        (
            SettingField("max_failures", "Failures before lock-out"),
            SettingField("lockout_minutes", "Lock-out lasts", suffix=" minutes"),
            SettingField("idle_minutes", "Lock when idle for", suffix=" minutes"),
            SettingField("session_hours", "Sign in again after", suffix=" hours"),
        ),
    ),
    (
        "Invitations",
        (SettingField("invitation_days", "Invitations expire after", suffix=" days"),),
    ),
    (
        "Audit",
        (
            SettingField(
                "audit_key_file",
                "Key file",
                "Empty: kept in the system keyring",
            ),
        ),
    ),
)

#: The fields the dialog shows, in the order the keyboard visits them.
SHOWN_FIELDS: tuple[str, ...] = tuple(f.name for _, fields in FORM_GROUPS for f in fields)


# --- the presenter -------------------------------------------------------------------------


class SettingsView(MailPasswordView, Protocol):
    """What the presenter tells the dialog (the mail server's password included)."""

    def show_settings(self, settings: ConsoleSettings) -> None:
        """Fill the fields with ``settings``."""
        ...

    def set_busy(self, busy: bool) -> None:
        """Whether a load or save is under way (the form cannot be saved meanwhile)."""
        ...

    def settings_saved(self, settings: ConsoleSettings) -> None:
        """``settings`` are now in the file (they apply from the next sign-in)."""
        ...


def problem_sentence(problem: str) -> str:
    """A setting's problem as a sentence to show under its field."""
    text = problem.strip().rstrip(".")
    return f"{text[:1].upper()}{text[1:]}." if text else ""


def saved_message(changed: int) -> str:
    """What the dialog says after a save that changed ``changed`` settings."""
    if changed == 0:
        return "Nothing to save: no setting was changed."
    noun = "setting" if changed == 1 else "settings"
    return f"Saved: {changed} {noun} changed."


class SettingsPresenter:
    """Loads the settings file, and saves the form as ``change_settings`` on a worker.

    Settings the form does not show (the bcrypt cost, the reset e-mail interval) keep the
    value they have in the file. The mail server's password goes through ``mail_password``,
    whose keyring calls never hold up a save.
    """

    def __init__(
        self,
        desk: StaffDesk,
        runner: Submitter,
        view: SettingsView,
        path: Path,
        secrets: SecretsStore | None = None,
    ) -> None:
        self._desk = desk
        self._view = view
        self._path = path
        self._calls = ServiceCalls(runner)
        self._loaded: ConsoleSettings | None = None
        #: Storing the mail server's password, and saying whether one is stored.
        self.mail_password = MailPasswordPresenter(desk.actor, runner, view, secrets)

    @property
    def refusal(self) -> str | None:
        """Why this user may not change the settings; None when they may."""
        return refusal(self._desk.actor.role, Permission.CHANGE_SETTINGS)

    @property
    def busy(self) -> bool:
        """Whether a load, a save or the storing of a password is under way (the dialog
        stays open until it has answered)."""
        return self._calls.busy or self.mail_password.storing

    @property
    def loaded(self) -> ConsoleSettings | None:
        """The settings as the file holds them (after a save: as saved)."""
        return self._loaded

    def load(self) -> None:
        """Read the settings file on a worker and show it; a file that cannot be used
        shows the defaults and says that saving replaces it."""
        if self._refused():
            return
        self._view.show_status("Loading the settings…")
        self._view.set_busy(True)
        self._calls.run("Reading the settings", self._read, self._show_loaded, self._load_failed)

    def save(self, form: Mapping[str, object]) -> None:
        """Save the form's values (by ``ConsoleSettings`` field; text as typed, the key
        file as text) on a worker; each refused setting is shown next to its field."""
        if self._refused() or self._calls.busy or self._loaded is None:
            return
        try:
            # Checked when made: a wrong type or range is a SettingsRefused naming the field.
            new = dataclasses.replace(self._loaded, **_typed(form))  # type: ignore[arg-type]
        except SettingsRefused as refused:
            self._show_refused(refused)
            return
        self._view.show_problems({}, "")
        self._view.show_status("Saving…")
        self._view.set_busy(True)
        self._calls.run(
            "Saving the settings",
            lambda: self._desk.act(change_settings, self._path, new),
            lambda changed: self._show_saved(new, changed),
            self._save_failed,
        )

    def close(self) -> None:
        """The dialog is closing: deliver nothing more to it."""
        self._calls.cancel()
        self.mail_password.close()

    # --- answers --------------------------------------------------------------------------

    def _refused(self) -> bool:
        reason = self.refusal
        if reason is not None:
            self._view.show_problems({}, reason)
        return reason is not None

    def _read(self) -> tuple[ConsoleSettings, str]:
        try:
            return load_settings(self._path), ""
        except InvalidSetting as error:
            return ConsoleSettings(), (
                f"{error.message} The form shows the defaults; saving replaces the file."
            )

    def _show_loaded(self, answer: tuple[ConsoleSettings, str]) -> None:
        settings, problem = answer
        self._loaded = settings
        self._view.set_busy(False)
        self._view.show_settings(settings)
        self._view.show_problems({}, problem)
        self._view.show_status("")
        self.mail_password.look_up(settings.smtp_host)

    def _load_failed(self, error: DomainError) -> None:
        self._view.set_busy(False)
        self._view.show_problems({}, error.message)
        self._view.show_status("The settings could not be read.")

    def _show_saved(self, new: ConsoleSettings, changed: tuple[str, ...]) -> None:
        self._loaded = new
        self._view.set_busy(False)
        self._view.show_status(saved_message(len(changed)))
        if changed:
            self._view.settings_saved(new)

    def _save_failed(self, error: DomainError) -> None:
        self._view.set_busy(False)
        if isinstance(error, SettingsRefused):
            self._show_refused(error)
        else:
            self._view.show_problems({}, error.message)
            self._view.show_status("Not saved.")

    def _show_refused(self, refused: SettingsRefused) -> None:
        by_field: dict[str, str] = {}
        elsewhere: list[str] = []
        for problem in refused.problems:
            if problem.field in SHOWN_FIELDS:
                by_field.setdefault(problem.field, problem_sentence(problem.problem))
            else:
                elsewhere.append(str(problem))
        general = problem_sentence("; ".join(elsewhere)) if elsewhere else ""
        self._view.show_problems(by_field, general)
        self._view.show_status("Not saved: correct the settings marked in red.")


def _typed(form: Mapping[str, object]) -> dict[str, object]:
    """The form's values as ``ConsoleSettings`` takes them."""
    values: dict[str, object] = {}
    for name, value in form.items():
        if type(value) is str:  # not SmtpSecurity, a str too
            value = value.strip()
        if name == "audit_key_file":
            value = Path(str(value)) if value else None
        values[name] = value
    return values


__all__ = [
    "FORM_GROUPS",
    "SHOWN_FIELDS",
    "SettingField",
    "SettingsPresenter",
    "SettingsView",
    "problem_sentence",
    "saved_message",
]
