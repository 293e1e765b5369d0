"""The shared-e-mail worklist: every address that more than one active account logs in
with, its accounts, and a proposed way to resolve it (issue 6, point 4).

The proposal follows the clinic's usual fix for a family sharing one address (SPEC §5,
"Family link"), with plain rules a front desk can check against the chart:

1. The **oldest adult** (18 or more on today's date) keeps the address on their own account
   ("keep"). Ties go to the earlier-created account (the lower id).
2. Every **minor** in the cluster has their chart linked to that account as ``guardian``, and
   their own account revoked ("link_to_guardian").
3. Every **other adult** gets their account revoked and an invitation re-issued to an address
   of their own ("revoke_and_reinvite").
4. With **no adult** in the cluster, nobody can be a guardian: the oldest person keeps the
   address and all the others are re-invited at addresses of their own.

It is only a proposal: staff carry it out step by step through the usual dialogs, which
check everything again. The whole list is read with one query (accounts joined to their
charts, through the ``(shared_email, email_key, username)`` index), never one per cluster.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models.schema import Patient, PortalAccount
from console.services.permissions import Actor, Permission
from console.services.workstation import ADULT_AGE, Workstation, age_on

StepKind = Literal["keep", "link_to_guardian", "revoke_and_reinvite"]

KEEP: StepKind = "keep"
LINK_TO_GUARDIAN: StepKind = "link_to_guardian"
REVOKE_AND_REINVITE: StepKind = "revoke_and_reinvite"


@dataclass(frozen=True)
class ClusterAccount:
    """One active account of a cluster, with the chart of the person who holds it."""

    account_id: int
    username: str
    #: The login e-mail as the account holds it (cases differ within a cluster).
    login_email: str
    patient_id: int
    mrn: str
    first_name: str
    last_name: str
    birth_date: dt.date
    age: int
    state: str
    message_count: int
    intake_form_count: int

    @property
    def full_name(self) -> str:
        """First and last name, as the front desk says them."""
        return f"{self.first_name} {self.last_name}"

    @property
    def adult(self) -> bool:
        """Whether the holder is 18 or older today (and so cannot be linked as a child)."""
        return self.age >= ADULT_AGE

    @property
    def who(self) -> str:
        """The name with "(adult)" or "(age 13)", as the proposal's sentences put it."""
        return f"{self.full_name} ({'adult' if self.adult else f'age {self.age}'})"


@dataclass(frozen=True)
class ProposedStep:
    """One step of a cluster's proposed resolution, for one of its accounts."""

    kind: StepKind
    account_id: int
    patient_id: int
    #: The step in the front desk's words.
    explanation: str
    #: For ``link_to_guardian``: the account that keeps the address (the guardian's).
    guardian_account_id: int | None = None


@dataclass(frozen=True)
class ClusterCase:
    """One shared address, its accounts (by username) and the proposed resolution (one step
    per account, in the same order)."""

    email_key: str
    address: str
    accounts: tuple[ClusterAccount, ...]
    steps: tuple[ProposedStep, ...]

    def step_for(self, account_id: int) -> ProposedStep | None:
        """The proposed step for the account ``account_id`` (None if not in the cluster)."""
        for step in self.steps:
            if step.account_id == account_id:
                return step
        return None


