"""The account details the panel shows (issue 6, point 2), read from real databases."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from console.models.database import Database
from console.models.schema import Access
from console.models.states import AccessRelation, AccountState, StaffRole
from console.services.accounts.actions import revoke_access
from console.services.accounts.chart_actions import edit_contact, link_chart
from console.services.accounts.details import HISTORY_LENGTH, account_details
from console.services.accounts.lookup import NotFound
from console.services.accounts.patient_view import LoginSituation
from console.services.clock import ManualClock
from console.services.invitations.issuing import reissue_invitation
from console.services.permissions import Actor, NotAllowed
from console.services.workstation import Workstation
from tests.factories import add_account, add_patient, change_row
from tests.services.conftest import NOW

SHARED_FIX = (
    "Shares its e-mail with 2 other accounts — re-invite with a new e-mail, or link to the "
    "guardian's account."
)


def family(database: Database) -> dict[str, int]:
    """The Okafors share one login address: a mother (with her own chart seen as 'self')
    and two children, aged 9 and 19, each with an account of their own."""
    with Session(database.writer) as session, session.begin():
        mother = add_patient(
            session,
            first_name="Grace",
            last_name="Okafor",
            birth_date=dt.date(1981, 5, 14),
            contact_email="grace.okafor@example.org",
            mobile_phone="+1 555 0100",
        )
        child = add_patient(
            session, first_name="Tobi", last_name="Okafor", birth_date=dt.date(2016, 6, 1)
        )
        adult = add_patient(
            session, first_name="Ada", last_name="Okafor", birth_date=dt.date(2007, 3, 2)
        )
        accounts = {
            name: add_account(
                session,
                "Okafor.Family@example.org" if name != "mother" else "okafor.family@example.org",
                AccountState.MIGRATED if name == "mother" else AccountState.LEGACY,
                patient=chart,
                username=f"okafor_{name}",
                message_count=12 if name == "mother" else 0,
                intake_form_count=3 if name == "mother" else 0,
                failed_logins=2 if name == "mother" else 0,
            )
            for name, chart in (("mother", mother), ("child", child), ("adult", adult))
        }
        session.add(Access(account_id=accounts["mother"].id, patient_id=mother.id, relation="self"))
        return {
            "mother": accounts["mother"].id,
            "child": accounts["child"].id,
            "adult": accounts["adult"].id,
            "mother_chart": mother.id,
            "child_chart": child.id,
            "adult_chart": adult.id,
        }


@pytest.fixture
def actor(staff: dict[StaffRole, Actor]) -> Actor:
    return staff[StaffRole.FRONT_DESK]


def test_a_shared_account_names_its_cluster_and_the_fix(desk: Workstation, actor: Actor) -> None:
    ids = family(desk.database)
    details = account_details(desk, actor, ids["mother"])

    chart = details.chart
    assert (chart.full_name, chart.birth_date, chart.age) == (
        "Grace Okafor",
        dt.date(1981, 5, 14),
        44,
    )
    assert (chart.contact_email, chart.mobile_phone, chart.version) == (
        "grace.okafor@example.org",
        "+1 555 0100",
        1,
    )
    account = details.account
    assert details.account_id == account.account_id == ids["mother"]
    assert (account.username, account.state, account.shared_email) == (
        "okafor_mother",
        "migrated",
        True,
    )
    assert account.shares_email_with == ("okafor_adult", "okafor_child")
    assert (account.message_count, account.intake_form_count, account.failed_logins) == (12, 3, 2)
    view = details.patient_view
    assert view.situation is LoginSituation.SHARED_EMAIL
    assert view.message == (
        "Please ask your healthcare provider to create a new Patient Portal account for you"
    )
    assert view.suggested_fix == SHARED_FIX
    assert "same e-mail address" in view.explanation
    assert details.read_at == NOW


def test_the_fix_counts_what_is_left_of_the_cluster(desk: Workstation, actor: Actor) -> None:
    ids = family(desk.database)
    revoke_access(desk, actor, ids["adult"], reason="shared_email")
    mother = account_details(desk, actor, ids["mother"])
    assert mother.account.shares_email_with == ("okafor_child",)
    assert mother.patient_view.suggested_fix is not None
    assert mother.patient_view.suggested_fix.startswith("Shares its e-mail with 1 other account —")

    revoke_access(desk, actor, ids["child"], reason="shared_email")
    mother = account_details(desk, actor, ids["mother"])
    assert (mother.account.shared_email, mother.account.shares_email_with) == (False, ())
    assert mother.patient_view.situation is LoginSituation.SIGNED_IN
    assert mother.patient_view.message == "(signed in)"
    assert mother.patient_view.suggested_fix is None


def test_a_guardian_sees_the_charts_linked_to_it(desk: Workstation, actor: Actor) -> None:
    ids = family(desk.database)
    link_chart(desk, actor, ids["child_chart"], ids["mother"], AccessRelation.GUARDIAN)
    linked = link_chart(desk, actor, ids["adult_chart"], ids["mother"], AccessRelation.PROXY)
    details = account_details(desk, actor, ids["mother"])
    seen = [(c.relation, c.full_name, c.age, c.needs_review, c.ended) for c in details.can_see]
    assert seen == [
        ("self", "Grace Okafor", 44, False, False),
        ("proxy", "Ada Okafor", 19, True, False),
        ("guardian", "Tobi Okafor", 9, False, False),
    ]
    assert details.can_see[0].patient_id == ids["mother_chart"]

    change_row(desk.database, Access, linked.access_id, revoked_at=NOW)
    details = account_details(desk, actor, ids["mother"])
    assert [(c.full_name, c.ended) for c in details.can_see][-1] == ("Ada Okafor", True)


def test_invitations_and_history_of_a_revoked_account(desk: Workstation, actor: Actor) -> None:
    ids = family(desk.database)
    clock = desk.clock
    assert isinstance(clock, ManualClock)
    revoke_access(desk, actor, ids["child"], reason="shared_email")
    clock.advance(minutes=5)
    reissue_invitation(desk, actor, ids["child_chart"], "tobi.okafor@example.net", expires_days=3)
    # Events about other accounts and charts are not this account's history.
    revoke_access(desk, actor, ids["adult"], reason="shared_email")

    details = account_details(desk, actor, ids["child"])
    assert details.account.state == "revoked"
    assert details.patient_view.situation is LoginSituation.REVOKED
    assert details.patient_view.message == (
        "Please ask your healthcare provider to provide access to your health records"
    )
    [invitation] = details.invitations
    assert (invitation.state, invitation.target_email, invitation.lapsed) == (
        "pending",
        "tobi.okafor@example.net",
        False,
    )
    assert invitation.expires_at == NOW + dt.timedelta(minutes=5, days=3)
    assert [(e.action, e.outcome, e.staff_username, e.target_type) for e in details.history] == [
        ("reissue_invitation", "ok", actor.username, "patient"),
        ("revoke_access", "ok", actor.username, "account"),
    ]
    assert details.history[1].occurred_at == NOW

    clock.advance(days=4)
    [invitation] = account_details(desk, actor, ids["child"]).invitations
    assert (invitation.state, invitation.lapsed) == ("pending", True)


def test_history_keeps_the_newest_events(desk: Workstation, actor: Actor) -> None:
    ids = family(desk.database)
    clock = desk.clock
    assert isinstance(clock, ManualClock)
    for n in range(HISTORY_LENGTH + 3):
        clock.advance(minutes=1)
        edit_contact(
            desk, actor, ids["mother_chart"], contact_email=None, mobile_phone=f"+1 555 01{n:02d}"
        )
    clock.advance(minutes=1)
    revoke_access(desk, actor, ids["mother"], reason="patient_request")
    history = account_details(desk, actor, ids["mother"]).history
    assert len(history) == HISTORY_LENGTH
    assert [e.action for e in history[:2]] == ["revoke_access", "edit_contact"]
    assert [e.occurred_at for e in history] == sorted(
        (e.occurred_at for e in history), reverse=True
    )


def test_a_missing_account_and_a_role_that_may_not_look(desk: Workstation, actor: Actor) -> None:
    with pytest.raises(NotFound, match="no longer exists"):
        account_details(desk, actor, 4242)
    ids = family(desk.database)
    with pytest.raises(NotAllowed):
        account_details(desk, Actor(actor.id, actor.username, "visitor"), ids["mother"])


def test_a_handful_of_queries(desk: Workstation, actor: Actor) -> None:
    ids = family(desk.database)
    link_chart(desk, actor, ids["child_chart"], ids["mother"], AccessRelation.GUARDIAN)
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(desk.database.engine, "before_cursor_execute", count)
    try:
        account_details(desk, actor, ids["mother"])
    finally:
        event.remove(desk.database.engine, "before_cursor_execute", count)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) <= 6


def test_on_sqlite_and_postgresql(any_desk: Workstation, staff_hash: str) -> None:
    from tests.services.conftest import add_staff

    actor = add_staff(any_desk.database, StaffRole.MANAGER, staff_hash)
    ids = family(any_desk.database)
    link_chart(any_desk, actor, ids["child_chart"], ids["mother"], AccessRelation.GUARDIAN)
    edit_contact(
        any_desk, actor, ids["mother_chart"], contact_email=None, mobile_phone="+1 555 0199"
    )
    details = account_details(any_desk, actor, ids["mother"])
    assert details.account.shares_email_with == ("okafor_adult", "okafor_child")
    assert details.patient_view.suggested_fix == SHARED_FIX
    assert [c.relation for c in details.can_see] == ["self", "guardian"]
    # Linking is the child chart's history, not the guardian account's.
    assert [e.action for e in details.history] == ["edit_contact"]
    assert (details.chart.mobile_phone, details.chart.version) == ("+1 555 0199", 2)
    assert details.chart.birth_date == dt.date(1981, 5, 14)
