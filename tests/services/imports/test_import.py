"""Importing a clinic's export (issue 13, points 2-4), on a real SQLite file and a real
PostgreSQL server: the dry run tells exactly what the import then does, a newer export is
reported by kind, the same file twice changes nothing, the console's own work is never
undone, and a cancelled import is completed by running it again."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from console.models.schema import Access, AuditEvent, Patient, PortalAccount
from console.models.states import AccountState, StaffRole
from console.services.accounts.patient_view import LoginSituation, what_patient_sees
from console.services.imports import run
from console.services.imports.apply import write_batch
from console.services.imports.files import file_sha256, open_export
from console.services.imports.plan import Kind
from console.services.imports.run import ImportReport, import_export
from console.services.permissions import Actor, NotAllowed
from console.services.workstation import Workstation
from tests.factories import add_account, add_patient, count_rows
from tests.services.conftest import NOW, add_staff
from tests.services.imports.reading import TODAY, write_file

# Odd header spellings, a byte-order mark, US dates, blank and invalid e-mails, impossible
# dates, a repeated MRN and a quoted line break.
MESSY = (
    "\ufeffChart Number , GIVEN name,Surname,Date of Birth,E-mail Address,Cell,User Name,"
    "Login Email,STATUS,Favourite colour\r\n"
    "M1,Ann,Lee,03/04/1990,ann@example.org,555-0100,ann,,Legacy,blue\r\n"
    'M2,Bob,"Lee\nJr.",1991-05-06,,,bob,shared@example.org,reset pending,\r\n'
    "M3,Cy,Lee,2/3/2001,not-an-address,,cy,shared@example.org,,\r\n"
    "M4,Di,Lee,1990-02-30,di@example.org,,,,,\r\n"
    "M5,Ed,Lee,13/45/1990,,,,,,\r\n"
    "M1,Fay,Lee,1990-01-01,,,fay,,,\r\n"
    ",Gus,Lee,1990-01-01,,,,,,\r\n"
    "M8,,,1990-01-01,,,,,,\r\n"
)


@pytest.fixture
def manager(any_desk: Workstation, staff_hash: str) -> Actor:
    return add_staff(any_desk.database, StaffRole.MANAGER, staff_hash)


def do_import(
    desk: Workstation, actor: Actor, path: Path, *, dry_run: bool = False, **options: object
) -> ImportReport:
    export = open_export(path, today=TODAY)
    return import_export(desk, actor, export, dry_run=dry_run, **options)  # type: ignore[arg-type]


def charts_and_accounts(desk: Workstation) -> tuple[int, int]:
    return count_rows(desk.database, Patient), count_rows(desk.database, PortalAccount)


def test_a_messy_export_dry_run_then_import_gives_the_same_figures_and_reasons(
    any_desk: Workstation, manager: Actor, tmp_path: Path
) -> None:
    path = write_file(tmp_path, MESSY)
    preview = do_import(any_desk, manager, path, dry_run=True)
    assert charts_and_accounts(any_desk) == (0, 0)
    assert [(line.row, line.detail) for line in preview.first(Kind.REJECTED)] == [
        (5, "the date of birth '1990-02-30' is not a real date"),
        (6, "the date of birth '13/45/1990' is not a real date"),
        (7, "MRN M1 repeats row 2"),
        (8, "no MRN"),
        (9, "no name"),
    ]
    (warning,) = preview.first(Kind.WARNING)
    assert warning.row == 4 and "'not-an-address' is not a valid address" in warning.detail
    expected = {
        "entries": 8,
        "new_charts": 3,
        "new_accounts": 3,
        "rejected": 5,
        "warnings": 1,
    }
    assert {k: v for k, v in preview.figures().items() if v} == expected
    done = do_import(any_desk, manager, path)
    assert done.figures() == preview.figures() and done.finished
    assert [line.detail for line in done.first(Kind.REJECTED)] == [
        line.detail for line in preview.first(Kind.REJECTED)
    ]
    with Session(any_desk.database.engine) as session:
        bob = session.scalars(select(Patient).where(Patient.mrn == "M2")).one()
        assert bob.last_name == "Lee Jr." and bob.birth_date == dt.date(1991, 5, 6)
        ann = session.scalars(select(Patient).where(Patient.mrn == "M1")).one()
        assert ann.birth_date == dt.date(1990, 3, 4) and ann.mobile_phone == "555-0100"
        cy = session.scalars(select(Patient).where(Patient.mrn == "M3")).one()
        assert cy.contact_email is None  # the invalid address is left out
        # Bob and Cy log in with one address: both are flagged the moment the import commits.
        flagged = session.scalars(
            select(PortalAccount.username).where(PortalAccount.shared_email.is_(True))
        ).all()
        assert sorted(flagged) == ["bob", "cy"]
        states = dict(session.execute(select(PortalAccount.username, PortalAccount.state)).all())
        assert states == {"ann": "legacy", "bob": "reset_pending", "cy": "legacy"}
        assert session.scalar(select(func.count()).select_from(Access)) == 3
    assert done.changes.bulk and "shared@example.org" in done.changes.email_keys


def test_a_newer_export_is_reported_by_kind_and_the_same_file_twice_changes_nothing(
    any_desk: Workstation, manager: Actor, tmp_path: Path
) -> None:
    header = "MRN,First Name,Last Name,DOB,Email,Mobile,Username,Portal Email,Status\n"
    first = write_file(
        tmp_path,
        header
        + "M1,Ann,Lee,1990-01-01,ann@example.org,,ann,,Legacy\n"
        + "M2,Bob,Lee,1990-01-01,bob@example.org,,bob,,Legacy\n"
        + "M3,Cy,Lee,1990-01-01,cy@example.org,,,,\n",
        "first.csv",
    )
    do_import(any_desk, manager, first)
    again = do_import(any_desk, manager, first)
    assert not again.changed_anything and not again.changes.bulk
    assert again.figures()["unchanged_charts"] == 3
    assert again.figures()["unchanged_accounts"] == 2
    newer = write_file(
        tmp_path,
        header
        # Ann: a new phone, and her login e-mail changed (her chart still says ann@).
        + "M1,Ann,Lee,1990-01-01,ann@example.org,555-0100,ann,ann.new@example.org,Legacy\n"
        # Bob: closed his account in the old portal.
        + "M2,Bob,Lee,1990-01-01,bob@example.org,,bob,,Deactivated\n"
        # Cy: a new contact e-mail and a first account.
        + "M3,Cy,Lee,1990-01-01,cy2@example.org,,cy,,\n"
        + "M4,Di,Lee,1990-01-01,,,,,\n",
        "newer.csv",
    )
    report = do_import(any_desk, manager, newer)
    kinds = {(line.kind, line.mrn): line.detail for line in report.examples}
    assert kinds == {
        (Kind.CONTACT_CHANGED, "M1"): "mobile phone",
        (Kind.LOGIN_EMAIL_CHANGED, "M1"): "ann@example.org → ann.new@example.org",
        (Kind.STALE_ADDRESS, "M1"): "chart ann@example.org, login ann.new@example.org",
        (Kind.STATUS_CHANGED, "M2"): "legacy → deactivated",
        (Kind.CONTACT_CHANGED, "M3"): "contact e-mail",
        (Kind.NEW_ACCOUNT, "M3"): "legacy",
        (Kind.NEW_CHART, "M4"): "",
    }
    figures = report.figures()
    assert (figures["new_charts"], figures["updated_charts"], figures["new_accounts"]) == (1, 2, 1)
    assert (figures["updated_accounts"], figures["login_email_changed"]) == (2, 1)
    assert (figures["status_changed"], figures["stale_addresses"]) == (1, 1)
    assert not do_import(any_desk, manager, newer).changed_anything


def test_an_import_never_undoes_what_the_console_did(
    any_desk: Workstation, manager: Actor, tmp_path: Path
) -> None:
    with Session(any_desk.database.writer) as session, session.begin():
        chart = add_patient(session, mrn="M1", first_name="Ann", last_name="Lee")
        add_account(session, "ann@example.org", AccountState.MIGRATED, chart, username="ann")
        born = chart.birth_date.isoformat()
    path = write_file(
        tmp_path,
        f"MRN,First Name,Last Name,DOB,Username,Portal Email,Status\n"
        f"M1,Ann,Lee,{born},ann,old@example.org,Legacy\n",
    )
    report = do_import(any_desk, manager, path)
    (kept,) = report.first(Kind.KEPT)
    assert kept.detail == (
        "the console has it migrated; the export's login e-mail old@example.org and status "
        "legacy is not taken"
    )
    with Session(any_desk.database.engine) as session:
        account = session.scalars(select(PortalAccount)).one()
        assert (account.state, account.login_email) == ("migrated", "ann@example.org")


def test_a_cancelled_import_keeps_whole_batches_and_a_second_run_completes_it(
    any_desk: Workstation, manager: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run, "BATCH_ENTRIES", 10)
    lines = [f"M{n},Pat,Number{n},1990-01-01,user{n}" for n in range(1, 36)]
    path = write_file(tmp_path, "MRN,First Name,Last Name,DOB,Username\n" + "\n".join(lines))
    seen: list[int] = []
    report = do_import(
        any_desk, manager, path, progress=seen.append, cancelled=lambda: len(seen) == 2
    )
    assert not report.finished and seen == [10, 20]
    assert charts_and_accounts(any_desk) == (20, 20)
    resumed = do_import(any_desk, manager, path)
    assert resumed.finished
    assert (resumed.counts["unchanged_charts"], resumed.counts["new_charts"]) == (20, 15)
    assert charts_and_accounts(any_desk) == (35, 35)
    with Session(any_desk.database.engine) as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    # Each run that writes is on record from its first batch, then with its figures.
    assert [(e.action, e.outcome) for e in events] == [
        ("records_import_started", "ok"),
        ("records_imported", "cancelled"),
        ("records_import_started", "ok"),
        ("records_imported", "ok"),
    ]
    completed = events[-1]
    assert completed.target_id == file_sha256(path) and completed.staff_username == manager.username
    assert json.loads(completed.details)["new_charts"] == 15


class ProcessDied(BaseException):
    """The importing process is killed: nothing after this point runs, not even ``finally``
    blocks that write (tests/crash does it with a real SIGKILL)."""


def test_an_import_whose_process_dies_part_way_is_on_record_for_what_it_wrote(
    any_desk: Workstation, manager: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run, "BATCH_ENTRIES", 10)
    lines = [f"M{n},Pat,Number{n},1990-01-01" for n in range(1, 26)]
    path = write_file(tmp_path, "MRN,First Name,Last Name,DOB\n" + "\n".join(lines))

    def die_after_the_second_batch(entries: int) -> None:
        if entries == 20:
            raise ProcessDied

    with pytest.raises(ProcessDied):
        do_import(any_desk, manager, path, progress=die_after_the_second_batch)
    assert count_rows(any_desk.database, Patient) == 20
    with Session(any_desk.database.engine) as session:
        (started,) = session.scalars(select(AuditEvent)).all()
    assert (started.action, started.target_type) == ("records_import_started", "import_file")
    assert started.target_id == file_sha256(path) and started.staff_username == manager.username
    assert json.loads(started.details) == {"file": path.name, "format": "csv"}


def test_a_batch_that_fails_half_way_writes_nothing_of_itself(
    any_desk: Workstation, manager: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run, "BATCH_ENTRIES", 2)
    lines = [f"M{n},Pat,Number{n},1990-01-01" for n in range(1, 8)]
    path = write_file(tmp_path, "MRN,First Name,Last Name,DOB\n" + "\n".join(lines))
    calls: list[int] = []

    def write_then_fail_the_third(*args: Any) -> set[str]:
        touched = write_batch(*args)  # every row of the batch written, not yet committed
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk full")
        return touched

    monkeypatch.setattr(run, "write_batch", write_then_fail_the_third)
    with pytest.raises(OSError, match="disk full"):
        do_import(any_desk, manager, path)
    with Session(any_desk.database.engine) as session:
        assert session.scalars(select(Patient.mrn).order_by(Patient.mrn)).all() == [
            "M1",
            "M2",
            "M3",
            "M4",
        ]


def test_front_desk_staff_may_not_import_or_preview(
    any_desk: Workstation, staff_hash: str, tmp_path: Path
) -> None:
    clerk = add_staff(any_desk.database, StaffRole.FRONT_DESK, staff_hash)
    path = write_file(tmp_path, "MRN,Last Name,DOB\nM1,Lee,1990-01-01\n")
    for dry_run in (True, False):
        with pytest.raises(NotAllowed):
            do_import(any_desk, clerk, path, dry_run=dry_run)
    assert count_rows(any_desk.database, Patient) == count_rows(any_desk.database, AuditEvent) == 0


def test_an_invalid_login_email_comes_in_as_it_is_and_says_what_it_means(
    any_desk: Workstation, manager: Actor, tmp_path: Path
) -> None:
    path = write_file(
        tmp_path,
        "MRN,Last Name,DOB,Username,Login Email\nM1,Lee,1990-01-01,ann,ann at example dot org\n",
    )
    assert do_import(any_desk, manager, path).figures()["new_accounts"] == 1
    with Session(any_desk.database.engine) as session:
        account = session.scalars(select(PortalAccount)).one()
        assert account.login_email == "ann at example dot org"
        seen = what_patient_sees(account, now=NOW)
    assert seen.situation is LoginSituation.NO_RESET_ADDRESS


def test_fhir_and_excel_exports_come_in_through_the_same_import(
    any_desk: Workstation, manager: Actor, tmp_path: Path
) -> None:
    fixtures = Path(__file__).parents[2] / "fixtures" / "fhir"
    new_charts = 0
    for path in sorted([*fixtures.glob("spec/*.json"), *fixtures.glob("synthea/*.json")]):
        new_charts += do_import(any_desk, manager, path).counts["new_charts"]
    # Five of the twelve specification examples are charts (the others have no MRN, no date
    # of birth or are an animal), and each Synthea bundle is one.
    assert new_charts == count_rows(any_desk.database, Patient) == 7
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["MRN", "Surname", "Date of Birth", "Username"])
    sheet.append([12345, "Chalmers", dt.date(1974, 12, 25), "peter"])  # MRN 12345 above
    sheet.append(["X9", "Lee", dt.datetime(1990, 1, 31), "ann"])
    workbook.save(tmp_path / "export.xlsx")
    report = do_import(any_desk, manager, tmp_path / "export.xlsx")
    assert (report.counts["new_charts"], report.counts["new_accounts"]) == (1, 2)
    assert report.counts["updated_charts"] == 1  # the name in the spec example was longer
