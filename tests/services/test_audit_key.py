"""The audit key and a keyring that does not answer (issue 5): every keyring call is given up
after a timeout, loading then looks in the other places, and creating says why it failed.
The other places the key comes from are tested in test_audit.py.

And a clinic database is never taken for a demo (issue 14, point 4): this workstation records
the databases it set up, or worked on, with their real key (beside its settings, never in the
database), and for those a key found in the database is never used — with the real key
missing, actions are refused; with a demo key planted in the head row, the log is damaged."""

from __future__ import annotations

import json
import logging
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backends import null
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from console.models.database import Database, open_database, resolve_database_url
from console.models.schema import AuditChainHead, AuditEvent
from console.services.audit.clinic_databases import (
    ClinicDatabase,
    ClinicDatabases,
    ClinicRecordNotSaved,
    database_address,
)
from console.services.audit.key import (
    DEMO_LABEL,
    KEY_ENV_VAR,
    AuditKey,
    AuditKeyMissing,
    ClinicDatabaseReplaced,
    ClinicKeyMissing,
    DemoKeyInClinicDatabase,
    NoSecureKeyring,
    create_audit_key,
    keyring_entry,
    load_audit_key,
)
from console.services.demo.clinic import fill_demo_database
from console.services.settings.secrets_store import KEYRING_SERVICE
from console.services.settings.values import ConsoleSettings
from console.services.workstation_setup import build_workstation, set_up_audit_key
from tests.keyrings import LockedKeyring, MemoryKeyring
from tests.services.conftest import NOW
from tests.services.test_secrets_store import SHORT_WAIT, HungKeyring, LeakyKeyring

HEAD = AuditChainHead.__table__


@pytest.fixture
def hung() -> Iterator[HungKeyring]:
    backend = HungKeyring()
    yield backend
    backend.release.set()  # no keyring thread outlives its test
    backend.wait_until_answered()


def test_a_hung_keyring_is_passed_over_when_loading(database: Database, hung: HungKeyring) -> None:
    with pytest.raises(AuditKeyMissing, match=r"did not answer within 0\.05 seconds") as missing:
        load_audit_key(database, environ={}, keyring_backend=hung, keyring_timeout=SHORT_WAIT)
    assert KEY_ENV_VAR in str(missing.value)

    from_env = secrets.token_bytes(32)
    key = load_audit_key(
        database,
        environ={KEY_ENV_VAR: from_env.hex()},
        keyring_backend=hung,
        keyring_timeout=SHORT_WAIT,
    )
    assert (key.secret, key.source) == (from_env, KEY_ENV_VAR)


def test_a_hung_keyring_refuses_a_new_key_clearly(database: Database, hung: HungKeyring) -> None:
    with pytest.raises(NoSecureKeyring, match=r"did not answer within 0\.05 seconds"):
        create_audit_key(database, keyring_backend=hung, keyring_timeout=SHORT_WAIT)
    hung.release.set()
    hung.wait_until_answered()
    assert hung.entries == {}  # nothing stored behind the caller's back once it answered


def test_a_keyring_error_names_only_its_type(database: Database) -> None:
    with pytest.raises(
        NoSecureKeyring, match=r"could not be stored in the keyring \(PasswordSetError\)"
    ) as refused:
        create_audit_key(database, keyring_backend=LeakyKeyring())
    shown = f"{refused.value} {refused.value.__cause__} {refused.value.__context__}"
    assert "cannot store" not in shown  # the backend's own text quotes the key


# --- a clinic database is never taken for a demo -----------------------------------------


@pytest.fixture
def known(tmp_path: Path) -> ClinicDatabases:
    """This workstation's record of clinic databases, in the test's own folder."""
    return ClinicDatabases(tmp_path / "clinic-databases")


@pytest.fixture
def real_key() -> str:
    return secrets.token_hex(32)


def set_up(database: Database, known: ClinicDatabases, real_key: str) -> None:
    """``database`` set up as ``init`` does, its key in the environment, and two events."""
    environ = {KEY_ENV_VAR: real_key}
    set_up_audit_key(database, ConsoleSettings(), environ=environ, clinic_databases=known)
    audit = build_workstation(database, ConsoleSettings(), environ=environ).audit
    for number in range(2):
        with Session(database.writer) as session, session.begin():
            audit.record(session, "revoke_access", actor=None, target_id=number)


def load(database: Database, known: ClinicDatabases, **environ: str) -> AuditKey:
    """The key this workstation takes for ``database`` (no keyring, no key file)."""
    return load_audit_key(
        database, environ=environ, keyring_backend=null.Keyring(), clinic_databases=known
    )


