"""``portal-console audit verify`` on a clinic's own database, on SQLite and PostgreSQL
(issue 14, point 4): whatever someone who can write to the database does to its audit log —
edit, remove, reorder or forge events, re-chain them under a key of their own, replace or
delete the head row, or plant a demo key to pass the clinic's database off as a demo — ends
in status 4 or a refusal, never 0; a demo clinic's chain has a status of its own, 5.

The database is made by ``init``, as a clinic makes it, with its key in
``PORTAL_CONSOLE_AUDIT_KEY``; tampering is plain SQL, as an intruder would do it. The
intruder knows how the chain is computed (it is no secret), not the clinic's key."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.orm import Session

from console.models.database import Database
from console.models.schema import AuditChainHead, AuditEvent
from console.services.audit.key import AuditKey
from console.services.audit.trail import AuditTrail
from console.services.clock import ManualClock
from console.services.database_key import open_clinic_database
from console.services.permissions import Actor
from console.services.settings.values import ConsoleSettings
from console.services.workstation_setup import build_workstation
from tests.cli import run

KEY_HEX = hashlib.sha256(b"the clinic's own audit key").hexdigest()
PLANTED = secrets.token_bytes(32)  # the intruder's key
PASSWORD = "Harbour-Lights-4271"
EVENTS = AuditEvent.__table__
HEAD = AuditChainHead.__table__
DEMO = "demo — not tamper-proof"


@pytest.fixture
def clinic(
    any_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    """A clinic database set up by ``init`` on this workstation (its key in the environment),
    whose audit log then holds seven events: its URL."""
    monkeypatch.setenv("PORTAL_CONSOLE_CONFIG", str(tmp_path / "settings.toml"))
    monkeypatch.setenv("PORTAL_CONSOLE_DB", any_db_url)
    monkeypatch.setenv("PORTAL_CONSOLE_AUDIT_KEY", KEY_HEX)
    monkeypatch.setenv("PORTAL_CONSOLE_STAFF_PASSWORD", PASSWORD)
    status, _out, err = run(capsys, monkeypatch, "init", "--admin", "boss", stdin=PASSWORD + "\n")
    assert status == 0, err
    database = opened(any_db_url)
    try:
        audit = build_workstation(database, ConsoleSettings()).audit
        for number in range(6):
            with Session(database.writer) as session, session.begin():
                audit.record(session, "revoke_access", actor=None, target_id=100 + number)
    finally:
        database.dispose()
    yield any_db_url


#: What opening an encrypted clinic database without its key says.
NO_KEY = "whose key this workstation does not have"


def encrypted(url: str) -> bool:
    """Whether ``url`` is an embedded clinic database (``init`` encrypts those)."""
    return url.startswith("sqlite")


def opened(url: str) -> Database:
    """The clinic database as a command opens it (encrypted, with the key this workstation
    has): the intruder of these tests can write to it."""
    return open_clinic_database(url, ConsoleSettings())


def verify(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    """``audit verify``: its status and what it said (standard output, then error)."""
    status, out, err = run(capsys, monkeypatch, "audit", "verify")
    return status, out + err


def tamper(url: str, tampering: Callable[[Connection], None]) -> None:
    database = opened(url)
    try:
        with database.write() as connection:
            tampering(connection)
    finally:
        database.dispose()


def event_count(url: str) -> int:
    database = opened(url)
    try:
        with database.engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(EVENTS)) or 0)
    finally:
        database.dispose()


def ids(connection: Connection) -> list[int]:
    return list(connection.scalars(select(EVENTS.c.id).order_by(EVENTS.c.id)))


def rechain(
    connection: Connection, secret: bytes, *, drop: int | None = None, demo_key: str | None = None
) -> None:
    """Write the log again under ``secret`` without the event ``drop`` (renumbered 1, 2, 3 …,
    the head sealed anew), and set the head's demo key to ``demo_key``."""
    kept = [r for r in connection.execute(select(EVENTS).order_by(EVENTS.c.id)) if r.id != drop]
    connection.execute(delete(EVENTS))
    connection.execute(
        update(HEAD).values(last_seq=0, last_event_id=None, last_hash=None, head_mac=None)
    )
    key = AuditKey(secret, "an intruder's key")
    with Session(bind=connection) as session:
        for row in kept:
            actor = None
            if row.staff_user_id is not None:
                actor = Actor(row.staff_user_id, row.staff_username, "admin")
            AuditTrail(key, workstation=row.workstation, clock=ManualClock(row.occurred_at)).record(
                session,
                row.action,
                actor=actor,
                outcome=row.outcome,
                target_type=row.target_type,
                target_id=row.target_id,
                details=json.loads(row.details),
            )
        session.commit()  # the connection's own transaction commits when the block ends
    connection.execute(update(HEAD).values(demo_key=demo_key))


