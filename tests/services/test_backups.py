"""Backups that restore (issue 14, point 3): a consistent, owner-only copy of the live
database while another process keeps writing, checked at once; a restore that puts it back
only after every check, and refuses a damaged file, a stranger's backup or a broken log."""

from __future__ import annotations

import multiprocessing
import stat
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import make_url, select
from sqlalchemy.orm import Session

from console.models.database import DatabaseUnavailable, open_database, resolve_database_url
from console.models.schema import AuditEvent, Patient
from console.models.states import StaffRole
from console.services.accounts.chart_actions import edit_contact
from console.services.audit.key import AuditKey
from console.services.audit.trail import AuditTrail
from console.services.audit.verifier import verify_chain
from console.services.backups import BackupRefused, back_up, restore
from console.services.clock import ManualClock
from console.services.permissions import Actor, NotAllowed
from console.services.workstation import Workstation
from tests.factories import add_patient
from tests.postgres_server import PostgresServer
from tests.services.conftest import NOW, add_staff, make_workstation


@pytest.fixture
def chart(desk: Workstation) -> int:
    with Session(desk.database.writer) as session, session.begin():
        return add_patient(session, contact_email="before@example.org").id


def phone_of(desk: Workstation, chart: int) -> str | None:
    with Session(desk.database.engine) as session:
        return session.get_one(Patient, chart).mobile_phone


def test_a_backup_restores_what_it_copied(
    desk: Workstation, staff: dict[StaffRole, Actor], chart: int, tmp_path: Path
) -> None:
    admin, clerk = staff[StaffRole.ADMIN], staff[StaffRole.FRONT_DESK]
    edit_contact(desk, clerk, chart, contact_email="a@example.org", mobile_phone="555-0100")
    backup = tmp_path / "monday.db"
    made = back_up(desk, admin, backup)
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert made.audit_events == 2  # the edit and the backup itself
    edit_contact(desk, clerk, chart, contact_email="b@example.org", mobile_phone="555-0199")
    assert phone_of(desk, chart) == "555-0199"

    restored = restore(desk, admin, backup)
    assert restored.sha256 == made.sha256  # the backup itself is left as it was
    assert phone_of(desk, chart) == "555-0100"
    report = verify_chain(desk.database, desk.audit.key)
    assert report.ok and report.events == 3
    with Session(desk.database.engine) as session:
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert last is not None and last.action == "database_restored"
    # The console goes on working on the restored database.
    edit_contact(desk, clerk, chart, contact_email="c@example.org", mobile_phone=None)
    assert verify_chain(desk.database, desk.audit.key).ok


def test_only_administrators_back_up_or_restore_and_nothing_is_overwritten(
    desk: Workstation, staff: dict[StaffRole, Actor], tmp_path: Path
) -> None:
    backup = tmp_path / "copy.db"
    for role in (StaffRole.FRONT_DESK, StaffRole.MANAGER):
        with pytest.raises(NotAllowed):
            back_up(desk, staff[role], backup)
        with pytest.raises(NotAllowed):
            restore(desk, staff[role], backup)
    assert not backup.exists()
    backup.write_bytes(b"keep me")
    with pytest.raises(BackupRefused, match="already a file"):
        back_up(desk, staff[StaffRole.ADMIN], backup)
    assert backup.read_bytes() == b"keep me"


