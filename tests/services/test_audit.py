"""The tamper-evident audit log (SPEC §7, issue 4 point 5): chained appends on SQLite and
PostgreSQL, a verifier that names the first edited, removed or reordered event and a chain cut
short, appends from many writers at once, and where the key comes from.

Real databases throughout; tampering is done the way an intruder would, with plain SQL. The
only stand-in is the keyring: an in-memory backend defined here."""

from __future__ import annotations

import base64
import datetime as dt
import logging
import os
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from console.models.database import (
    Database,
    alembic_config,
    open_database,
    resolve_database_url,
)
from console.models.schema import AuditChainHead, AuditEvent, StaffUser
from console.models.states import StaffRole
from console.services.audit.key import (
    DEMO_LABEL,
    KEY_ENV_VAR,
    AuditKey,
    AuditKeyInvalid,
    AuditKeyMissing,
    NoSecureKeyring,
    create_audit_key,
    keyring_entry,
    load_audit_key,
)
from console.services.audit.trail import (
    AuditKeyMismatch,
    AuditTrail,
    canonical_details,
    workstation_name,
)
from console.services.audit.verifier import verify_chain
from console.services.clock import ManualClock
from console.services.demo.clinic import DemoDataError, fill_demo_database
from console.services.permissions import Actor
from console.services.settings.secrets_store import KEYRING_SERVICE, is_secure_keyring
from tests.keyrings import LockedKeyring, MemoryKeyring

NOW = dt.datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=dt.UTC)
EVENTS = AuditEvent.__table__


class LowPriorityKeyring(MemoryKeyring):
    """Like a plain-text file keyring: usable, but below keyring's "recommended" level."""

    priority = 0.5  # type: ignore[assignment]


@pytest.fixture
def db(any_db_url: str) -> Iterator[Database]:
    database = open_database(any_db_url)
    yield database
    database.dispose()


@pytest.fixture
def key() -> AuditKey:
    return AuditKey(secrets.token_bytes(32), KEY_ENV_VAR)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def trail(key: AuditKey, clock: ManualClock) -> AuditTrail:
    return AuditTrail(key, workstation="front-desk-2", clock=clock)


def add_staff(database: Database, username: str = "kim") -> Actor:
    with Session(database.writer) as session, session.begin():
        user = StaffUser(
            username=username,
            display_name=username.title(),
            role=StaffRole.FRONT_DESK,
            password_hash="-",
        )
        session.add(user)
        session.flush()
        return Actor(user.id, user.username, user.role)


def append(database: Database, trail: AuditTrail, count: int, **fields: Any) -> list[int]:
    """``count`` events, each in its own transaction, a second apart; their ids."""
    ids = []
    for number in range(count):
        with Session(database.writer) as session, session.begin():
            event = trail.record(
                session,
                fields.get("action", "revoke_access"),
                actor=fields.get("actor"),
                target_type="portal_account",
                target_id=100 + number,
                details={"reason": "duplicate_account", "n": number},
            )
            ids.append(event.id)
        if isinstance(trail.clock, ManualClock):
            trail.clock.advance(seconds=1)
    return ids


def change(database: Database, event_id: int, **values: object) -> None:
    with database.write() as connection:
        connection.execute(update(EVENTS).where(EVENTS.c.id == event_id).values(**values))


def rows(database: Database) -> list[dict[str, Any]]:
    with database.engine.connect() as connection:
        return [dict(r._mapping) for r in connection.execute(select(EVENTS).order_by(EVENTS.c.id))]


def head(database: Database) -> dict[str, Any]:
    with database.engine.connect() as connection:
        return dict(connection.execute(select(AuditChainHead.__table__)).one()._mapping)


# --- appending and verifying --------------------------------------------------------------


