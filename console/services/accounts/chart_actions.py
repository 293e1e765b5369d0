"""What staff do to a chart (SPEC §5): link it to a family member's account, edit its
contact details. One transaction each, with its audit event; ``Changes`` for the views."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from console.models.ages import ADULT_AGE, age_on
from console.models.schema import Access, Patient, PortalAccount
from console.models.states import ACTIVE_STATES, AccessRelation
from console.services.email_rules import validate_email
from console.services.errors import DomainError
from console.services.permissions import Actor, Permission
from console.services.workstation import Changes, Workstation, lock_row, writing

_PHONE_CHARS = re.compile(r"[0-9 ()+.\-]+")
_PHONE_DIGITS = (7, 15)  # E.164 allows at most 15


class ChartRefused(DomainError):
    """The chart or account cannot be changed as asked."""


@dataclass(frozen=True)
class LinkedChart:
    """A new access row. ``review_warning`` is set when the chart is an adult's."""

    access_id: int
    review_warning: str | None
    changes: Changes


def link_chart(
    workstation: Workstation,
    actor: Actor,
    patient_id: int,
    account_id: int,
    relation: AccessRelation | str,
    *,
    expected_version: int | None = None,
) -> LinkedChart:
    """Let the active account ``account_id`` see the chart ``patient_id`` as its guardian
    or proxy — the usual fix for a family sharing one address. A chart of someone aged 18
    or more is linked but flagged for review. ``expected_version`` is the account's."""
    actor.require(Permission.LINK_CHART)
    link = _relation(relation)
    now = workstation.clock.now()
    with writing(workstation, actor, Permission.LINK_CHART) as session:
        account = lock_row(session, PortalAccount, account_id, expected_version)
        patient = session.get(Patient, patient_id)
        if account is None or account.state not in ACTIVE_STATES:
            raise ChartRefused("Choose an active portal account to link the chart to.")
        if patient is None:
            raise ChartRefused("There is no such chart; it may have been removed.")
        if account.patient_id == patient_id:
            raise ChartRefused("This is the account's own chart; it can already see it.")
        held = session.scalar(
            select(Access.relation).where(
                Access.account_id == account_id,
                Access.patient_id == patient_id,
                Access.revoked_at.is_(None),
            )
        )
        if held is not None:
            raise ChartRefused(f"The account can already see this chart (as {held}).")
        age = age_on(patient.birth_date, now.date())
        access = Access(
            account_id=account_id,
            patient_id=patient_id,
            relation=link.value,
            needs_review=age >= ADULT_AGE,
            granted_at=now,
            granted_by_id=actor.id,
        )
        session.add(access)
        session.flush()
        workstation.audit.record(
            session,
            "link_chart",
            actor=actor,
            target_type="patient",
            target_id=patient_id,
            details={
                "account": account_id,
                "relation": link.value,
                "access": access.id,
                "needs_review": access.needs_review,
            },
        )
        warning = (
            f"This chart belongs to someone aged {age}: an adult's records are normally "
            "theirs alone. The link was made and flagged for review."
            if access.needs_review
            else None
        )
        return LinkedChart(
            access.id,
            warning,
            Changes(accounts=frozenset({account_id}), patients=frozenset({patient_id})),
        )


def edit_contact(
    workstation: Workstation,
    actor: Actor,
    patient_id: int,
    *,
    contact_email: str | None,
    mobile_phone: str | None,
    expected_version: int | None = None,
) -> Changes:
    """Set a chart's contact e-mail and mobile phone (empty clears one). The contact e-mail
    is where the clinic writes to; it is not a login, so it may be shared in a family."""
    actor.require(Permission.EDIT_CONTACT)
    email = validate_email(contact_email) if contact_email and contact_email.strip() else None
    phone = _phone(mobile_phone)
    with writing(workstation, actor, Permission.EDIT_CONTACT) as session:
        patient = lock_row(session, Patient, patient_id, expected_version)
        if patient is None:
            raise ChartRefused("There is no such chart; it may have been removed.")
        changed = [
            name
            for name, old, new in (
                ("contact_email", patient.contact_email, email),
                ("mobile_phone", patient.mobile_phone, phone),
            )
            if old != new
        ]
        if not changed:
            return Changes()
        patient.contact_email = email
        patient.mobile_phone = phone
        session.flush()
        workstation.audit.record(
            session,
            "edit_contact",
            actor=actor,
            target_type="patient",
            target_id=patient_id,
            details={"changed": changed},
        )
        return Changes(patients=frozenset({patient_id}))


def _relation(relation: AccessRelation | str) -> AccessRelation:
    try:
        link = AccessRelation(relation)
    except ValueError:
        link = None
    if link is None or link is AccessRelation.SELF:
        raise ChartRefused("Link a chart as 'guardian' or 'proxy'.")
    return link


def _phone(text: str | None) -> str | None:
    """A mobile number as typed (trimmed), if it looks like one; None when empty."""
    if text is None or not text.strip():
        return None
    phone = " ".join(text.split())
    digits = sum(c.isdigit() for c in phone)
    if not _PHONE_CHARS.fullmatch(phone) or not _PHONE_DIGITS[0] <= digits <= _PHONE_DIGITS[1]:
        raise ChartRefused(
            "Enter the mobile phone as digits, with spaces, dashes, brackets or a leading +, "
            f"{_PHONE_DIGITS[0]} to {_PHONE_DIGITS[1]} digits in all."
        )
    return phone


__all__ = ["ChartRefused", "LinkedChart", "edit_contact", "link_chart"]