def test_a_damaged_or_foreign_backup_is_refused_and_changes_nothing(
    desk: Workstation, staff: dict[StaffRole, Actor], chart: int, tmp_path: Path, staff_hash: str
) -> None:
    admin = staff[StaffRole.ADMIN]
    edit_contact(desk, admin, chart, contact_email=None, mobile_phone="555-0100")
    good = tmp_path / "good.db"
    back_up(desk, admin, good)

    not_a_backup = tmp_path / "notes.db"
    not_a_backup.write_text("shopping list", encoding="utf-8")
    damaged = tmp_path / "damaged.db"
    data = bytearray(good.read_bytes())
    data[4096 * 2 : 4096 * 2 + 512] = b"\xff" * 512  # a page of the tables, overwritten
    damaged.write_bytes(bytes(data))

    other = open_database(resolve_database_url(str(tmp_path / "other-clinic.db"), {}))
    other_clinic = make_workstation(other, ManualClock(NOW))
    foreign = tmp_path / "foreign.db"
    back_up(other_clinic, add_staff(other, StaffRole.ADMIN, staff_hash), foreign)
    other.dispose()
    stranger = Workstation(
        desk.database,
        AuditTrail(AuditKey(secret=b"\x07" * 32, source="test"), workstation="x", clock=desk.clock),
        desk.clock,
    )
    edited = tmp_path / "edited.db"
    edited.write_bytes(good.read_bytes())
    copy = open_database(resolve_database_url(str(edited), {}))
    with Session(copy.writer) as session, session.begin():
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).first()
        assert event is not None
        event.details = '{"forged":true}'
    copy.dispose()

    cases = [
        (tmp_path / "missing.db", desk, "There is no backup file"),
        (not_a_backup, desk, "is not a database backup"),
        (damaged, desk, "is damaged"),
        (foreign, desk, "a backup of another clinic database"),
        (good, stranger, "its audit log is broken .* checked with another key"),
        (edited, desk, "its audit log is broken .*it was edited"),
    ]
    for backup, workstation, said in cases:
        with pytest.raises(BackupRefused, match=said):
            restore(workstation, admin, backup)
    assert phone_of(desk, chart) == "555-0100"
    assert verify_chain(desk.database, desk.audit.key).ok
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def _keep_writing(url: str, chart: int, admin: Actor, until: float) -> None:
    database = open_database(url)
    workstation = make_workstation(database, ManualClock(NOW))
    number = 0
    while time.monotonic() < until:
        number += 1
        edit_contact(
            workstation, admin, chart, contact_email=None, mobile_phone=f"555-{number:04d}"
        )
    database.dispose()


def test_a_backup_taken_while_another_process_writes_is_whole(
    desk: Workstation, staff: dict[StaffRole, Actor], chart: int, tmp_path: Path
) -> None:
    admin = staff[StaffRole.ADMIN]
    url = desk.database.engine.url.render_as_string()
    writer = multiprocessing.get_context("spawn").Process(
        target=_keep_writing, args=(url, chart, admin, time.monotonic() + 3)
    )
    writer.start()
    try:
        time.sleep(1)
        made = [back_up(desk, admin, tmp_path / f"during-{n}.db") for n in range(3)]
    finally:
        writer.join(timeout=30)
    assert writer.exitcode == 0
    assert all(m.audit_events > 1 for m in made)
    restore(desk, admin, made[1].path)
    assert verify_chain(desk.database, desk.audit.key).ok


@pytest.mark.postgres
def test_postgresql_backs_up_and_restores_with_its_own_tools(
    postgres_server: PostgresServer, pg_desk: Workstation, staff_hash: str, tmp_path: Path
) -> None:
    """What the README tells a clinic on PostgreSQL: pg_dump, then pg_restore into an empty
    database, and the console's own backup pointing there."""
    admin = add_staff(pg_desk.database, StaffRole.ADMIN, staff_hash)
    with Session(pg_desk.database.writer) as session, session.begin():
        chart = add_patient(session).id
    edit_contact(pg_desk, admin, chart, contact_email=None, mobile_phone="555-0100")
    with pytest.raises(DatabaseUnavailable, match="pg_dump and pg_restore"):
        back_up(pg_desk, admin, tmp_path / "copy.db")
    dump = tmp_path / "clinic.dump"
    tool = postgres_server.bin_dir
    url = pg_desk.database.engine.url.render_as_string(hide_password=False)
    # Taken while another workstation (a process of its own) keeps writing.
    writer = multiprocessing.get_context("spawn").Process(
        target=_keep_writing, args=(url, chart, admin, time.monotonic() + 3)
    )
    writer.start()
    try:
        time.sleep(1)
        subprocess.run(
            [tool / "pg_dump", "--format=custom", "--no-owner", "--file", dump, _libpq_url(url)],
            check=True,
        )
    finally:
        writer.join(timeout=30)
    assert writer.exitcode == 0
    with postgres_server.new_database() as empty:
        subprocess.run(
            [
                tool / "pg_restore",
                "--no-owner",
                "--exit-on-error",
                "--dbname",
                _libpq_url(empty),
                dump,
            ],
            check=True,
        )
        restored = open_database(empty)
        try:
            assert verify_chain(restored, pg_desk.audit.key).ok
            with Session(restored.engine) as session:
                assert (session.get_one(Patient, chart).mobile_phone or "").startswith("555-")
            again = make_workstation(restored, ManualClock(NOW))
            edit_contact(again, admin, chart, contact_email=None, mobile_phone="555-0199")
            assert verify_chain(restored, pg_desk.audit.key).ok
        finally:
            restored.dispose()


def _libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