def test_appended_events_verify(db: Database, trail: AuditTrail, key: AuditKey) -> None:
    actor = add_staff(db)
    ids = append(db, trail, 5, actor=actor)

    report = verify_chain(db, key)
    assert report.ok, report.summary()
    assert (report.events, report.first_bad_id, report.problem) == (5, None, None)
    assert report.summary() == "OK 5 events"
    assert report.key_label == f"key from {KEY_ENV_VAR}"

    stored = rows(db)
    assert [r["id"] for r in stored] == ids
    assert [r["seq"] for r in stored] == [1, 2, 3, 4, 5]
    first = stored[0]
    assert first["occurred_at"] == NOW
    assert (first["staff_user_id"], first["staff_username"]) == (actor.id, "kim")
    assert (first["workstation"], first["action"], first["outcome"]) == (
        "front-desk-2",
        "revoke_access",
        "ok",
    )
    assert (first["target_type"], first["target_id"]) == ("portal_account", "100")
    assert first["details"] == '{"n":0,"reason":"duplicate_account"}'
    assert len(first["chain_hash"]) == 64
    assert head(db)["last_seq"] == 5
    assert head(db)["last_event_id"] == ids[-1]


def test_an_empty_log_verifies(db: Database, key: AuditKey) -> None:
    assert verify_chain(db, key).summary() == "OK 0 events"


def test_several_events_in_one_transaction_and_without_an_actor(
    db: Database, trail: AuditTrail, key: AuditKey
) -> None:
    with Session(db.writer) as session, session.begin():
        for outcome in ("refused", "ok"):
            trail.record(session, "portal_login", actor=None, outcome=outcome)
    with db.engine.connect() as connection:  # the verifier also takes a connection
        report = verify_chain(connection, key)
    assert report.summary() == "OK 2 events"
    assert [r["staff_user_id"] for r in rows(db)] == [None, None]


def test_a_rolled_back_transaction_leaves_no_event(
    db: Database, trail: AuditTrail, key: AuditKey
) -> None:
    append(db, trail, 2)
    with pytest.raises(RuntimeError), Session(db.writer) as session, session.begin():
        trail.record(session, "revoke_access", actor=None, target_id=7)
        raise RuntimeError("the action failed after its audit event")
    append(db, trail, 1)

    assert [r["seq"] for r in rows(db)] == [1, 2, 3]
    assert verify_chain(db, key).summary() == "OK 3 events"


@pytest.mark.parametrize(
    "details",
    [{"when": dt.date(2026, 1, 1)}, {"x": float("nan")}, {1: "not a string key"}, {"s": {1, 2}}],
)
def test_details_must_be_plain_json(db: Database, trail: AuditTrail, details: Any) -> None:
    with Session(db.writer) as session, session.begin(), pytest.raises(ValueError, match="JSON"):
        trail.record(session, "edit_contact", actor=None, details=details)
    assert rows(db) == []


def test_canonical_details_do_not_depend_on_key_order() -> None:
    assert canonical_details({"b": 1, "a": [1, "é"]}) == canonical_details({"a": [1, "é"], "b": 1})
    assert canonical_details({"b": 1, "a": "é"}) == '{"a":"\\u00e9","b":1}'


def test_over_long_fields_are_refused_on_both_backends(db: Database, trail: AuditTrail) -> None:
    with Session(db.writer) as session, session.begin():
        with pytest.raises(ValueError, match="action"):
            trail.record(session, "x" * 61, actor=None)
        with pytest.raises(ValueError, match="action"):
            trail.record(session, "", actor=None)
        with pytest.raises(ValueError, match="target_id"):
            trail.record(session, "link_chart", actor=None, target_id="9" * 65)
    assert rows(db) == []


# --- tampering ----------------------------------------------------------------------------

OTHER_TIME = dt.datetime(2026, 3, 2, 9, 0, 0, 123457, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("occurred_at", OTHER_TIME),
        ("staff_user_id", None),
        ("staff_username", "dana"),
        ("workstation", "back-office"),
        ("action", "link_chart"),
        ("target_type", "patient"),
        ("target_id", "999"),
        ("outcome", "refused"),
        ("details", '{"n":2,"reason":"patient_request"}'),
        ("details", '{"reason":"duplicate_account","n":2}'),  # same data, other text
        ("seq", 99),
        ("chain_hash", "0" * 64),
    ],
)
def test_editing_any_column_names_that_event(
    db: Database, trail: AuditTrail, key: AuditKey, column: str, value: object
) -> None:
    ids = append(db, trail, 5, actor=add_staff(db))
    change(db, ids[2], **{column: value})

    report = verify_chain(db, key)
    assert not report.ok
    assert report.first_bad_id == ids[2], report.summary()
    assert report.events == 2
    assert report.summary().startswith(f"event {ids[2]}: ")