def shared_email_worklist(
    workstation: Workstation,
    actor: Actor,
    *,
    limit: int | None = None,
    email_keys: Collection[str] | None = None,
) -> list[ClusterCase]:
    """Every shared-e-mail cluster, ordered by address, with a proposed resolution each.

    ``limit`` keeps the first clusters only; ``email_keys`` reads only those addresses (by
    comparison key), e.g. after an action changed them: a key missing from the answer no
    longer shares. Raises ``NotAllowed`` for a role that may not view accounts."""
    actor.require(Permission.VIEW_ACCOUNTS)
    today = workstation.clock.now().date()
    shared = PortalAccount.shared_email.is_(True)
    statement = (
        select(
            PortalAccount.email_key,
            PortalAccount.login_email,
            PortalAccount.id,
            PortalAccount.username,
            PortalAccount.state,
            PortalAccount.message_count,
            PortalAccount.intake_form_count,
            Patient.id,
            Patient.mrn,
            Patient.first_name,
            Patient.last_name,
            Patient.birth_date,
        )
        .join(Patient, Patient.id == PortalAccount.patient_id)
        .where(shared)
        .order_by(PortalAccount.email_key, PortalAccount.username, PortalAccount.id)
    )
    if email_keys is not None:
        statement = statement.where(PortalAccount.email_key.in_(set(email_keys)))
    if limit is not None:
        first_keys = (
            select(PortalAccount.email_key)
            .where(shared)
            .distinct()
            .order_by(PortalAccount.email_key)
            .limit(limit)
            .scalar_subquery()
        )
        statement = statement.where(PortalAccount.email_key.in_(first_keys))
    clusters: dict[str, list[ClusterAccount]] = {}
    with Session(workstation.database.engine) as session:
        for row in session.execute(statement):
            key, address, account_id, username, state, messages, forms = row[:7]
            patient_id, mrn, first, last, birth_date = row[7:]
            account = ClusterAccount(
                account_id=account_id,
                username=username,
                login_email=address or key or "",
                patient_id=patient_id,
                mrn=mrn,
                first_name=first,
                last_name=last,
                birth_date=birth_date,
                age=age_on(birth_date, today),
                state=state,
                message_count=messages,
                intake_form_count=forms,
            )
            clusters.setdefault(key or "", []).append(account)
    return [
        _case(key, accounts)
        for key, accounts in clusters.items()
        # A cluster caught half-way through a change by another workstation.
        if len(accounts) > 1
    ]


def _case(key: str, accounts: list[ClusterAccount]) -> ClusterCase:
    keeper = _keeper(accounts)
    return ClusterCase(key, keeper.login_email, tuple(accounts), propose_resolution(accounts))


def _keeper(accounts: Collection[ClusterAccount]) -> ClusterAccount:
    # Oldest first: the earliest birth date, then the earliest account.
    return min(accounts, key=lambda a: (a.birth_date, a.account_id))


def propose_resolution(accounts: Collection[ClusterAccount]) -> tuple[ProposedStep, ...]:
    """The proposed steps for ``accounts`` sharing one address, one per account in the
    given order, by the rules in this module's docstring."""
    if not accounts:
        return ()
    keeper = _keeper(accounts)
    address = keeper.login_email
    has_adult = keeper.adult
    steps = []
    for account in accounts:
        if account.account_id == keeper.account_id:
            steps.append(
                ProposedStep(
                    KEEP,
                    account.account_id,
                    account.patient_id,
                    f"Keep: {account.who} keeps {address}",
                )
            )
        elif has_adult and not account.adult:
            steps.append(
                ProposedStep(
                    LINK_TO_GUARDIAN,
                    account.account_id,
                    account.patient_id,
                    f"Link {account.who} to {keeper.full_name}'s account as guardian, "
                    f"then revoke {account.first_name}'s own account",
                    guardian_account_id=keeper.account_id,
                )
            )
        else:
            why = "" if has_adult else " (no adult here to act as guardian)"
            steps.append(
                ProposedStep(
                    REVOKE_AND_REINVITE,
                    account.account_id,
                    account.patient_id,
                    f"Re-invite {account.who} at an e-mail of their own{why}",
                )
            )
    return tuple(steps)


__all__ = [
    "KEEP",
    "LINK_TO_GUARDIAN",
    "REVOKE_AND_REINVITE",
    "ClusterAccount",
    "ClusterCase",
    "ProposedStep",
    "StepKind",
    "propose_resolution",
    "shared_email_worklist",
]
