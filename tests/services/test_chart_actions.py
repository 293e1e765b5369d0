"""Family links and contact edits (SPEC §5), on a real database with a clock that stands
still until moved. Staff users and signing in are tested in test_staff_users.py."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models.database import Database
from console.models.schema import Access, AuditEvent, Patient
from console.models.states import StaffRole
from console.services.accounts.actions import revoke_access
from console.services.accounts.chart_actions import ChartRefused, edit_contact, link_chart
from console.services.errors import InvalidEmail
from console.services.permissions import Actor
from console.services.workstation import Workstation
from tests.factories import add_account, add_patient


def family(database: Database) -> tuple[int, int, int]:
    """A guardian's account, a child's chart (aged 9) and an adult's chart (aged 19)."""
    with Session(database.writer) as session, session.begin():
        guardian = add_account(session, "parent@example.org")
        child = add_patient(session, birth_date=dt.date(2016, 6, 1))
        adult = add_patient(session, birth_date=dt.date(2007, 3, 2))
        return guardian.id, child.id, adult.id


def audit_actions(database: Database) -> list[tuple[str, str]]:
    with database.engine.connect() as connection:
        rows = connection.execute(
            select(AuditEvent.action, AuditEvent.outcome).order_by(AuditEvent.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


# --- Family links ------------------------------------------------------------------------------


def test_link_a_childs_chart_to_the_guardian(
    desk: Workstation, staff: dict[StaffRole, Actor]
) -> None:
    guardian, child, _ = family(desk.database)
    linked = link_chart(desk, staff[StaffRole.FRONT_DESK], child, guardian, "guardian")
    assert linked.review_warning is None
    with Session(desk.database.engine) as session:
        access = session.get_one(Access, linked.access_id)
        assert (access.account_id, access.patient_id, access.relation, access.needs_review) == (
            guardian,
            child,
            "guardian",
            False,
        )
        assert access.granted_by_id == staff[StaffRole.FRONT_DESK].id
    assert linked.changes.patients == {child} and linked.changes.accounts == {guardian}
    assert audit_actions(desk.database) == [("link_chart", "ok")]


def test_an_adults_chart_is_linked_and_flagged(
    desk: Workstation, staff: dict[StaffRole, Actor]
) -> None:
    guardian, _, adult = family(desk.database)  # 19 today (NOW is 2026-03-02)
    linked = link_chart(desk, staff[StaffRole.FRONT_DESK], adult, guardian, "proxy")
    assert linked.review_warning and "aged 19" in linked.review_warning
    with Session(desk.database.engine) as session:
        assert session.get_one(Access, linked.access_id).needs_review


def test_link_refusals(desk: Workstation, staff: dict[StaffRole, Actor]) -> None:
    actor = staff[StaffRole.FRONT_DESK]
    guardian, child, _ = family(desk.database)
    with Session(desk.database.engine) as session:
        own_chart = session.scalars(select(Access.patient_id)).first() or 0
        own_chart = session.get_one(Patient, own_chart).id if own_chart else own_chart
    link_chart(desk, actor, child, guardian, "guardian")
    cases = [
        ((child, guardian, "self"), "'guardian' or 'proxy'"),
        ((child, guardian, "uncle"), "'guardian' or 'proxy'"),
        ((child, guardian, "proxy"), "already see this chart"),
        ((999_999, guardian, "proxy"), "no such chart"),
        ((child, 999_999, "proxy"), "active portal account"),
    ]
    for (patient, account, relation), message in cases:
        with pytest.raises(ChartRefused, match=message):
            link_chart(desk, actor, patient, account, relation)
    revoke_access(desk, actor, guardian, reason="deceased")
    _, other_child, _ = family(desk.database)
    with pytest.raises(ChartRefused, match="active portal account"):
        link_chart(desk, actor, other_child, guardian, "guardian")
    assert [a for a, _ in audit_actions(desk.database)] == ["link_chart", "revoke_access"]


def test_an_accounts_own_chart_cannot_be_linked(
    desk: Workstation, staff: dict[StaffRole, Actor]
) -> None:
    with Session(desk.database.writer) as session, session.begin():
        account = add_account(session, "jane@example.org")
        ids = account.id, account.patient_id
    with pytest.raises(ChartRefused, match="own chart"):
        link_chart(desk, staff[StaffRole.FRONT_DESK], ids[1], ids[0], "guardian")


# --- Contact details ---------------------------------------------------------------------------


def test_edit_contact(desk: Workstation, staff: dict[StaffRole, Actor]) -> None:
    actor = staff[StaffRole.FRONT_DESK]
    with Session(desk.database.writer) as session, session.begin():
        patient = add_patient(session, contact_email="old@example.org").id
    changes = edit_contact(
        desk, actor, patient, contact_email=" New@Example.ORG ", mobile_phone="+1 (555) 010-2000"
    )
    assert changes.patients == {patient}
    with Session(desk.database.engine) as session:
        chart = session.get_one(Patient, patient)
        assert (chart.contact_email, chart.mobile_phone) == ("New@example.org", "+1 (555) 010-2000")
    assert (
        edit_contact(
            desk, actor, patient, contact_email="New@example.org", mobile_phone="+1 (555) 010-2000"
        ).patients
        == frozenset()
    )
    edit_contact(desk, actor, patient, contact_email="", mobile_phone=None)
    with Session(desk.database.engine) as session:
        chart = session.get_one(Patient, patient)
        assert (chart.contact_email, chart.mobile_phone) == (None, None)
    assert audit_actions(desk.database) == [("edit_contact", "ok")] * 2


@pytest.mark.parametrize("phone", ["call me", "12", "+1 555 0100 0100 0100 99", "555\x000100"])
def test_edit_contact_refuses_a_phone_that_is_not_one(
    desk: Workstation, staff: dict[StaffRole, Actor], phone: str
) -> None:
    with Session(desk.database.writer) as session, session.begin():
        patient = add_patient(session).id
    with pytest.raises(ChartRefused, match="mobile phone"):
        edit_contact(
            desk, staff[StaffRole.FRONT_DESK], patient, contact_email=None, mobile_phone=phone
        )
    with pytest.raises(InvalidEmail):
        edit_contact(
            desk, staff[StaffRole.FRONT_DESK], patient, contact_email="jane@", mobile_phone=None
        )
    assert audit_actions(desk.database) == []
