"""The database and SMTP passwords, kept in the operating system's keyring (SPEC §8).

Only a secure keyring is used (``is_secure_keyring``): with none, or only the fail, null or
plain-file backends, nothing is stored and ``get`` answers None, so the console asks
for the password each time; ``set`` says how to set a keyring up. A keyring lives behind
D-Bus or an OS service that can hang or fail: every call runs in a worker thread and is
given up after a timeout, and every failure becomes a ``KeyringFailed`` for the person at
the desk. No secret is ever put in a message, a log line or a traceback.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import keyring
from keyring import errors as keyring_errors
from keyring.backends import chainer, fail, null
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from console.models.database import APP_NAME
from console.services.errors import DomainError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

#: The service under which every console secret is kept (each entry names one secret).
KEYRING_SERVICE = APP_NAME
DEFAULT_TIMEOUT = 5.0
_T = TypeVar("_T")

_NO_KEYRING_HELP = {
    "linux": (
        "To have it remembered, set up a keyring that offers the Secret Service (GNOME "
        "Keyring or KWallet), unlocked when you sign in to the computer, and restart the "
        "console."
    ),
    "win32": (
        "To have it remembered, sign in to Windows with your own account (Windows Credential "
        "Manager keeps it) and restart the console."
    ),
    "darwin": (
        "To have it remembered, make sure your login keychain is unlocked (Keychain Access) "
        "and restart the console."
    ),
}
_GENERIC_HELP = "To have it remembered, set up the system's keyring and restart the console."

_HINTS: tuple[tuple[type[Exception], str], ...] = (
    (
        keyring_errors.KeyringLocked,
        "The keyring is locked: unlock it (it usually asks for your computer password) "
        "and try again.",
    ),
    (
        keyring_errors.InitError,
        "The keyring could not be opened: check that it is running and unlocked.",
    ),
)


class KeyringUnavailable(DomainError):
    """This computer has no secure keyring: nothing can be remembered there."""


class KeyringFailed(DomainError):
    """The keyring did not answer in time, or answered with an error. ``cause_type`` is
    the type of the keyring's own exception (never the exception: its text may quote the
    secret); None when it did not answer."""

    def __init__(self, message: str, cause_type: type[BaseException] | None = None) -> None:
        super().__init__(message)
        self.cause_type = cause_type


@dataclass(frozen=True)
class SecretEntry:
    """One secret's place in the keyring: ``name`` is the entry under the service
    ``portal-console``; ``what`` names the secret in messages ("the SMTP password")."""

    name: str
    what: str


def is_secure_keyring(backend: KeyringBackend) -> bool:
    """Whether ``backend`` keeps secrets safely: keyring's own "recommended" level (priority 1
    or more), and never the fail, null or keyrings.alt (plain or password-file) backends. A
    chain of backends is secure only when every backend in it is. May talk to D-Bus: the
    store calls it in its worker."""
    if isinstance(backend, chainer.ChainerBackend):
        members = list(backend.backends)
        return bool(members) and all(is_secure_keyring(member) for member in members)
    if isinstance(backend, fail.Keyring | null.Keyring):
        return False
    if type(backend).__module__.startswith("keyrings.alt"):
        return False
    try:
        return float(backend.priority) >= 1
    except Exception:  # a backend reports "not usable here" by raising from priority
        return False


def database_password_entry(url: str | URL) -> SecretEntry:
    """The entry for the password of the database at ``url``: its URL without the password
    (or the query), so that every URL naming the same server, user and database finds it."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        raise DomainError("This is not a database address the console understands.") from None
    # Built anew: ``URL.set`` ignores None, so it cannot take the password out.
    plain = URL.create(
        parsed.get_backend_name(),
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
    )
    return SecretEntry(
        f"database-password:{plain.render_as_string(hide_password=False)}",
        "the database password",
    )


def smtp_password_entry(host: str) -> SecretEntry:
    """The entry for the password of the mail server ``host``."""
    return SecretEntry(f"smtp-password:{host.strip().lower()}", "the mail server's password")


def no_keyring_message(what: str, platform: str | None = None) -> str:
    """Why ``what`` cannot be remembered on this computer and how to change that."""
    system = platform or sys.platform
    help_text = _NO_KEYRING_HELP.get("linux" if system.startswith("linux") else system)
    return (
        f"This computer has no secure keyring, so {what} cannot be remembered: the console "
        f"will ask for it each time instead. {help_text or _GENERIC_HELP}"
    )


