"""A clinic's embedded database encrypted at rest (issue 14, point 1): created encrypted with a
key kept where the audit key is, unreadable without it (plain SQLite included), searched the
same way; demo databases stay plain."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from console.models.account_list import AccountFilter, AccountList, AccountSort, SortKey
from console.models.database import (
    DatabaseNeedsKey,
    DatabaseUnavailable,
    open_database,
    resolve_database_url,
)
from console.models.encryption import SQLITE_HEADER, new_key
from console.models.schema import Patient
from console.models.states import AccountState, StaffRole
from console.services.accounts.chart_actions import edit_contact
from console.services.audit.key import KEY_ENV_VAR, NoSecureKeyring
from console.services.audit.verifier import verify_chain
from console.services.backups import BackupRefused
from console.services.clock import ManualClock
from console.services.database_key import (
    create_clinic_database,
    derive,
    encrypt_database,
    key_entry,
    open_clinic_database,
)
from console.services.permissions import Actor
from console.services.settings.values import ConsoleSettings
from console.services.workstation import Workstation
from tests.factories import add_account, add_patient
from tests.keyrings import MemoryKeyring
from tests.services.conftest import NOW, TEST_AUDIT_KEY, make_workstation

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
    with pytest.raises(
        DatabaseNeedsKey, match="the key this workstation has for it does not open it"
    ):
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


def test_a_plain_clinic_database_is_encrypted_in_place_after_a_verified_backup(
    desk: Workstation, staff: dict[StaffRole, Actor], tmp_path: Path
) -> None:
    admin = staff[StaffRole.ADMIN]
    with Session(desk.database.writer) as session, session.begin():
        chart = add_patient(session, last_name="Okafor").id
    edit_contact(desk, admin, chart, contact_email=None, mobile_phone="555-0100")
    path = Path(str(desk.database.engine.url.database))
    environ = {KEY_ENV_VAR: TEST_AUDIT_KEY.secret.hex()}

    # Another workstation (a process of its own) has it open: refused, nothing changed.
    holding = (
        "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1]); "
        "c.execute('SELECT count(*) FROM patients').fetchall(); print('open', flush=True); "
        "time.sleep(30)"
    )
    other = subprocess.Popen(
        [sys.executable, "-c", holding, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert other.stdout is not None and other.stdout.readline() == "open\n"
        with pytest.raises(DatabaseUnavailable, match="open on another workstation"):
            encrypt_database(
                desk, admin, ConsoleSettings(), backup=tmp_path / "b1.db", environ=environ
            )
    finally:
        other.kill()
        other.wait()
    assert path.read_bytes()[:16] == SQLITE_HEADER

    backup = tmp_path / "before-encryption.db"
    made = encrypt_database(desk, admin, ConsoleSettings(), backup=backup, environ=environ)
    assert made.path == backup and backup.read_bytes()[:16] == SQLITE_HEADER
    assert path.read_bytes()[:16] != SQLITE_HEADER
    assert not Path(f"{path}-wal").exists() or b"Okafor" not in Path(f"{path}-wal").read_bytes()
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(path).execute("SELECT count(*) FROM sqlite_master").fetchall()
    reopened = open_clinic_database(url_of(path), ConsoleSettings(), environ=environ)
    try:
        assert reopened.encrypted
        with Session(reopened.engine) as session:
            assert session.get_one(Patient, chart).mobile_phone == "555-0100"
        report = verify_chain(reopened, desk.audit.key)
        assert report.ok
        with reopened.engine.connect() as connection:
            last = connection.execute(
                text("SELECT action FROM audit_events ORDER BY seq DESC LIMIT 1")
            ).scalar()
        assert last == "database_encrypted"
        again = make_workstation(reopened, ManualClock(NOW))
        with pytest.raises(BackupRefused, match="encrypted already"):
            encrypt_database(
                again, admin, ConsoleSettings(), backup=tmp_path / "b2.db", environ=environ
            )
    finally:
        reopened.dispose()
