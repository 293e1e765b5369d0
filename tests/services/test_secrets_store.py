"""Secrets in the keyring (issue 5): a secure backend only (an in-memory one here; keyring's
fail backend and keyrings.alt's plain-text file are refused), every call given up after a
timeout, and every failure a message with no secret in it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from keyring.errors import KeyringLocked, PasswordDeleteError, PasswordSetError
from keyrings.alt.file import PlaintextKeyring

from console.services.errors import DomainError
from console.services.settings.secrets_store import (
    KeyringFailed,
    KeyringUnavailable,
    SecretsStore,
    database_password_entry,
    no_keyring_message,
    smtp_password_entry,
)
from tests.keyrings import LockedKeyring, MemoryKeyring

CANARY = "Canary-Db-Password-8812"
DATABASE_URL = f"postgresql+psycopg://clinic:{CANARY}@db.clinic.example:5432/portal?sslmode=require"
SHORT_WAIT = 0.05  # seconds a test lets a hung keyring run before giving up on it


class LeakyKeyring(MemoryKeyring):
    """A backend whose error messages quote the secret (some do, escaping it for D-Bus)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise PasswordSetError(f"cannot store {password!r} for {username}")


class UndeletableKeyring(MemoryKeyring):
    """Says "not found" when asked to delete, but keeps the entry."""

    def delete_password(self, service: str, username: str) -> None:
        raise PasswordDeleteError("not found")


class HungKeyring(MemoryKeyring):
    """A keyring behind a D-Bus that does not answer until ``release`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.calls = self.answered = 0
        self.changed = threading.Condition()

    def get_password(self, service: str, username: str) -> str | None:
        with self.changed:
            self.calls += 1
        try:
            self.release.wait(timeout=10)
            return super().get_password(service, username)
        finally:
            with self.changed:
                self.answered += 1
                self.changed.notify_all()

    def wait_until_answered(self) -> None:
        """Until every call made has returned (its worker thread is done)."""
        with self.changed:
            assert self.changed.wait_for(lambda: self.answered == self.calls, timeout=10)


@pytest.fixture
def memory() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def hung() -> Iterator[HungKeyring]:
    backend = HungKeyring()
    yield backend
    backend.release.set()  # no keyring thread outlives its test
    backend.wait_until_answered()


@pytest.fixture
def plaintext(tmp_path: Path) -> PlaintextKeyring:
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring_pass.cfg")  # type: ignore[misc]
    return backend


# --- Entries -----------------------------------------------------------------------------------


def test_a_database_entry_holds_no_password() -> None:
    entry = database_password_entry(DATABASE_URL)
    assert entry.name == "database-password:postgresql://clinic@db.clinic.example:5432/portal"
    assert CANARY not in entry.name and CANARY not in entry.what
    same = database_password_entry("postgresql://clinic@db.clinic.example:5432/portal")
    assert same == entry
    with pytest.raises(DomainError, match="not a database address"):
        database_password_entry("not a url")


def test_an_smtp_entry_is_named_by_its_host() -> None:
    assert smtp_password_entry(" SMTP.Clinic.example ").name == "smtp-password:smtp.clinic.example"


# --- A secure keyring --------------------------------------------------------------------------


def test_secrets_are_kept_in_a_secure_keyring(memory: MemoryKeyring) -> None:
    store = SecretsStore(memory)
    entry = database_password_entry(DATABASE_URL)
    assert store.is_secure()
    assert store.get(entry) is None
    store.set(entry, CANARY)
    assert memory.entries == {("portal-console", entry.name): CANARY}
    assert store.get(entry) == CANARY
    store.delete(entry)
    assert store.get(entry) is None
    store.delete(entry)  # nothing left to forget: fine


def test_an_empty_secret_is_not_stored(memory: MemoryKeyring) -> None:
    with pytest.raises(DomainError, match="nothing to remember"):
        SecretsStore(memory).set(smtp_password_entry("smtp.example"), "")
    assert memory.entries == {}


def test_a_delete_that_did_not_delete_is_reported() -> None:
    backend = UndeletableKeyring()
    entry = smtp_password_entry("smtp.example")
    SecretsStore(backend).set(entry, CANARY)
    with pytest.raises(KeyringFailed, match="could not be removed"):
        SecretsStore(backend).delete(entry)


# --- No secure keyring -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["fail", "null", "plaintext", "default"])
def test_without_a_secure_keyring_nothing_is_stored(
    kind: str, plaintext: PlaintextKeyring, tmp_path: Path
) -> None:
    backend: KeyringBackend | None = {
        "fail": fail.Keyring(),
        "null": null.Keyring(),
        "plaintext": plaintext,
        "default": None,  # the tests' environment chooses keyring's null backend
    }[kind]
    store = SecretsStore(backend, platform="linux")
    entry = smtp_password_entry("smtp.example")
    assert not store.is_secure()
    assert store.get(entry) is None
    with pytest.raises(KeyringUnavailable) as refused:
        store.set(entry, CANARY)
    message = str(refused.value)
    assert "GNOME Keyring or KWallet" in message and "ask for it each time" in message
    assert CANARY not in message
    store.delete(entry)
    assert list(tmp_path.iterdir()) == []  # the plain-text file was never written


@pytest.mark.parametrize(
    ("platform", "words"),
    [
        ("linux", "Secret Service"),
        ("win32", "Windows Credential Manager"),
        ("darwin", "login keychain"),
        ("freebsd14", "set up the system's keyring"),
    ],
)
def test_the_explanation_fits_the_system(platform: str, words: str) -> None:
    message = no_keyring_message("the SMTP password", platform)
    assert words in message
    assert "the console will ask for it each time" in message


# --- Failures and hangs ------------------------------------------------------------------------


def test_a_locked_keyring_says_so() -> None:
    with pytest.raises(KeyringFailed) as failed:
        SecretsStore(LockedKeyring()).get(smtp_password_entry("smtp.example"))
    assert "could not be read from the system keyring (KeyringLocked)" in str(failed.value)
    assert "unlock it" in str(failed.value)
    assert failed.value.cause_type is KeyringLocked


def test_a_backend_error_never_carries_the_secret() -> None:
    entry = database_password_entry(DATABASE_URL)
    with pytest.raises(KeyringFailed) as failed:
        SecretsStore(LeakyKeyring()).set(entry, CANARY)
    error = failed.value
    assert "could not be stored in the system keyring (PasswordSetError)" in str(error)
    assert CANARY not in str(error) and CANARY not in repr(error.args)
    assert error.__cause__ is None and error.__context__ is None


def test_a_hung_keyring_is_given_up_on(hung: HungKeyring) -> None:
    store = SecretsStore(hung, timeout=SHORT_WAIT)
    entry = smtp_password_entry("smtp.example")
    with pytest.raises(KeyringFailed, match=r"did not answer within 0\.05 seconds"):
        store.get(entry)
    with pytest.raises(KeyringFailed, match="still not answering"):  # not asked again
        store.get(entry)
    assert hung.calls == 1
    hung.release.set()
    hung.wait_until_answered()
    hung.entries[("portal-console", entry.name)] = CANARY
    assert store.get(entry) == CANARY  # it answers again: so does the store