def test_an_unreadable_time_names_that_event(
    sqlite_url: str, trail: AuditTrail, key: AuditKey
) -> None:
    database = open_database(sqlite_url)
    try:
        ids = append(database, trail, 3)
        with database.write() as connection:
            connection.execute(
                text("UPDATE audit_events SET occurred_at = 'yesterday' WHERE id = :id"),
                {"id": ids[1]},
            )
        report = verify_chain(database, key)
    finally:
        database.dispose()
    assert report.first_bad_id == ids[1]
    assert "unreadable" in (report.problem or "")


def test_removing_an_event_names_the_one_after_the_gap(
    db: Database, trail: AuditTrail, key: AuditKey
) -> None:
    ids = append(db, trail, 5)
    with db.write() as connection:
        connection.execute(delete(EVENTS).where(EVENTS.c.id == ids[2]))

    report = verify_chain(db, key)
    assert report.first_bad_id == ids[3]
    assert f"no. 3 comes after event {ids[1]}" in (report.problem or "")
    assert "removed" in (report.problem or "")


def test_removing_the_first_event_is_found(db: Database, trail: AuditTrail, key: AuditKey) -> None:
    ids = append(db, trail, 3)
    with db.write() as connection:
        connection.execute(delete(EVENTS).where(EVENTS.c.id == ids[0]))
    assert verify_chain(db, key).first_bad_id == ids[1]


def test_removing_and_renumbering_is_found(db: Database, trail: AuditTrail, key: AuditKey) -> None:
    ids = append(db, trail, 4)
    with db.write() as connection:
        connection.execute(delete(EVENTS).where(EVENTS.c.id == ids[1]))
        for new_seq, event_id in enumerate(ids[2:], 2):
            connection.execute(update(EVENTS).where(EVENTS.c.id == event_id).values(seq=new_seq))
    assert verify_chain(db, key).first_bad_id == ids[2]


CONTENT = ("occurred_at", "staff_username", "action", "target_id", "outcome", "details")


@pytest.mark.parametrize(
    "columns", [CONTENT, (*CONTENT, "seq", "chain_hash")], ids=["content", "whole rows"]
)
def test_swapping_two_events_names_the_first(
    db: Database, trail: AuditTrail, key: AuditKey, columns: tuple[str, ...]
) -> None:
    ids = append(db, trail, 5)
    before = {r["id"]: r for r in rows(db)}
    with db.write() as connection:
        if "seq" in columns:  # seq is UNIQUE: move one out of the way first
            connection.execute(update(EVENTS).where(EVENTS.c.id == ids[1]).values(seq=-1))
        for here, there in ((ids[3], ids[1]), (ids[1], ids[3])):
            values = {c: before[there][c] for c in columns}
            connection.execute(update(EVENTS).where(EVENTS.c.id == here).values(**values))

    report = verify_chain(db, key)
    assert report.first_bad_id == ids[1], report.summary()


def test_removing_the_last_events_is_shorter_than_the_checkpoint(
    db: Database, trail: AuditTrail, key: AuditKey
) -> None:
    ids = append(db, trail, 5)
    with db.write() as connection:
        connection.execute(delete(EVENTS).where(EVENTS.c.id.in_(ids[3:])))

    report = verify_chain(db, key)
    assert not report.ok
    assert (report.first_bad_id, report.events) == (None, 3)
    problem = report.problem or ""
    assert "shorter than its last recorded checkpoint" in problem
    assert f"ends at event {ids[2]} (no. 3)" in problem
    assert f"records 5 events, the last being event {ids[4]}" in problem
    assert report.summary().startswith("checkpoint: the chain is shorter")


def test_removing_every_event_is_found(db: Database, trail: AuditTrail, key: AuditKey) -> None:
    append(db, trail, 2)
    with db.write() as connection:
        connection.execute(delete(EVENTS))
    assert "shorter than its last recorded checkpoint" in (verify_chain(db, key).problem or "")


def test_emptying_the_log_and_its_checkpoint_is_found(
    db: Database, trail: AuditTrail, key: AuditKey
) -> None:
    assert verify_chain(db, key).ok  # a new database: no staff, no events yet
    append(db, trail, 3)
    with Session(db.writer) as session, session.begin():
        session.add(StaffUser(username="ann", display_name="Ann", role="admin", password_hash="x"))
    with db.write() as connection:
        connection.execute(delete(EVENTS))
        connection.execute(
            update(AuditChainHead).values(
                last_seq=0, last_event_id=None, last_hash=None, head_mac=None
            )
        )
    report = verify_chain(db, key)
    assert not report.ok and "empty although staff users exist" in (report.problem or "")


