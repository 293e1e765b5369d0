"""Importing a large CSV export (a batch of ``BATCH_ENTRIES`` rows per transaction) into a
SQLite file and into PostgreSQL, in a real process killed with SIGKILL part-way, again and
again (each kill part-way through running the same file again), then once more to the end:
after each kill the database opens, its integrity check passes, the audit chain verifies,
exactly the first whole batches of the file are in (every chart of them with its account
and that account's access, nothing of the batch in flight), the shared-e-mail flags are
right, and the audit log names the import that wrote them; the last run completes the file."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models.database import Database, open_database
from console.models.schema import Access, AuditEvent, Patient, PortalAccount
from console.models.states import ACTIVE_STATES, AccessRelation, AccountState
from console.services.imports.files import file_sha256
from console.services.imports.run import BATCH_ENTRIES
from tests.crash.checks import check_database, opened
from tests.crash.common import AUDIT_KEY, START
from tests.crash.conftest import add_crash_staff
from tests.crash.processes import CrashRun, children, start

pytestmark = pytest.mark.crash

HEADER = "MRN,First Name,Last Name,DOB,Email,Mobile,Portal Username,Login Email,Status"
STATUSES = (
    AccountState.LEGACY,
    AccountState.RESET_PENDING,
    AccountState.MIGRATED,
    AccountState.DEACTIVATED,
    AccountState.REVOKED,
)


@dataclass(frozen=True)
class ExportRow:
    """What one row of the export brings in."""

    mrn: str
    username: str | None
    state: AccountState | None


def write_export(path: Path, rows: int) -> list[ExportRow]:
    """A clinic's export of ``rows`` charts: two in three with a portal account in one of
    every state, one in ten of those logging in with the address of the row before (a
    shared e-mail), one in fifty with a contact e-mail that is not one (a warning)."""
    written = []
    with path.open("w", encoding="utf-8", newline="") as file:
        out = csv.writer(file)
        out.writerow(HEADER.split(","))
        for n in range(1, rows + 1):
            mrn = f"C{n:07d}"
            contact = f"patient{n}@example.org" if n % 50 else f"patient{n} at example.org"
            has_account = n % 3 != 0
            username = f"user{n}" if has_account else None
            state = STATUSES[n % len(STATUSES)] if has_account else None
            login = f"login{n - 1 if n % 10 == 0 else n}@example.net"
            born = dt.date(1940, 1, 1) + dt.timedelta(days=n * 7 % 25_000)
            out.writerow(
                [
                    mrn,
                    f"Given{n}",
                    f"Family{n % 97}",
                    born.isoformat(),
                    contact,
                    f"555-{n % 10_000:04d}",
                    username or "",
                    login if username else "",
                    state.value.replace("_", " ") if state else "",
                ]
            )
            written.append(ExportRow(mrn, username, state))
    return written


def check_import(database: Database, rows: list[ExportRow], export: Path) -> list[str]:
    """Only whole batches, in the file's order, each chart with its account and access,
    and an audit event naming the import when anything of it is in."""
    with Session(database.engine) as session:
        return list(_import_problems(session, rows, file_sha256(export)))


def _import_problems(session: Session, rows: list[ExportRow], sha256: str) -> Iterator[str]:
    charts = dict(session.execute(select(Patient.mrn, Patient.id)).all())
    count = len(charts)
    if count % BATCH_ENTRIES and count != len(rows):
        yield f"{count} charts are in: not a whole number of batches of {BATCH_ENTRIES}"
    if set(charts) != {row.mrn for row in rows[:count]}:
        yield f"the {count} charts in are not the file's first {count}"
    accounts = {
        username: (chart, state, account)
        for account, username, chart, state in session.execute(
            select(
                PortalAccount.id,
                PortalAccount.username,
                PortalAccount.patient_id,
                PortalAccount.state,
            )
        )
    }
    access: dict[int, list[tuple[int, str, bool]]] = {}
    for account, chart, relation, ended in session.execute(
        select(Access.account_id, Access.patient_id, Access.relation, Access.revoked_at)
    ):
        access.setdefault(account, []).append((chart, relation, ended is None))
    wanted = [row for row in rows[:count] if row.username]
    if len(accounts) != len(wanted):
        yield f"{len(accounts)} accounts are in for the {len(wanted)} the charts in bring"
    for row in wanted:
        assert row.username is not None and row.state is not None
        found = accounts.get(row.username)
        if found is None:
            yield f"the account of chart {charts.get(row.mrn)} is missing"
            continue
        chart, state, account = found
        if chart != charts.get(row.mrn) or state != row.state:
            yield f"account {account} is not the one its row describes"
        expected = [(chart, AccessRelation.SELF.value, row.state in ACTIVE_STATES)]
        if access.get(account) != expected:
            yield f"account {account} has access {access.get(account)}, not {expected}"
    if sum(map(len, access.values())) != len(accounts):
        yield "there are access rows without their account"
    named = session.scalar(
        select(AuditEvent.id).where(
            AuditEvent.target_type == "import_file", AuditEvent.target_id == sha256
        )
    )
    if count and named is None:
        yield f"{count} charts were imported and no audit event names the import"


def test_killing_an_import_keeps_whole_batches_and_running_it_again_completes_it(
    any_db_url: str, tmp_path: Path, crash_run: CrashRun, crash_staff_hash: str
) -> None:
    export = tmp_path / "clinic-export.csv"
    batches = crash_run.kills(fast=4, full=11)
    rows = write_export(export, (batches - 1) * BATCH_ENTRIES + BATCH_ENTRIES // 2)
    database = open_database(any_db_url)
    try:
        add_crash_staff(database, crash_staff_hash)
        on_sqlite = database.engine.dialect.name == "sqlite"
    finally:
        database.dispose()
    kills = crash_run.kills(fast=3 if on_sqlite else 2, full=25)
    arguments = ("--db", any_db_url, "--clock", START.isoformat(), "--file", str(export))
    landings = []
    with children() as running:
        # A batch takes about a third of a second here: up to that after a commit.
        for point in crash_run.kill_points(f"import-{on_sqlite}", kills, batches, 0.4):
            landing = start(running, tmp_path, "import", *arguments).kill_at(point)
            landings.append(landing)
            with opened(any_db_url) as after:
                problems = check_database(after, AUDIT_KEY) + check_import(after, rows, export)
            assert not problems, f"{landing} (seed {crash_run.seed}): {problems}"
        start(running, tmp_path, "import", *arguments).finish()
    with opened(any_db_url) as after:
        problems = check_database(after, AUDIT_KEY) + check_import(after, rows, export)
        with Session(after.engine) as session:
            last = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
            imported = session.scalar(select(Patient.id).where(Patient.mrn == rows[-1].mrn))
    assert not problems, f"after the last run (seed {crash_run.seed}): {problems}"
    assert imported is not None, "the last run did not complete the file"
    assert last is not None and (last.action, last.outcome) == ("records_imported", "ok")
    assert any(landing.killed for landing in landings), [str(x) for x in landings]
