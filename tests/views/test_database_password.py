"""The database password (issue 5, secrets in the keyring): asked for only when the server
wants it, remembered only in a secure keyring, never in a file. Against a real PostgreSQL role
that must give its password (tests/postgres_server.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from keyring.backends import null
from pytestqt.qtbot import QtBot

from console.app import open_with_password
from console.models.database import DatabaseUnavailable
from console.services.settings.secrets_store import SecretsStore, database_password_entry
from console.views.database_password import DatabasePasswordDialog
from tests.keyrings import MemoryKeyring
from tests.postgres_server import PostgresServer

PASSWORD = "Canary-Db-Password-7741"


class Asker:
    """Answers the password prompt from a list, and remembers what it was shown."""

    def __init__(self, *answers: tuple[str, bool] | None) -> None:
        self.answers = list(answers)
        self.asked: list[tuple[str, bool, str]] = []

    def __call__(self, where: str, can_remember: bool, problem: str) -> tuple[str, bool] | None:
        self.asked.append((where, can_remember, problem))
        return self.answers.pop(0)


@pytest.fixture
def protected_url(postgres_server: PostgresServer) -> Iterator[str]:
    with postgres_server.password_database(PASSWORD) as url:
        yield url


def test_a_sqlite_file_opens_without_asking(sqlite_url: str) -> None:
    asker = Asker()
    keyring = MemoryKeyring()
    database = open_with_password(sqlite_url, store=SecretsStore(keyring), ask=asker)
    assert database is not None and asker.asked == []
    # A new file is a clinic's first start: encrypted, its key in the keyring.
    assert database.encrypted and len(keyring.entries) == 1
    database.dispose()


def test_asked_once_then_remembered_in_the_keyring(protected_url: str) -> None:
    keyring = MemoryKeyring()
    asker = Asker(("wrong password", True), (PASSWORD, True))
    database = open_with_password(protected_url, store=SecretsStore(keyring), ask=asker)
    assert database is not None
    database.dispose()
    assert [can for _, can, _ in asker.asked] == [True, True]
    assert asker.asked[0][2] == ""
    assert "refused the user name or password" in asker.asked[1][2]
    assert all(PASSWORD not in where for where, _, _ in asker.asked)
    assert list(keyring.entries.values()) == [PASSWORD]

    again = open_with_password(protected_url, store=SecretsStore(keyring), ask=Asker())
    assert again is not None  # from the keyring: not asked
    again.dispose()


def test_a_stale_remembered_password_is_asked_again(protected_url: str) -> None:
    keyring = MemoryKeyring()
    store = SecretsStore(keyring)
    store.set(database_password_entry(protected_url), "last year's password")
    asker = Asker((PASSWORD, True))
    database = open_with_password(protected_url, store=store, ask=asker)
    assert database is not None
    database.dispose()
    assert "no longer works" in asker.asked[0][2]
    assert list(keyring.entries.values()) == [PASSWORD]


def test_without_a_secure_keyring_nothing_is_remembered(protected_url: str) -> None:
    asker = Asker((PASSWORD, True))
    database = open_with_password(protected_url, store=SecretsStore(null.Keyring()), ask=asker)
    assert database is not None
    database.dispose()
    assert asker.asked[0][1] is False  # the box cannot be ticked


def test_quitting_at_the_prompt_opens_nothing(protected_url: str) -> None:
    assert (
        open_with_password(protected_url, store=SecretsStore(MemoryKeyring()), ask=Asker(None))
        is None
    )


def test_other_failures_are_not_a_password_question() -> None:
    with pytest.raises(DatabaseUnavailable, match="Cannot reach the database server"):
        open_with_password(
            "postgresql://nobody@127.0.0.1:1/none",
            store=SecretsStore(MemoryKeyring()),
            ask=Asker(),
        )


def test_the_prompt_explains_a_missing_keyring(qtbot: QtBot) -> None:
    dialog = DatabasePasswordDialog(
        "postgresql+psycopg://staff@db.clinic.example/portal",
        can_remember=False,
        keyring_help="This computer has no secure keyring …",
        problem="The database server refused the user name or password.",
    )
    qtbot.addWidget(dialog)
    assert not dialog.remember.isEnabled() and not dialog.remember.isChecked()
    assert not dialog.keyring_help.isHidden() and not dialog.problem.isHidden()
    dialog.password.setText(PASSWORD)
    dialog.reject()
    assert dialog.password.text() == ""
