"""The front desk's work in the crash tests: families that share one login address, and
the plan that fixes each as SPEC §5 says (link the child's chart to the guardian, revoke
the child's and the other adult's accounts, re-invite that adult at an address of their own
and correct their contact details, send the guardian a reset e-mail), plus a newcomer
invited and, in every other family, that invitation cancelled again.

``expected_end`` says what the database holds once the whole plan has run, in one go or
resumed after any number of crashes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from console.models.database import Database
from console.models.schema import Access, Invitation, OutboxMessage, Patient, PortalAccount
from console.models.states import (
    ACTIVE_STATES,
    AccessRelation,
    AccountState,
    InvitationState,
    OutboxKind,
)
from tests.factories import add_account, add_patient

#: The steps each family's plan has, in order (``plan``); a resumed run may find the first
#: three done already and be refused them.
STEPS_PER_FAMILY = 8
MAY_BE_REFUSED_ON_RESUME = frozenset({"link_chart", "revoke_access"})


@dataclass(frozen=True)
class Family:
    """One family's charts and accounts (ids)."""

    number: int
    guardian_chart: int
    child_chart: int
    adult_chart: int
    newcomer_chart: int
    guardian: int
    child: int
    adult: int

    @property
    def adult_address(self) -> str:
        return f"adult{self.number}.own@example.org"

    @property
    def adult_phone(self) -> str:
        return f"555-01{self.number % 100:02d}"

    @property
    def newcomer_address(self) -> str:
        return f"newcomer{self.number}@example.org"

    @property
    def newcomer_keeps_invitation(self) -> bool:
        return self.number % 2 == 1


def add_families(database: Database, count: int) -> list[Family]:
    """``count`` families: a guardian, a child and another adult who log in with one shared
    address (``legacy`` accounts, each with its ``self`` access), and a newcomer's chart."""
    families = []
    with Session(database.writer) as session, session.begin():
        for number in range(count):
            shared = f"family{number}@example.net"
            charts = [
                add_patient(session, mrn=f"F{number:03d}{role}", birth_date=born)
                for role, born in (
                    ("G", dt.date(1980, 5, 1)),
                    ("C", dt.date(2015, 7, 2)),
                    ("A", dt.date(1999, 9, 3)),
                    ("N", dt.date(1990, 1, 4)),
                )
            ]
            accounts = [
                add_account(session, shared, AccountState.LEGACY, chart, username=f"{role}{number}")
                for chart, role in zip(charts, ("guardian", "child", "adult"), strict=False)
            ]
            for account in accounts:
                session.add(
                    Access(
                        account_id=account.id,
                        patient_id=account.patient_id,
                        relation=AccessRelation.SELF.value,
                        needs_review=False,
                    )
                )
            families.append(Family(number, *(c.id for c in charts), *(a.id for a in accounts)))
    return families


def plan(families: list[Family]) -> list[dict[str, Any]]:
    """The steps, family after family, as ``tests.crash.driver`` takes them."""
    steps: list[dict[str, Any]] = []
    for family in families:
        steps += [
            {
                "do": "link_chart",
                "patient": family.child_chart,
                "account": family.guardian,
                "relation": "guardian",
            },
            {
                "do": "revoke_access",
                "account": family.child,
                "reason": "shared_email",
                "notify": False,
            },
            {
                "do": "revoke_access",
                "account": family.adult,
                "reason": "shared_email",
                "notify": True,
            },
            {
                "do": "reissue_invitation",
                "patient": family.adult_chart,
                "email": family.adult_address,
            },
            {
                "do": "edit_contact",
                "patient": family.adult_chart,
                "email": family.adult_address,
                "phone": family.adult_phone,
            },
            {"do": "resend_reset", "account": family.guardian},
            {
                "do": "reissue_invitation",
                "patient": family.newcomer_chart,
                "email": family.newcomer_address,
            },
        ]
        if family.newcomer_keeps_invitation:
            steps.append(
                {
                    "do": "edit_contact",
                    "patient": family.guardian_chart,
                    "email": None,
                    "phone": "555-0199",
                }
            )
        else:
            steps.append({"do": "cancel_invitation", "patient": family.newcomer_chart})
    assert len(steps) == STEPS_PER_FAMILY * len(families)
    return steps


def expected_end(database: Database, families: list[Family]) -> list[str]:
    """Where the whole plan must have left each family; the problems found."""
    with Session(database.engine) as session:
        return [problem for family in families for problem in _family_end(session, family)]


def _family_end(session: Session, family: Family) -> Iterator[str]:
    name = f"family {family.number}"
    states = dict(
        session.execute(
            select(PortalAccount.id, PortalAccount.state).where(
                PortalAccount.id.in_([family.guardian, family.child, family.adult])
            )
        ).all()
    )
    if states[family.child] != AccountState.REVOKED or states[family.adult] != AccountState.REVOKED:
        yield f"{name}: the child's and the adult's accounts are not both revoked"
    if states[family.guardian] != AccountState.RESET_PENDING:
        yield f"{name}: the guardian's account is {states[family.guardian]}, not reset_pending"
    links = session.scalar(
        select(func.count()).where(
            Access.patient_id == family.child_chart,
            Access.account_id == family.guardian,
            Access.relation == AccessRelation.GUARDIAN,
            Access.revoked_at.is_(None),
        )
    )
    if links != 1:
        yield f"{name}: the child's chart is linked to the guardian {links} times"
    adult = session.get_one(Patient, family.adult_chart)
    if (adult.contact_email, adult.mobile_phone) != (family.adult_address, family.adult_phone):
        yield f"{name}: the adult's contact details were not corrected"
    for chart, address, keeps in (
        (family.adult_chart, family.adult_address, True),
        (family.newcomer_chart, family.newcomer_address, family.newcomer_keeps_invitation),
    ):
        pending = session.scalars(
            select(Invitation.target_email).where(
                Invitation.patient_id == chart, Invitation.state == InvitationState.PENDING
            )
        ).all()
        if pending != ([address] if keeps else []):
            yield f"{name}: chart {chart} has {len(pending)} pending invitations, not {int(keeps)}"
    notices = session.scalar(
        select(func.count()).where(
            OutboxMessage.account_id == family.adult,
            OutboxMessage.kind == OutboxKind.ACCESS_REVOKED,
        )
    )
    if notices != 1:
        yield f'{name}: {notices} "access ended" notices queued for the adult, not 1'
    resets = session.scalar(
        select(func.count()).where(
            OutboxMessage.account_id == family.guardian,
            OutboxMessage.kind == OutboxKind.PASSWORD_RESET,
        )
    )
    if not resets:
        yield f"{name}: no reset e-mail queued for the guardian"
    active = [a for a, state in states.items() if state in ACTIVE_STATES]
    if active != [family.guardian]:
        yield f"{name}: active accounts {active}, not only the guardian's"


__all__ = [
    "MAY_BE_REFUSED_ON_RESUME",
    "STEPS_PER_FAMILY",
    "Family",
    "add_families",
    "expected_end",
    "plan",
]
