"""Keyring backends for tests: the OS keyring is outside the product, the one thing the tests
stand in for. None is ``viable``, so keyring's own detection never picks one by accident."""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """A secure-looking keyring that keeps its entries in this object."""

    priority = 10  # type: ignore[assignment]
    viable = False  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.entries:
            raise PasswordDeleteError("not found")  # as real backends say it
        del self.entries[(service, username)]


class LockedKeyring(MemoryKeyring):
    """A secure keyring the user has not unlocked (dismissed the unlock prompt)."""

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("the keyring is locked")
