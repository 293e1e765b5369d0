"""The invitations list (issue 6, point 5): newest first, filtered by state (a pending
invitation past its expiry counting as expired), searched by name, MRN or e-mail, with the
filter's total."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from console.models.schema import Invitation
from console.models.states import AccountState, InvitationState, StaffRole
from console.services.accounts.actions import RevokeReason, revoke_access
from console.services.invitations.issuing import reissue_invitation
from console.services.invitations.listing import list_invitations
from console.services.permissions import Actor, NotAllowed
from console.services.workstation import Workstation
from tests.factories import add_account, add_patient
from tests.services.conftest import NOW

DAY = dt.timedelta(days=1)


def add_invitations(workstation: Workstation, created_by: int | None) -> dict[str, int]:
    """One invitation per person, created a day apart (Grace the newest), in the given state
    and expiry. Returns invitation ids by first name."""
    people = (
        ("Grace", "Hopper", "M0000001", "grace@example.com", InvitationState.PENDING, 5),
        ("Walter", "Hopper", "M0000002", "Walter.H@Example.com", InvitationState.PENDING, -1),
        ("Alan", "Turing", "M0000003", "alan@example.org", InvitationState.ACCEPTED, -3),
        ("Ada", "Lovelace", "M0000004", "ada@example.net", InvitationState.CANCELLED, 9),
        ("Sara", "Turing", "M0000005", "sara@example.org", InvitationState.EXPIRED, -10),
    )
    ids: dict[str, int] = {}
    with Session(workstation.database.writer) as session, session.begin():
        for age, (first, last, mrn, email, state, expires_in) in enumerate(people):
            chart = add_patient(session, first_name=first, last_name=last, mrn=mrn)
            invitation = Invitation(
                patient_id=chart.id,
                target_email=email,
                pin_hash="not-a-real-hash",
                pin_failures=0,
                state=state.value,
                created_at=NOW - (age + 1) * DAY,
                expires_at=NOW + expires_in * DAY,
                created_by_id=created_by,
            )
            session.add(invitation)
            session.flush()
            ids[first] = invitation.id
    return ids


@pytest.fixture
def front_desk(staff: dict[StaffRole, Actor]) -> Actor:
    return staff[StaffRole.FRONT_DESK]


def names(workstation: Workstation, actor: Actor, **filters: object) -> list[str]:
    page = list_invitations(workstation, actor, **filters)  # type: ignore[arg-type]
    return [row.first_name for row in page.rows]


def test_all_newest_first_with_chart_and_creator(desk: Workstation, front_desk: Actor) -> None:
    ids = add_invitations(desk, front_desk.id)
    page = list_invitations(desk, front_desk)
    assert page.total == 5
    assert [row.first_name for row in page.rows] == ["Grace", "Walter", "Alan", "Ada", "Sara"]
    grace = page.rows[0]
    assert grace.invitation_id == ids["Grace"]
    assert grace.patient_name == "Grace Hopper"
    assert grace.mrn == "M0000001"
    assert grace.target_email == "grace@example.com"
    assert grace.state is InvitationState.PENDING
    assert grace.created_at == NOW - DAY
    assert grace.expires_at == NOW + 5 * DAY
    assert grace.created_by == front_desk.username
    assert grace.version >= 1


def test_pending_past_its_expiry_shows_as_expired(desk: Workstation, front_desk: Actor) -> None:
    add_invitations(desk, front_desk.id)
    states = {row.first_name: row.state for row in list_invitations(desk, front_desk).rows}
    assert states["Walter"] is InvitationState.EXPIRED  # stored "pending", expired yesterday
    assert names(desk, front_desk, state=InvitationState.PENDING) == ["Grace"]
    assert names(desk, front_desk, state=InvitationState.EXPIRED) == ["Walter", "Sara"]
    assert names(desk, front_desk, state=InvitationState.ACCEPTED) == ["Alan"]
    assert names(desk, front_desk, state=InvitationState.CANCELLED) == ["Ada"]
    # The clock moves on: Grace's expires too.
    desk.clock.advance(6 * DAY)  # type: ignore[attr-defined]
    assert names(desk, front_desk, state=InvitationState.PENDING) == []
    assert names(desk, front_desk, state=InvitationState.EXPIRED) == ["Grace", "Walter", "Sara"]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("hopper", ["Grace", "Walter"]),
        ("  GRACE  ", ["Grace"]),
        ("gra hop", ["Grace"]),
        ("tur", ["Alan", "Sara"]),
        ("M0000003", ["Alan"]),
        ("walter.h@example.COM", ["Walter"]),
        ("sara@", ["Sara"]),
        ("nobody", []),
        ("%", []),
    ],
)
def test_search_by_name_mrn_or_email(
    desk: Workstation, front_desk: Actor, search: str, expected: list[str]
) -> None:
    add_invitations(desk, front_desk.id)
    page = list_invitations(desk, front_desk, search=search)
    assert [row.first_name for row in page.rows] == expected
    assert page.total == len(expected)


def test_limit_keeps_the_newest_and_total_counts_the_filter(
    desk: Workstation, front_desk: Actor
) -> None:
    add_invitations(desk, None)
    page = list_invitations(desk, front_desk, limit=2)
    assert [row.first_name for row in page.rows] == ["Grace", "Walter"]
    assert page.total == 5
    assert page.rows[0].created_by is None
    expired = list_invitations(desk, front_desk, state=InvitationState.EXPIRED, limit=1)
    assert [row.first_name for row in expired.rows] == ["Walter"]
    assert expired.total == 2
    both = list_invitations(desk, front_desk, state=InvitationState.PENDING, search="hopper")
    assert [row.first_name for row in both.rows] == ["Grace"]
    assert both.total == 1


def test_a_reissued_invitation_is_listed(desk: Workstation, front_desk: Actor) -> None:
    with Session(desk.database.writer) as session, session.begin():
        chart = add_patient(session, first_name="Mary", last_name="Shelley")
        account = add_account(session, "family@example.com", AccountState.LEGACY, chart)
        chart_id, account_id = chart.id, account.id
    revoke_access(desk, front_desk, account_id, reason=RevokeReason.SHARED_EMAIL)
    issued = reissue_invitation(desk, front_desk, chart_id, "mary@example.com")
    page = list_invitations(desk, front_desk, state=InvitationState.PENDING, search="shelley")
    assert [row.invitation_id for row in page.rows] == [issued.invitation_id]
    assert page.rows[0].target_email == "mary@example.com"


def test_refused_without_the_permission(desk: Workstation) -> None:
    with pytest.raises(NotAllowed):
        list_invitations(desk, Actor(1, "nobody", "no_such_role"))