@pytest.mark.parametrize(
    "values",
    [
        {"last_seq": 3},
        {"last_seq": 4, "last_event_id": None},
        {"head_mac": "f" * 64},
        {"head_mac": None},
        {"database_id": "0" * 32},
    ],
)
def test_a_forged_checkpoint_is_found(
    db: Database, trail: AuditTrail, key: AuditKey, values: dict[str, object]
) -> None:
    append(db, trail, 4)
    with db.write() as connection:
        connection.execute(update(AuditChainHead).values(**values))
    report = verify_chain(db, key)
    assert not report.ok
    if "database_id" in values:  # the first event chains from the database's id
        assert report.first_bad_id == rows(db)[0]["id"]
    else:
        assert report.first_bad_id is None
        assert "checkpoint" in (report.problem or "")


def test_a_demo_key_planted_beside_a_real_key_is_found(
    db: Database, trail: AuditTrail, key: AuditKey
) -> None:
    # Only a demo database keeps its key inside itself: in one kept with a real key, a demo
    # key was put there to pass the log off as a demo's (issue 14, point 4).
    append(db, trail, 3)
    with db.write() as connection:
        connection.execute(update(AuditChainHead).values(demo_key=secrets.token_hex(32)))
    report = verify_chain(db, key)
    assert (report.ok, report.first_bad_id, report.events) == (False, None, 3)
    assert report.summary().startswith("checkpoint: the head row holds a demo key")


def test_a_removed_head_row_is_found(db: Database, trail: AuditTrail, key: AuditKey) -> None:
    append(db, trail, 1)
    with db.write() as connection:
        connection.execute(delete(AuditChainHead))
    assert "head row is missing" in (verify_chain(db, key).problem or "")


def test_the_wrong_key_fails_at_the_first_event(db: Database, trail: AuditTrail) -> None:
    ids = append(db, trail, 3)
    report = verify_chain(db, AuditKey(secrets.token_bytes(32), "keyring"))
    assert (report.ok, report.first_bad_id, report.events) == (False, ids[0], 0)
    assert "another key" in (report.problem or "")


def test_the_wrong_key_cannot_append(db: Database, trail: AuditTrail, clock: ManualClock) -> None:
    append(db, trail, 2)
    stranger = AuditTrail(
        AuditKey(secrets.token_bytes(32), "keyring"), workstation="x", clock=clock
    )
    with (
        pytest.raises(AuditKeyMismatch, match="does not fit"),
        Session(db.writer) as session,
        session.begin(),
    ):
        stranger.record(session, "revoke_access", actor=None)
    assert len(rows(db)) == 2


def test_events_from_another_database_with_the_same_key_do_not_verify(
    tmp_path: Path, trail: AuditTrail, key: AuditKey
) -> None:
    first, second = (
        open_database(resolve_database_url(str(tmp_path / f"{n}.db"), {})) for n in ("a", "b")
    )
    try:
        append(first, trail, 2)
        with second.write() as connection:
            connection.execute(EVENTS.insert(), rows(first))
            connection.execute(
                update(AuditChainHead).values(
                    **{k: v for k, v in head(first).items() if k not in ("id", "database_id")}
                )
            )
        assert verify_chain(second, key).first_bad_id == rows(second)[0]["id"]
    finally:
        first.dispose()
        second.dispose()


# --- many writers at once -----------------------------------------------------------------


def test_eight_writers_at_once_never_fork_the_chain(
    db: Database, trail: AuditTrail, key: AuditKey
) -> None:
    writers, each = 8, 5
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(number: int) -> None:
        try:
            start.wait(timeout=30)
            for event in range(each):
                with Session(db.writer) as session, session.begin():
                    trail.record(
                        session, "resend_reset", actor=None, target_id=number * 100 + event
                    )
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []

    stored = rows(db)
    assert sorted(r["target_id"] for r in stored) == sorted(
        str(n * 100 + e) for n in range(writers) for e in range(each)
    )
    assert [r["seq"] for r in stored] == list(range(1, writers * each + 1))
    assert verify_chain(db, key).summary() == f"OK {writers * each} events"