def events(database: Database) -> int:
    with database.engine.connect() as connection:
        return len(connection.execute(select(AuditEvent.id)).all())


def test_setting_up_a_key_records_a_clinic_database_and_nothing_secret(
    database: Database, known: ClinicDatabases, real_key: str
) -> None:
    set_up(database, known, real_key)
    (path,) = known.folder.iterdir()
    with database.engine.connect() as connection:
        database_id = connection.scalar(select(AuditChainHead.database_id))
    assert path.name == f"{database_id}.json"
    assert json.loads(path.read_text()) == {
        "address": str(Path(str(database.engine.url.database)).resolve()),
        "database_id": database_id,
        "key_source": KEY_ENV_VAR,
    }
    assert real_key not in path.read_text()
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(known.folder.stat().st_mode) == 0o700


def test_a_clinic_database_without_its_key_is_refused_never_a_demo(
    any_db_url: str, known: ClinicDatabases, real_key: str
) -> None:
    database = open_database(any_db_url)
    try:
        set_up(database, known, real_key)
        with pytest.raises(ClinicKeyMissing) as missing:
            load(database, known)
        said = str(missing.value)
        assert "The audit key for this clinic database is missing" in said
        assert f"in the {KEY_ENV_VAR} environment variable" in said  # where it was kept
        assert real_key not in said
        assert load(database, known, **{KEY_ENV_VAR: real_key}).tamper_proof

        # An intruder plants a key of their own as the demo key: never used here, neither
        # to build a workstation nor to record an event.
        planted = secrets.token_hex(32)
        with database.write() as connection:
            connection.execute(update(HEAD).values(demo_key=planted))
        with pytest.raises(DemoKeyInClinicDatabase, match="holds a demo key") as damaged:
            load(database, known)
        assert planted not in str(damaged.value)
        settings = ConsoleSettings()
        with pytest.raises(DemoKeyInClinicDatabase):
            build_workstation(database, settings, environ={}, clinic_databases=known)
        # With its real key, the planted one is noticed too: nothing is appended.
        audit = build_workstation(
            database, settings, environ={KEY_ENV_VAR: real_key}, clinic_databases=known
        ).audit
        with (
            Session(database.writer) as session,
            session.begin(),
            pytest.raises(DemoKeyInClinicDatabase),
        ):
            audit.record(session, "revoke_access", actor=None)
        assert events(database) == 2
    finally:
        database.dispose()


def test_a_changed_database_id_does_not_make_a_clinic_database_a_stranger(
    any_db_url: str, known: ClinicDatabases, real_key: str
) -> None:
    database = open_database(any_db_url)
    try:
        set_up(database, known, real_key)
        with database.write() as connection:  # the head row replaced, with a new id
            connection.execute(delete(HEAD))
            connection.execute(insert(HEAD).values(id=1, database_id="f" * 32, last_seq=0))
        with pytest.raises(ClinicDatabaseReplaced, match="names another database"):
            load(database, known)
        with database.write() as connection:
            connection.execute(update(HEAD).values(demo_key=secrets.token_hex(32)))
        with pytest.raises(DemoKeyInClinicDatabase, match="'portal-console demo'"):
            load(database, known)
    finally:
        database.dispose()


def test_a_new_database_at_a_known_address_may_get_its_key(
    tmp_path: Path, known: ClinicDatabases, real_key: str
) -> None:
    url = resolve_database_url(str(tmp_path / "clinic.db"), {})
    first = open_database(url)
    set_up(first, known, real_key)
    first.dispose()
    Path(str(first.engine.url.database)).unlink()
    second = open_database(url)  # never used: the clinic starts again here
    try:
        with pytest.raises(ClinicKeyMissing):
            load(second, known)
        key = set_up_audit_key(
            second,
            ConsoleSettings(audit_key_file=tmp_path / "audit.key"),
            environ={},
            clinic_databases=known,
        )
        assert (
            load_audit_key(
                second, environ={}, key_file=tmp_path / "audit.key", clinic_databases=known
            )
            == key
        )
        assert len(list(known.folder.iterdir())) == 2
    finally:
        second.dispose()