class SecretsStore:
    """The keyring, reached safely: a secure backend only, every call in a worker thread
    with a timeout, one call at a time (a hung keyring is not asked again until it
    answers). ``backend`` None is keyring's own choice for this computer."""

    def __init__(
        self,
        backend: KeyringBackend | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        platform: str | None = None,
    ) -> None:
        self._backend = backend
        self._secure: bool | None = None
        self._timeout = timeout
        self._platform = platform or sys.platform
        self._guard = threading.Lock()
        self._pending: Future[Any] | None = None

    def is_secure(self) -> bool:
        """Whether secrets can be remembered here (asks the keyring the first time)."""
        if self._secure is None:
            # Choosing the backend and asking its priority can both talk to D-Bus.
            self._secure = self._run(
                lambda: is_secure_keyring(self._choose_backend()), "check", "the keyring"
            )
        return self._secure

    def backend_name(self) -> str:
        """The keyring backend in use (module and class), for a message that says which one
        was found wanting; asks nothing of it."""
        if self._backend is None:
            return "not chosen yet"
        return f"{type(self._backend).__module__}.{type(self._backend).__name__}"

    def get(self, entry: SecretEntry) -> str | None:
        """The secret, or None when none is stored or there is no secure keyring (the
        console then asks for it). ``KeyringFailed`` when the keyring fails or hangs."""
        if not self.is_secure():
            return None
        backend = self._chosen()
        found = self._run(
            lambda: backend.get_password(KEYRING_SERVICE, entry.name), "read", entry.what
        )
        return found if isinstance(found, str) and found else None

    def set(self, entry: SecretEntry, secret: str) -> None:
        """Remember ``secret``. ``KeyringUnavailable`` (saying how to set one up) when there
        is no secure keyring; ``KeyringFailed`` when the keyring fails or hangs."""
        if not secret:
            raise DomainError(f"Enter {entry.what} first: there is nothing to remember.")
        if not self.is_secure():
            raise KeyringUnavailable(no_keyring_message(entry.what, self._platform))
        backend = self._chosen()
        self._run(
            lambda: backend.set_password(KEYRING_SERVICE, entry.name, secret), "store", entry.what
        )

    def delete(self, entry: SecretEntry) -> None:
        """Forget the secret; nothing to forget is fine (nothing is stored without a secure
        keyring either)."""
        if not self.is_secure():
            return
        backend = self._chosen()
        try:
            self._run(
                lambda: backend.delete_password(KEYRING_SERVICE, entry.name), "remove", entry.what
            )
        except KeyringFailed as failed:
            # Most backends say "not found" with PasswordDeleteError: fine if it is gone.
            deleting = failed.cause_type
            if deleting is None or not issubclass(deleting, keyring_errors.PasswordDeleteError):
                raise
            if self.get(entry) is not None:
                raise

    def _choose_backend(self) -> KeyringBackend:
        if self._backend is None:
            self._backend = keyring.get_keyring()
        return self._backend

    def _chosen(self) -> KeyringBackend:
        assert self._backend is not None  # is_secure() chose it
        return self._backend

    def _run(self, call: Callable[[], _T], doing: str, what: str) -> _T:
        """``call()`` in a daemon worker thread, waited for at most the timeout (a hung
        call is left behind; a daemon never holds up the console's exit)."""
        future: Future[_T] = Future()
        with self._guard:
            if self._pending is not None and not self._pending.done():
                raise KeyringFailed(
                    f"The system keyring is still not answering, so {what} could not be "
                    f"{_DONE[doing]}. {_TIMEOUT_HELP}"
                )
            self._pending = future

        def work() -> None:
            try:
                future.set_result(call())
            except BaseException as error:  # handed to the waiting caller, never lost
                future.set_exception(error)

        threading.Thread(target=work, name="portal-console-keyring", daemon=True).start()
        failure: KeyringFailed
        try:
            return future.result(timeout=self._timeout)
        except FutureTimeout:
            failure = KeyringFailed(
                f"The system keyring did not answer within {self._timeout:g} seconds, so "
                f"{what} could not be {_DONE[doing]}. {_TIMEOUT_HELP}"
            )
        except Exception as error:
            failure = KeyringFailed(
                f"{what[0].upper()}{what[1:]} could not be {_DONE[doing]} "
                f"({type(error).__name__}). {_hint(error)}",
                type(error),
            )
        finally:
            if future.done():  # let go of the answer (it may be the secret) at once
                with self._guard:
                    if self._pending is future:
                        self._pending = None
        # Raised outside the ``except``: a backend's own message may quote the secret, so
        # the original exception is neither the cause nor the context of this one (no
        # traceback or log line can print it); only its type is kept.
        raise failure


_DONE = {
    "check": "checked",
    "read": "read from the system keyring",
    "store": "stored in the system keyring",
    "remove": "removed from the system keyring",
}
_TIMEOUT_HELP = (
    "The console will ask for it instead; if this keeps happening, restart the computer."
)


def _hint(error: Exception) -> str:
    for kind, hint in _HINTS:
        if isinstance(error, kind):
            return hint
    return "The console will ask for it instead."


__all__ = [
    "DEFAULT_TIMEOUT",
    "KEYRING_SERVICE",
    "KeyringFailed",
    "KeyringUnavailable",
    "SecretEntry",
    "SecretsStore",
    "database_password_entry",
    "is_secure_keyring",
    "no_keyring_message",
    "smtp_password_entry",
]