# --- where the key comes from -------------------------------------------------------------


@pytest.fixture
def database_id(database: Database) -> str:
    return str(head(database)["database_id"])


def test_the_key_comes_from_the_keyring_first(database: Database, database_id: str) -> None:
    secret = secrets.token_bytes(32)
    keyring = MemoryKeyring()
    keyring.set_password(KEYRING_SERVICE, keyring_entry(database_id), secret.hex())
    environ = {KEY_ENV_VAR: secrets.token_hex(32)}

    key = load_audit_key(database, environ=environ, keyring_backend=keyring)
    assert (key.secret, key.source, key.label, key.tamper_proof) == (
        secret,
        "keyring",
        "key from the keyring",
        True,
    )


def test_another_databases_keyring_entry_is_not_used(database: Database) -> None:
    keyring = MemoryKeyring()
    keyring.set_password(KEYRING_SERVICE, keyring_entry("0" * 32), secrets.token_hex(32))
    with pytest.raises(AuditKeyMissing):
        load_audit_key(database, environ={}, keyring_backend=keyring)


@pytest.mark.parametrize(
    "backend",
    [fail.Keyring(), null.Keyring(), LowPriorityKeyring()],
    ids=["fail", "null", "low-priority"],
)
def test_an_insecure_keyring_is_not_used(
    database: Database, database_id: str, backend: KeyringBackend
) -> None:
    assert not is_secure_keyring(backend)
    if isinstance(backend, MemoryKeyring):
        backend.set_password(KEYRING_SERVICE, keyring_entry(database_id), secrets.token_hex(32))
    with pytest.raises(AuditKeyMissing, match="not a secure one"):
        load_audit_key(database, environ={}, keyring_backend=backend)

    from_env = secrets.token_bytes(32)
    key = load_audit_key(database, environ={KEY_ENV_VAR: from_env.hex()}, keyring_backend=backend)
    assert (key.secret, key.source) == (from_env, KEY_ENV_VAR)


def test_a_keyring_that_cannot_be_read_is_named_and_passed_over(database: Database) -> None:
    with pytest.raises(AuditKeyMissing, match="could not be read: KeyringLocked"):
        load_audit_key(database, environ={}, keyring_backend=LockedKeyring())
    from_env = secrets.token_bytes(32)
    key = load_audit_key(
        database, environ={KEY_ENV_VAR: from_env.hex()}, keyring_backend=LockedKeyring()
    )
    assert key.secret == from_env


def test_a_chain_of_keyrings_is_secure_only_when_all_are(monkeypatch: pytest.MonkeyPatch) -> None:
    assert is_secure_keyring(MemoryKeyring())
    for members, secure in (
        ([MemoryKeyring()], True),
        ([MemoryKeyring(), LowPriorityKeyring()], False),
        ([], False),
    ):
        monkeypatch.setattr(chainer.ChainerBackend, "backends", members)
        assert is_secure_keyring(chainer.ChainerBackend()) is secure


@pytest.mark.parametrize(
    "encode",
    [
        bytes.hex,
        lambda b: b.hex().upper(),
        lambda b: base64.b64encode(b).decode(),
        lambda b: base64.urlsafe_b64encode(b).decode().rstrip("="),
        lambda b: f"  {b.hex()}\n",
    ],
    ids=["hex", "HEX", "base64", "urlsafe-unpadded", "spaces"],
)
def test_the_environment_variable_takes_hex_or_base64(database: Database, encode: Any) -> None:
    secret = secrets.token_bytes(48)
    key = load_audit_key(
        database, environ={KEY_ENV_VAR: encode(secret)}, keyring_backend=null.Keyring()
    )
    assert (key.secret, key.label) == (secret, f"key from {KEY_ENV_VAR}")


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("00" * 31, "too short"),
        (base64.b64encode(b"x" * 31).decode(), "too short"),
        ("not a key at all!", "not a valid audit key"),
        ("zz" * 32, "not a random key"),
        ("00" * 32, "not a random key"),
        ("ab" * 40, "not a random key"),
    ],
)
def test_a_bad_environment_variable_is_refused_clearly(
    database: Database, value: str, why: str
) -> None:
    with pytest.raises(AuditKeyInvalid, match=why) as refused:
        load_audit_key(database, environ={KEY_ENV_VAR: value}, keyring_backend=null.Keyring())
    assert KEY_ENV_VAR in str(refused.value)
    assert value not in str(refused.value)


