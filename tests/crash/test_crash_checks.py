"""The crash tests' checks can fail: each finds the damage it is there to find, written into
an otherwise sound database by hand (as a half-done action, a lost audit event, a second
link or a second copy would leave it)."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from console.models.database import Database, open_database, resolve_database_url
from console.models.schema import AuditEvent, Invitation, OutboxMessage, PortalAccount
from tests.crash.checks import check_database, check_staff_actions
from tests.crash.common import AUDIT_KEY, START
from tests.crash.conftest import add_crash_staff
from tests.crash.households import add_families, expected_end
from tests.crash.test_crash_import import check_import, write_export
from tests.crash.test_crash_relay import check_after_kill, check_after_resume, fill_outbox
from tests.factories import add_patient
from tests.smtp_server import Received

pytestmark = pytest.mark.crash


def pending_invitation(patient_id: int, address: str) -> Any:
    return insert(Invitation).values(
        patient_id=patient_id,
        target_email=address,
        email_key=address,
        pin_hash="x",
        pin_failures=0,
        state="pending",
        expires_at=START + dt.timedelta(days=7),
        created_at=START,
        version=1,
    )


def test_the_checks_find_a_half_done_action_a_lost_audit_event_and_a_second_link(
    database: Database, crash_staff_hash: str
) -> None:
    add_crash_staff(database, crash_staff_hash)
    (family,) = add_families(database, 1)
    assert check_database(database, AUDIT_KEY) == [] and check_staff_actions(database) == []
    with database.write() as connection:
        # An invitation of the child's, then the child revoked with it left pending, the
        # access not ended, and no audit event.
        connection.execute(pending_invitation(family.child_chart, "child@example.org"))
        connection.execute(
            update(PortalAccount)
            .where(PortalAccount.id == family.child)
            .values(state="revoked", revoked_at=START + dt.timedelta(days=1))
        )
        # The adult revoked without saying when.
        connection.execute(
            update(PortalAccount).where(PortalAccount.id == family.adult).values(state="revoked")
        )
        # Two pending invitations (two valid links) for one chart.
        for n in range(2):
            connection.execute(pending_invitation(family.newcomer_chart, f"new{n}@example.org"))
    problems = check_database(database, AUDIT_KEY)
    assert f"closed account {family.child} still has 1 open access row(s)" in problems
    assert any(p.startswith(f"revoking account {family.child} left invitation") for p in problems)
    assert f"revoked account {family.adult} does not say when" in problems
    assert f"chart {family.newcomer_chart} has 2 pending invitations (valid links)" in problems
    found = " ".join(check_staff_actions(database))
    unaudited = sorted([family.child, family.adult])
    assert f"revoked accounts: in the tables without their audit event {unaudited}" in found
    assert "invitations: in the tables without their audit event" in found
    assert any("linked to the guardian 0 times" in p for p in expected_end(database, [family]))


def test_the_checks_find_a_wrong_shared_email_flag_and_an_edited_audit_event(
    database: Database, crash_staff_hash: str
) -> None:
    add_crash_staff(database, crash_staff_hash)
    (family,) = add_families(database, 1)
    with database.write() as connection:
        # Not through the ORM: the flag's triggers fire on changes of address or state only.
        connection.execute(
            text("UPDATE portal_accounts SET shared_email = 0 WHERE id = :id"),
            {"id": family.guardian},
        )
    problems = check_database(database, AUDIT_KEY)
    assert problems == [f"account {family.guardian} is not flagged as sharing its address"]
    with database.write() as connection:
        connection.execute(update(AuditEvent).where(AuditEvent.seq == 1).values(details="{}"))
    problems = check_database(database, AUDIT_KEY)
    assert any(p.startswith("the audit chain does not verify: event") for p in problems)


def test_the_import_check_finds_part_of_a_batch_and_an_import_nobody_recorded(
    database: Database, tmp_path: Path
) -> None:
    export = tmp_path / "export.csv"
    rows = write_export(export, 1500)
    assert check_import(database, rows, export) == []
    with Session(database.writer) as session, session.begin():
        chart = add_patient(session, mrn=rows[0].mrn).id
    assert check_import(database, rows, export) == [
        "1 charts are in: not a whole number of batches of 1000",
        "0 accounts are in for the 1 the charts in bring",
        f"the account of chart {chart} is missing",
        "1 charts were imported and no audit event names the import",
    ]


def copy_of(message: OutboxMessage, token: str) -> Received:
    email = EmailMessage()
    email["Message-ID"] = message.message_id
    email.set_content(f"https://portal.riverside.example/reset-password?token={token}\n")
    return Received("portal@riverside.example", (message.to_email,), email, b"")


def test_the_relay_checks_find_an_email_marked_sent_that_never_went_and_one_sent_thrice(
    tmp_path: Path, crash_staff_hash: str
) -> None:
    outbox = fill_outbox(tmp_path / "outbox.db", crash_staff_hash, 0, 2, 0)
    database = open_database(resolve_database_url(str(outbox.path), {}))
    try:
        with Session(database.writer) as session, session.begin():
            first, _ = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
            first.state, first.sent_at, first.attempts = "sent", START, 1
            session.flush()
            session.expunge_all()
        assert check_after_kill(database, []) == [
            f"e-mails [{first.id}] are marked sent but did not arrive exactly once",
            "1 e-mails are marked sent, 0 audited as sent",
        ]
        thrice = [copy_of(first, f"token{n}") for n in range(3)]
        problems = check_after_resume(database, thrice, outbox)
        assert "not every e-mail was sent in the end: {'sent': 1, 'queued': 1}" in problems
        assert "e-mails arrived this many times (times: e-mails): {3: 1, 0: 1}" in problems
        assert f"e-mail {first.id}: the link of its newest copy is not its only valid one" in (
            problems
        )
        assert "an e-mail was not audited as sent exactly once" in problems
    finally:
        database.dispose()