def edit_an_event(connection: Connection) -> None:
    connection.execute(update(EVENTS).where(EVENTS.c.id == ids(connection)[3]).values(outcome="x"))


def delete_a_middle_event(connection: Connection) -> None:
    connection.execute(delete(EVENTS).where(EVENTS.c.id == ids(connection)[3]))


def delete_the_last_events(connection: Connection) -> None:
    connection.execute(delete(EVENTS).where(EVENTS.c.id.in_(ids(connection)[-2:])))


def reorder(connection: Connection) -> None:
    first, second = ids(connection)[2], ids(connection)[4]
    rows = {r.id: r for r in connection.execute(select(EVENTS))}
    for here, there in ((first, second), (second, first)):
        values = {c: getattr(rows[there], c) for c in ("occurred_at", "target_id", "details")}
        connection.execute(update(EVENTS).where(EVENTS.c.id == here).values(**values))


def forge_an_event(connection: Connection) -> None:
    last = connection.execute(select(EVENTS).order_by(EVENTS.c.id.desc()).limit(1)).one()
    forged = {c: v for c, v in last._mapping.items() if c != "id"}
    forged |= {"seq": last.seq + 1, "target_id": "999", "chain_hash": secrets.token_hex(32)}
    new_id = connection.execute(insert(EVENTS).values(**forged).returning(EVENTS.c.id)).scalar()
    connection.execute(
        update(HEAD).values(
            last_seq=last.seq + 1, last_event_id=new_id, last_hash=forged["chain_hash"]
        )
    )


def rechain_without_the_key(connection: Connection) -> None:
    rechain(connection, PLANTED, drop=ids(connection)[3])


def replace_the_head(connection: Connection) -> None:
    connection.execute(delete(HEAD))
    connection.execute(insert(HEAD).values(id=1, database_id=uuid.uuid4().hex, last_seq=0))


def delete_the_head(connection: Connection) -> None:
    connection.execute(delete(HEAD))


TAMPERING = {
    function.__name__.replace("_", " "): function
    for function in (
        edit_an_event,
        delete_a_middle_event,
        delete_the_last_events,
        reorder,
        forge_an_event,
        rechain_without_the_key,
        replace_the_head,
        delete_the_head,
    )
}