def test_the_key_file(database: Database, tmp_path: Path) -> None:
    secret = secrets.token_bytes(32)
    path = tmp_path / "audit.key"
    path.write_text(secret.hex() + "\n")
    path.chmod(0o600)
    key = load_audit_key(database, environ={}, key_file=path, keyring_backend=null.Keyring())
    assert (key.secret, key.source, key.label) == (
        secret,
        f"key file {path}",
        f"key from key file {path}",
    )


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644])
def test_a_key_file_others_can_read_is_refused(
    database: Database, tmp_path: Path, mode: int
) -> None:
    path = tmp_path / "audit.key"
    path.write_text(secrets.token_hex(32))
    path.chmod(mode)
    with pytest.raises(AuditKeyInvalid, match=f"chmod 600 {path}"):
        load_audit_key(database, environ={}, key_file=path, keyring_backend=null.Keyring())


def test_a_missing_or_broken_key_file_is_refused(database: Database, tmp_path: Path) -> None:
    with pytest.raises(AuditKeyMissing, match="does not exist"):
        load_audit_key(
            database, environ={}, key_file=tmp_path / "nope.key", keyring_backend=null.Keyring()
        )
    short = tmp_path / "short.key"
    short.write_text("00" * 16)
    short.chmod(0o600)
    with pytest.raises(AuditKeyInvalid, match="too short"):
        load_audit_key(database, environ={}, key_file=short, keyring_backend=null.Keyring())


def test_no_key_anywhere_refuses_and_writes_nothing(database: Database, database_id: str) -> None:
    before = head(database)
    with pytest.raises(AuditKeyMissing) as missing:
        load_audit_key(database, environ={}, keyring_backend=MemoryKeyring())
    message = str(missing.value)
    assert keyring_entry(database_id) in message
    assert KEY_ENV_VAR in message
    assert "key file" in message
    assert "chmod 600" in message
    assert head(database) == before
    assert rows(database) == []


def test_a_demo_database_uses_its_own_key_labelled_as_such(
    database: Database, clock: ManualClock
) -> None:
    fill_demo_database(database, patients=5, seed=1, today=NOW.date())
    key = load_audit_key(database, environ={}, keyring_backend=null.Keyring())
    assert (key.source, key.tamper_proof, key.label) == ("demo database", False, DEMO_LABEL)

    trail = AuditTrail(key, workstation="demo", clock=clock)
    append(database, trail, 2)
    report = verify_chain(database, key)
    assert report.ok
    assert report.summary() == f"OK 3 events ({DEMO_LABEL})"  # the clinic's creation, and 2
    assert report.key_label == DEMO_LABEL

    # A real key, once configured, wins over the demo key.
    from_env = load_audit_key(
        database, environ={KEY_ENV_VAR: secrets.token_hex(32)}, keyring_backend=null.Keyring()
    )
    assert from_env.tamper_proof


def test_no_demo_key_for_a_database_whose_log_has_events(
    database: Database, trail: AuditTrail
) -> None:
    append(database, trail, 1)
    with pytest.raises(DemoDataError, match="already keeps an audit log"):
        fill_demo_database(database, patients=1, seed=1, today=NOW.date())
    assert head(database)["demo_key"] is None


def test_a_real_database_never_holds_a_key(database: Database, tmp_path: Path) -> None:
    create_audit_key(database, keyring_backend=MemoryKeyring())
    create_audit_key(database, key_file=tmp_path / "audit.key")
    assert head(database)["demo_key"] is None
    with pytest.raises(AuditKeyMissing):
        load_audit_key(database, environ={}, keyring_backend=null.Keyring())