def test_a_locked_keyring_never_lets_the_demo_key_in(
    database: Database, known: ClinicDatabases
) -> None:
    keyring = MemoryKeyring()
    create_audit_key(database, keyring_backend=keyring)
    with database.engine.connect() as connection:
        database_id = str(connection.scalar(select(AuditChainHead.database_id)))
    address = database_address(database.engine.url)
    known.remember(ClinicDatabase(database_id, address, "keyring"))
    with database.write() as connection:
        connection.execute(update(HEAD).values(demo_key=secrets.token_hex(32)))
    with pytest.raises(DemoKeyInClinicDatabase, match="in the system keyring"):
        load_audit_key(
            database, environ={}, keyring_backend=LockedKeyring(), clinic_databases=known
        )
    with database.write() as connection:
        connection.execute(update(HEAD).values(demo_key=None))
    with pytest.raises(ClinicKeyMissing, match="could not be read: KeyringLocked"):
        load_audit_key(
            database, environ={}, keyring_backend=LockedKeyring(), clinic_databases=known
        )
    assert keyring.entries[(KEYRING_SERVICE, keyring_entry(database_id))]


def test_a_workstation_records_a_database_once_it_works_with_its_real_key(
    any_db_url: str, known: ClinicDatabases, real_key: str, tmp_path: Path
) -> None:
    # Set up elsewhere (another workstation's record): this one learns it from the key.
    database = open_database(any_db_url)
    try:
        set_up(database, ClinicDatabases(tmp_path / "elsewhere"), real_key)
        assert not known.folder.exists()
        build_workstation(
            database, ConsoleSettings(), environ={KEY_ENV_VAR: real_key}, clinic_databases=known
        )
        with pytest.raises(ClinicKeyMissing):
            load(database, known)
        # A key that does not fit the log teaches nothing.
        other = ClinicDatabases(tmp_path / "other")
        build_workstation(
            database,
            ConsoleSettings(),
            environ={KEY_ENV_VAR: secrets.token_hex(32)},
            clinic_databases=other,
        )
        assert not other.folder.exists()
    finally:
        database.dispose()


def test_a_demo_clinic_keeps_its_own_key_whatever_key_is_configured(
    database: Database, known: ClinicDatabases
) -> None:
    fill_demo_database(database, patients=3, seed=1, today=NOW.date())
    workstation = build_workstation(database, ConsoleSettings(), environ={}, clinic_databases=known)
    assert workstation.audit.key.label == DEMO_LABEL
    # A real key configured for it (it does not fit the demo's log) does not make it a
    # clinic database: without it, the demo key is used again.
    build_workstation(
        database,
        ConsoleSettings(),
        environ={KEY_ENV_VAR: secrets.token_hex(32)},
        clinic_databases=known,
    )
    assert not known.folder.exists()
    assert load(database, known).label == DEMO_LABEL


def test_the_record_is_not_in_the_database_and_cannot_be_steered_by_it(
    tmp_path: Path, known: ClinicDatabases
) -> None:
    # A database id is read from the database: it never becomes a path.
    known.remember(ClinicDatabase("../../settings", "/srv/a.db", "keyring"))
    (path,) = known.folder.iterdir()
    assert path.parent == known.folder and len(path.stem) == 32
    assert known.find("../../settings", "/elsewhere") == ClinicDatabase(
        "../../settings", "/srv/a.db", "keyring"
    )
    assert known.find("0" * 32, "/srv/a.db") is not None  # by its address
    assert known.find("0" * 32, "/srv/b.db") is None


def test_a_damaged_record_is_passed_over_and_said_by_name(
    known: ClinicDatabases, caplog: pytest.LogCaptureFixture
) -> None:
    known.remember(ClinicDatabase("a" * 32, "/srv/a.db", "keyring"))
    (known.folder / f"{'b' * 32}.json").write_text("{not json")
    (known.folder / f"{'c' * 32}.json").write_text(
        '{"database_id": 1, "address": 2, "key_source": 3}'
    )
    with caplog.at_level(logging.WARNING):
        assert known.find("a" * 32, "") is not None
        assert known.find("b" * 32, "") is None
    assert f"{'b' * 32}.json unreadable: JSONDecodeError" in caplog.text


def test_a_record_that_cannot_be_written_says_where(tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    with pytest.raises(ClinicRecordNotSaved, match=str(blocked / "clinic-databases")):
        ClinicDatabases(blocked / "clinic-databases").remember(
            ClinicDatabase("a" * 32, "/srv/a.db", "keyring")
        )


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (
            "postgresql://staff:secret@DB.clinic.local/portal",
            "postgresql+psycopg://manager@db.clinic.local:5432/portal?sslmode=require",
        ),
        ("sqlite:///{tmp}/x/../clinic.db", "sqlite:///{tmp}/clinic.db"),
    ],
)
def test_one_database_has_one_address(tmp_path: Path, one: str, other: str) -> None:
    from sqlalchemy.engine import make_url

    first, second = (make_url(u.format(tmp=tmp_path)) for u in (one, other))
    assert database_address(first) == database_address(second)
    assert "secret" not in database_address(first) and "staff" not in database_address(first)
