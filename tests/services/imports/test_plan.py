"""The dry run's answer (issue 13, points 3-4): what importing a file would change, by kind,
against a real database, writing nothing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from console.models.database import Database
from console.models.schema import Patient, PortalAccount
from console.models.states import AccountState
from console.services.imports.plan import ImportPlan, counts, plan_import
from console.services.imports.tabular_file import read_csv
from tests.factories import add_account, add_patient

TODAY = dt.date(2026, 12, 6)
HEADER = "MRN,First Name,Last Name,DOB,Email,Mobile,Portal Username,Portal Email,Portal Status"


def plan_for(database: Database, *lines: str) -> tuple[dict[str, int], ImportPlan]:
    read = read_csv("\n".join([HEADER, *lines]).encode(), today=TODAY)
    with Session(database.engine) as session:
        plan = plan_import(session, read)
    return counts(plan, read), plan


def test_a_new_clinic_is_all_new_and_nothing_is_written(database: Database) -> None:
    figures, _plan = plan_for(
        database,
        "M1,Ann,Lee,1990-01-01,ann@example.org,,ann,,Legacy",
        "M2,Bob,Lee,1990-01-01,,,,,",
        ",No,Mrn,1990-01-01,,,,,",
    )
    assert figures == {
        "new_charts": 2,
        "updated_charts": 0,
        "unchanged_charts": 0,
        "new_accounts": 1,
        "updated_accounts": 0,
        "unchanged_accounts": 0,
        "rejected": 1,
        "warnings": 0,
    }
    with Session(database.engine) as session:
        assert session.scalar(select(func.count()).select_from(Patient)) == 0


def test_a_newer_export_is_reported_by_kind(database: Database) -> None:
    with Session(database.writer) as session, session.begin():
        ann = add_patient(
            session,
            mrn="M1",
            first_name="Ann",
            last_name="Lee",
            birth_date=dt.date(1990, 1, 1),
            contact_email="ann@example.org",
        )
        add_account(session, "ann@example.org", AccountState.LEGACY, ann, username="ann")
        add_patient(
            session, mrn="M2", first_name="Bob", last_name="Lee", birth_date=dt.date(1990, 1, 1)
        )
        cy = add_patient(
            session,
            mrn="M3",
            first_name="Cy",
            last_name="Lee",
            birth_date=dt.date(1990, 1, 1),
            contact_email="cy@example.org",
        )
        add_account(session, "cy@example.org", AccountState.MIGRATED, cy, username="cy")
        other = add_patient(session, mrn="M9")
        add_account(session, "z@example.org", AccountState.LEGACY, other, username="zed")
    figures, plan = plan_for(
        database,
        # Ann: same chart; her account's login e-mail changed and is now reset pending.
        "M1,Ann,Lee,1990-01-01,ann@example.org,,ANN,new.ann@example.org,Reset pending",
        # Bob: a new phone, and a new account.
        "M2,Bob,Lee,1990-01-01,,555-0100,bob,,",
        # Cy: exactly as stored (the e-mail typed in another case).
        "M3,Cy,Lee,1990-01-01,CY@example.org,,cy,,Migrated",
        # An account the export gives to another chart than its own.
        "M4,Di,Lee,1990-01-01,,,zed,,",
    )
    assert figures == {
        "new_charts": 1,
        "updated_charts": 1,
        "unchanged_charts": 2,
        "new_accounts": 1,
        "updated_accounts": 1,
        "unchanged_accounts": 1,
        "rejected": 0,
        "warnings": 1,
    }
    (bob,) = plan.updated_charts
    assert bob.row.chart.mrn == "M2" and bob.changed == ("mobile phone",)
    (ann,) = plan.updated_accounts
    assert ann.login_email_changed and ann.state_changed
    (problem,) = plan.account_problems
    assert problem.reason == "the account 'zed' belongs to another chart"
    # Ann's chart still says ann@, her login now new.ann@: the stale address, named.
    assert [r.chart.mrn for r in plan.stale_addresses] == ["M1"]


def test_the_same_file_twice_changes_nothing(database: Database) -> None:
    with Session(database.writer) as session, session.begin():
        ann = add_patient(
            session,
            mrn="M1",
            first_name="Ann",
            last_name="Lee",
            birth_date=dt.date(1990, 1, 1),
            contact_email="ann@example.org",
        )
        add_account(session, "ann@example.org", AccountState.LEGACY, ann, username="ann")
    figures, plan = plan_for(database, "M1,Ann,Lee,1990-01-01,ann@example.org,,ann,,")
    assert plan.changes_nothing
    assert figures["unchanged_charts"] == figures["unchanged_accounts"] == 1
    with Session(database.engine) as session:
        assert session.scalar(select(func.count()).select_from(PortalAccount)) == 1
