"""What the mail server's password decides, without Qt: whether there is a server to keep
a password for, whether what was typed may be stored, and what the line saying whether the
keyring holds one reads. The password is no setting: it is kept in the keyring
(``SecretsStore``) for the server the settings form names, never in the settings file. Each
keyring call runs on a worker; the view is the settings dialog, which opens a
``MailPasswordForm`` (``console.views.mail_password``) to have the password typed twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from console.services.errors import DomainError
from console.services.permissions import Actor, Permission, refusal
from console.services.settings.secrets_store import (
    KeyringUnavailable,
    SecretsStore,
    smtp_password_entry,
)
from console.workers.service_calls import ServiceCalls, Submitter

NO_SMTP_HOST = "Enter the mail server first: its password is kept for that server."
STORED_IN_KEYRING = "The mail server's password is now in this computer's keyring."
NOTHING_TYPED = "Type the mail server's password."
TYPED_TWICE_DIFFERENTLY = "The two passwords are not the same: type the password twice again."
STILL_STORING = "The password typed before is still being stored: try again in a moment."


def smtp_password_state(host: str, stored: bool | None) -> str:
    """Whether the keyring holds a password for ``host``: ``stored`` None means there is
    no secure keyring to hold one."""
    if not host:
        return "No mail server entered, so no password to keep."
    if stored is None:
        return "No secure keyring here: the console will ask for the password when sending."
    return f"A password is stored for {host}." if stored else "No password stored yet."


# --- the presenter -------------------------------------------------------------------------


class MailPasswordView(Protocol):
    """What the presenter tells the dialog about the mail server's password."""

    def show_problems(self, problems: Mapping[str, str], general: str) -> None:
        """Show each field's problem next to it and ``general`` above the form; clear the
        rest."""
        ...

    def show_status(self, text: str) -> None:
        """Say how the last load, save or storing of the password went."""
        ...

    def show_field_problem(self, name: str, problem: str) -> None:
        """Show ``problem`` next to the field ``name`` alone (empty: clear it)."""
        ...

    def ask_smtp_password(self, host: str) -> None:
        """Ask for the password of the mail server ``host``, typed twice; the answer comes
        back through ``MailPasswordPresenter.store``."""
        ...

    def show_smtp_password_state(self, text: str) -> None:
        """Say whether the keyring holds a password for the server in the form."""
        ...


class MailPasswordPresenter:
    """Stores the mail server's password in the keyring, and says whether one is stored
    for the server in the form.

    Keyring calls have their own ``ServiceCalls``, so that a slow keyring never holds up a
    save of the settings, and run one at a time (``SecretsStore`` refuses a second call
    while one is under way): a password typed meanwhile is stored, and a server changed
    meanwhile looked up, once the call under way has answered.
    """

    def __init__(
        self,
        actor: Actor,
        runner: Submitter,
        view: MailPasswordView,
        secrets: SecretsStore | None = None,
    ) -> None:
        self._actor = actor
        self._view = view
        self._secrets = secrets if secrets is not None else SecretsStore()
        self._calls = ServiceCalls(runner)
        self._storing = False
        self._store_waiting: Callable[[], None] | None = None  # starts the store
        self._host_wanted: str | None = None  # the server whose password state to show
        self._host_shown: str | None = None  # the server the shown state is for

    @property
    def refusal(self) -> str | None:
        """Why this user may not store the password; None when they may."""
        return refusal(self._actor.role, Permission.CHANGE_SETTINGS)

    @property
    def storing(self) -> bool:
        """Whether a password typed is being stored (the dialog stays open until then)."""
        return self._storing

    def look_up(self, host: str) -> None:
        """Look up on a worker whether the keyring holds a password for the mail server
        ``host`` (the server field, when the dialog opens and after each edit)."""
        if self.refusal is not None:
            return
        self._host_wanted = host.strip()
        self._next_call()

    def ask(self, host: str) -> None:
        """The "Mail server password…" button: ask for the password of the server the
        form names, or say next to the server field that there is none."""
        host = host.strip()
        if self._refused() or self._storing:  # the status line says it is storing
            return
        if not host:
            self._view.show_field_problem("smtp_host", NO_SMTP_HOST)
            return
        self._view.show_field_problem("smtp_host", "")
        self._view.ask_smtp_password(host)

    def store(self, host: str, password: str, repeated: str) -> str:
        """Store ``password`` as the mail server ``host``'s on a worker; its outcome goes
        to the status line. Returns why it was not sent ("" when it was) for the form
        that asked, which clears what was typed either way."""
        if self._refused():
            return ""
        if self._storing:
            return STILL_STORING
        if not password:
            return NOTHING_TYPED
        if password != repeated:
            return TYPED_TWICE_DIFFERENTLY
        host = host.strip()
        entry = smtp_password_entry(host)
        secrets = self._secrets
        self._storing = True
        self._view.show_status("Storing the mail server's password in the keyring…")
        self._store_waiting = lambda: self._calls.run(
            "Storing the mail server's password",
            lambda: secrets.set(entry, password),
            lambda _none: self._stored(host),
            lambda error: self._not_stored(host, error),
        )
        self._next_call()
        return ""

    def close(self) -> None:
        """The dialog is closing: deliver nothing more to it."""
        self._calls.cancel()
        self._store_waiting = None
        self._storing = False

    # --- answers --------------------------------------------------------------------------

    def _refused(self) -> bool:
        reason = self.refusal
        if reason is not None:
            self._view.show_problems({}, reason)
        return reason is not None

    def _next_call(self) -> None:
        """Start the store waiting, else look up the wanted server's password state unless
        it is shown already; nothing while a keyring call is under way (its answer comes
        back here)."""
        if self._calls.busy:
            return
        if self._store_waiting is not None:
            store, self._store_waiting = self._store_waiting, None
            store()
            return
        host = self._host_wanted
        if host is None or host == self._host_shown:
            return
        if not host:
            self._show_state(host, False)
            return
        entry = smtp_password_entry(host)
        secrets = self._secrets

        def stored() -> bool | None:
            if not secrets.is_secure():
                return None
            return secrets.get(entry) is not None  # the secret itself goes no further

        self._calls.run(
            "Reading the keyring",
            stored,
            lambda answer: self._show_state(host, answer),
            lambda error: self._state_unknown(host, error),
        )

    def _show_state(self, host: str, stored: bool | None) -> None:
        self._host_shown = host
        self._view.show_smtp_password_state(smtp_password_state(host, stored))
        self._next_call()

    def _state_unknown(self, host: str, error: DomainError) -> None:
        self._host_shown = host
        self._view.show_smtp_password_state(error.message)
        self._next_call()

    def _stored(self, host: str) -> None:
        self._storing = False
        self._view.show_status(STORED_IN_KEYRING)
        self._show_state(host, True)

    def _not_stored(self, host: str, error: DomainError) -> None:
        self._storing = False
        self._view.show_status(error.message)
        if isinstance(error, KeyringUnavailable):
            self._show_state(host, None)
        else:
            self._next_call()


__all__ = [
    "NOTHING_TYPED",
    "NO_SMTP_HOST",
    "STILL_STORING",
    "STORED_IN_KEYRING",
    "TYPED_TWICE_DIFFERENTLY",
    "MailPasswordPresenter",
    "MailPasswordView",
    "smtp_password_state",
]
