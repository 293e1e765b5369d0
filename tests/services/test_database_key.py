"""A clinic's embedded database encrypted at rest (issue 14, point 1): created encrypted with a
key kept where the audit key is, unreadable without it (plain SQLite included), searched the
same way; demo databases stay plain."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from console.models.account_list import AccountFilter, AccountList, AccountSort, SortKey
from console.models.database import DatabaseNeedsKey, open_database, resolve_database_url
from console.models.encryption import SQLITE_HEADER, new_key
from console.models.states import AccountState
from console.services.audit.key import KEY_ENV_VAR, NoSecureKeyring
from console.services.database_key import (
    create_clinic_database,
    derive,
    key_entry,
    open_clinic_database,
)
from console.services.settings.values import ConsoleSettings
from tests.factories import add_account, add_patient
from tests.keyrings import MemoryKeyring

AUDIT_KEY = hashlib.sha256(b"database key test").hexdigest()


@pytest.fixture
def keyring_backend() -> Iterator[MemoryKeyring]:
    backend = MemoryKeyring()
    before = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(before)


def url_of(path: Path) -> str:
    return resolve_database_url(str(path), {})


def test_a_new_clinic_database_is_unreadable_without_its_key(
    tmp_path: Path, keyring_backend: MemoryKeyring
) -> None:
    path = tmp_path / "clinic.db"
    database = create_clinic_database(url_of(path), ConsoleSettings(), environ={})
    assert database.encrypted and repr(database).count("cipher_key") == 0
    with Session(database.writer) as session, session.begin():
        chart = add_patient(session, first_name="Ann", last_name="Okafor")
        add_account(session, "ann.okafor@example.org", AccountState.LEGACY, chart)
    database.dispose()
    (entry,) = keyring_backend.entries
    assert entry == ("portal-console", key_entry(path.resolve()).name)

    assert path.read_bytes()[:16] != SQLITE_HEADER
    assert b"okafor" not in path.read_bytes().lower()
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        sqlite3.connect(path).execute("SELECT count(*) FROM sqlite_master").fetchall()
    with pytest.raises(DatabaseNeedsKey, match="whose key this workstation does not have"):
        open_database(url_of(path))
    with pytest.raises(DatabaseNeedsKey, match="does not open it"):
        open_database(url_of(path), cipher_key=new_key())

    reopened = open_clinic_database(url_of(path), ConsoleSettings(), environ={})
    try:
        found = AccountList(reopened.engine).window(  # the trigram search, as in the window
            AccountFilter(search="kafo"), AccountSort(SortKey.ACCOUNT_ID), 0, 10
        )
        assert [row.login_email for row in found] == ["ann.okafor@example.org"]
    finally:
        reopened.dispose()


def test_on_a_server_the_key_comes_from_the_audit_key_and_nowhere_else_is_asked(
    tmp_path: Path, keyring_backend: MemoryKeyring
) -> None:
    path = tmp_path / "clinic.db"
    environ = {KEY_ENV_VAR: AUDIT_KEY}
    database = create_clinic_database(url_of(path), ConsoleSettings(), environ=environ)
    assert database.cipher_key == derive(bytes.fromhex(AUDIT_KEY))
    database.dispose()
    assert keyring_backend.entries == {}
    open_clinic_database(url_of(path), ConsoleSettings(), environ=environ).dispose()

    key_file = tmp_path / "keys" / "audit.key"
    key_file.parent.mkdir()
    settings = ConsoleSettings(audit_key_file=key_file)
    other = create_clinic_database(url_of(tmp_path / "other.db"), settings, environ={})
    assert key_file.exists() and other.cipher_key == derive(bytes.fromhex(key_file.read_text()))
    other.dispose()


def test_without_a_safe_place_for_the_key_no_database_is_made(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    # The tests' default keyring is not a secure one, and no key file or variable is named.
    with pytest.raises(NoSecureKeyring, match="no secure keyring"):
        create_clinic_database(url_of(path), ConsoleSettings(), environ={})
    assert not path.exists()


def test_a_demo_or_older_plain_database_stays_plain(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    open_database(url_of(path)).dispose()
    database = open_clinic_database(
        url_of(path), ConsoleSettings(), environ={KEY_ENV_VAR: AUDIT_KEY}
    )
    try:
        assert not database.encrypted
        with database.engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        database.dispose()
    assert path.read_bytes()[:16] == SQLITE_HEADER