@pytest.mark.parametrize("tampering", TAMPERING.values(), ids=TAMPERING.keys())
def test_any_tampering_is_status_4(
    clinic: str,
    tampering: Callable[[Connection], None],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert verify(capsys, monkeypatch) == (0, "OK 7 events\n")
    tamper(clinic, tampering)
    status, said = verify(capsys, monkeypatch)
    assert status == 4, said
    assert said.startswith(("event ", "checkpoint: ")) and said.count("\n") == 1


def test_a_demo_key_planted_in_a_clinic_database_is_refused(
    clinic: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The intruder removes an event and re-chains the rest under a key of their own, which
    # they put in the head as if this were a demo database.
    tamper(clinic, lambda c: rechain(c, PLANTED, drop=ids(c)[3], demo_key=PLANTED.hex()))
    count = event_count(clinic)
    status, said = verify(capsys, monkeypatch)  # with the clinic's key: broken at once
    assert status == 4 and said.startswith("event "), said

    # This workstation set the database up: without its key it still never takes the
    # planted one, neither to verify nor to record. (An embedded clinic database is
    # encrypted with a key derived from it: without it, nothing can be read at all.)
    monkeypatch.delenv("PORTAL_CONSOLE_AUDIT_KEY")
    status, said = verify(capsys, monkeypatch)
    if encrypted(clinic):
        assert status == 2 and NO_KEY in said, said
    else:
        assert status == 4, said
        assert said.startswith("checkpoint: ") and "demo key" in said and DEMO not in said
    add = ("staff", "add", "eve", "--role", "front_desk", "--staff", "boss")
    status, _out, err = run(capsys, monkeypatch, *add, stdin=PASSWORD + "\n")
    assert status == 2 and (NO_KEY if encrypted(clinic) else "demo key") in err
    monkeypatch.setenv("PORTAL_CONSOLE_AUDIT_KEY", KEY_HEX)
    assert event_count(clinic) == count

    # With the key back, nothing is appended either: the head is not the clinic's.
    monkeypatch.setenv("PORTAL_CONSOLE_AUDIT_KEY", KEY_HEX)
    assert run(capsys, monkeypatch, *add, stdin=PASSWORD + "\n")[0] == 2
    assert event_count(clinic) == count


def test_a_planted_demo_key_is_found_even_without_re_chaining(
    clinic: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tamper(clinic, lambda c: c.execute(update(HEAD).values(demo_key=PLANTED.hex())))
    status, said = verify(capsys, monkeypatch)
    assert status == 4 and said.startswith("checkpoint: ") and "demo key" in said


def test_another_workstation_never_calls_a_planted_chain_sound(
    clinic: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A workstation that never had this database's key cannot tell it from a demo by what
    # the database says; it says what it found, not-tamper-proof, and never status 0.
    tamper(clinic, lambda c: rechain(c, PLANTED, drop=ids(c)[3], demo_key=PLANTED.hex()))
    monkeypatch.delenv("PORTAL_CONSOLE_AUDIT_KEY")
    monkeypatch.setenv("PORTAL_CONSOLE_CONFIG", str(tmp_path / "elsewhere" / "settings.toml"))
    status, said = verify(capsys, monkeypatch)
    if encrypted(clinic):  # an embedded clinic database: nothing to read without its key
        assert status == 2 and NO_KEY in said
    else:
        assert (status, said) == (5, f"OK 6 events ({DEMO})\n")


def test_a_clinic_database_without_its_key_says_how_to_restore_it(
    clinic: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PORTAL_CONSOLE_AUDIT_KEY")
    status, said = verify(capsys, monkeypatch)
    assert status == 2
    if encrypted(clinic):
        assert NO_KEY in said and "'Encryption' in the README" in said
        return
    assert "The audit key for this clinic database is missing" in said
    assert "PORTAL_CONSOLE_AUDIT_KEY" in said and KEY_HEX not in said
    assert said.count("\n") == 1


def test_a_demo_clinic_verifies_with_a_status_of_its_own(
    any_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PORTAL_CONSOLE_CONFIG", str(tmp_path / "settings.toml"))
    monkeypatch.setenv("PORTAL_CONSOLE_DB", any_db_url)
    assert run(capsys, monkeypatch, "demo", "--patients", "5")[0] == 0
    assert verify(capsys, monkeypatch) == (5, f"OK 1 events ({DEMO})\n")


def test_the_help_lists_the_exit_statuses(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    status, out, _ = run(capsys, monkeypatch, "audit", "--help")
    assert status == 0
    text = " ".join(out.split())
    for said in ("0 ", "4 ", "5 ", "not tamper-proof", "2 "):
        assert said in text


def test_a_demo_made_where_a_clinic_database_was_is_a_demo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The person at this workstation removed the clinic database and made a demo in its
    # place: 'demo' tells this workstation, so the demo's own key is used there.
    place = tmp_path / "clinic.db"
    monkeypatch.setenv("PORTAL_CONSOLE_CONFIG", str(tmp_path / "settings.toml"))
    monkeypatch.setenv("PORTAL_CONSOLE_DB", str(place))
    monkeypatch.setenv("PORTAL_CONSOLE_AUDIT_KEY", KEY_HEX)
    assert run(capsys, monkeypatch, "init", "--admin", "boss", stdin=PASSWORD + "\n")[0] == 0
    monkeypatch.delenv("PORTAL_CONSOLE_AUDIT_KEY")
    for path in tmp_path.glob("clinic.db*"):
        path.unlink()
    assert run(capsys, monkeypatch, "demo", "--patients", "3")[0] == 0
    assert verify(capsys, monkeypatch) == (5, f"OK 1 events ({DEMO})\n")