def test_creating_a_key_in_the_keyring(database: Database, database_id: str) -> None:
    keyring = MemoryKeyring()
    created = create_audit_key(database, keyring_backend=keyring)
    assert created.source == "keyring"
    assert len(created.secret) == 32
    assert keyring.entries == {(KEYRING_SERVICE, keyring_entry(database_id)): created.secret.hex()}
    assert load_audit_key(database, environ={}, keyring_backend=keyring) == created

    with pytest.raises(AuditKeyInvalid, match="already holds"):
        create_audit_key(database, keyring_backend=keyring)
    assert keyring.entries[(KEYRING_SERVICE, keyring_entry(database_id))] == created.secret.hex()


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring(), LowPriorityKeyring()])
def test_creating_a_key_needs_a_secure_keyring(database: Database, backend: KeyringBackend) -> None:
    with pytest.raises(NoSecureKeyring, match="no secure keyring"):
        create_audit_key(database, keyring_backend=backend)


def test_creating_a_key_file(database: Database, tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    folder.mkdir()
    path = folder / "audit.key"
    created = create_audit_key(database, key_file=path)
    if os.name == "posix":
        assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in folder.iterdir()] == ["audit.key"]  # no temporary file left
    loaded = load_audit_key(database, environ={}, key_file=path, keyring_backend=null.Keyring())
    assert loaded == created

    with pytest.raises(AuditKeyInvalid, match="already exists"):
        create_audit_key(database, key_file=path)
    assert (
        load_audit_key(database, environ={}, key_file=path, keyring_backend=null.Keyring())
        == created
    )
    with pytest.raises(AuditKeyInvalid, match="does not exist"):
        create_audit_key(database, key_file=tmp_path / "no" / "audit.key")


def test_no_new_key_for_a_log_already_kept_with_one(database: Database, trail: AuditTrail) -> None:
    append(database, trail, 1)
    with pytest.raises(AuditKeyInvalid, match="Restore the original key"):
        create_audit_key(database, keyring_backend=MemoryKeyring())


# --- secrets stay secret ------------------------------------------------------------------


def test_the_key_never_shows(
    database: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture, clock: ManualClock
) -> None:
    caplog.set_level(logging.DEBUG)
    keyring = MemoryKeyring()
    key = create_audit_key(database, keyring_backend=keyring)
    key = load_audit_key(database, environ={}, keyring_backend=keyring)
    append(database, AuditTrail(key, workstation="w", clock=clock), 2)
    verify_chain(database, key)

    shown = f"{key!r} {key} {verify_chain(database, key)!r}"
    assert "secret" not in repr(key)
    for form in (key.secret.hex(), key.secret.hex().upper(), base64.b64encode(key.secret).decode()):
        assert form not in shown
        assert form not in caplog.text
    assert key.secret.hex() not in str([r["details"] for r in rows(database)])


def test_a_key_is_at_least_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        AuditKey(b"x" * 31, "keyring")


def test_workstation_name_is_clean() -> None:
    name = workstation_name()
    assert name and name.isprintable() and len(name) <= 255


# --- the migration ------------------------------------------------------------------------


def test_events_written_before_the_chain_are_reported(
    sqlite_url: str, key: AuditKey, clock: ManualClock
) -> None:
    database = open_database(sqlite_url, upgrade=False)
    try:
        with database.write() as connection:
            command.upgrade(alembic_config(connection), "0002")
            connection.execute(
                text(
                    "INSERT INTO audit_events (occurred_at, workstation, action, outcome, "
                    "details) VALUES ('2026-01-01 00:00:00.000000', 'w', 'old', 'ok', '{}')"
                )
            )
            command.upgrade(alembic_config(connection), "head")
        assert rows(database)[0]["seq"] == 1
        assert head(database)["last_seq"] == 1
        append(database, AuditTrail(key, workstation="w", clock=clock), 1)
        assert [r["seq"] for r in rows(database)] == [1, 2]

        report = verify_chain(database, key)
        assert report.first_bad_id == rows(database)[0]["id"]
        assert "before the log was chained" in (report.problem or "")
    finally:
        database.dispose()


def test_every_database_gets_one_head_with_its_own_id(tmp_path: Path) -> None:
    ids = set()
    for name in ("a", "b"):
        database = open_database(resolve_database_url(str(tmp_path / f"{name}.db"), {}))
        try:
            with database.engine.connect() as connection:
                assert connection.scalar(select(func.count()).select_from(AuditChainHead)) == 1
            found = head(database)
            assert (found["last_seq"], found["head_mac"], found["demo_key"]) == (0, None, None)
            ids.add(found["database_id"])
        finally:
            database.dispose()
    assert len(ids) == 2
