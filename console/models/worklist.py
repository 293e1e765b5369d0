"""The shared-e-mail worklist's query and the values it is made of: every address that more
than one active account logs in with, and its accounts with their charts. The proposed
resolution, and who may read it, is ``services.accounts.worklist``.

The whole list is read with one query (accounts joined to their charts, through the
``(shared_email, email_key, username)`` index), never one per cluster.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models.ages import ADULT_AGE, age_on
from console.models.schema import Patient, PortalAccount

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


def read_shared_clusters(
    session: Session,
    *,
    today: dt.date,
    limit: int | None = None,
    email_keys: Collection[str] | None = None,
) -> dict[str, list[ClusterAccount]]:
    """The accounts of every shared address by comparison key, ordered by address and
    username, ages on ``today``. ``limit`` keeps the first addresses only; ``email_keys``
    reads only those."""
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
    return clusters


__all__ = [
    "KEEP",
    "LINK_TO_GUARDIAN",
    "REVOKE_AND_REINVITE",
    "ClusterAccount",
    "ClusterCase",
    "ProposedStep",
    "StepKind",
    "read_shared_clusters",
]
