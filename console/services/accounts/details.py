"""Everything the account details panel shows about one portal account, read at once.

One read-only session and a handful of indexed look-ups (the account with its chart, the
accounts sharing its address, the charts it can see, the chart's invitations, the last audit
events), so opening an account stays quick on a database of a hundred thousand patients. The
answer is a frozen value: the view never holds a row or a session.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models.ages import age_on
from console.models.schema import Access, AuditEvent, Invitation, Patient, PortalAccount
from console.models.states import ACTIVE_STATES, InvitationState
from console.services.accounts.lookup import NotFound
from console.services.accounts.patient_view import LoginSituation, PatientView, what_patient_sees
from console.services.permissions import Actor, Permission
from console.services.workstation import Workstation

#: How many audit events the history shows (the audit log view has the rest).
HISTORY_LENGTH = 20
#: How many invitations of the chart are shown, newest first.
INVITATION_LIMIT = 20


@dataclass(frozen=True)
class ChartSummary:
    """The chart of the person who holds the account."""

    patient_id: int
    mrn: str
    first_name: str
    last_name: str
    birth_date: dt.date
    age: int
    contact_email: str | None
    mobile_phone: str | None
    version: int

    @property
    def full_name(self) -> str:
        """First and last name, as the front desk says them."""
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class AccountSummary:
    """The portal login itself."""

    account_id: int
    username: str
    login_email: str | None
    state: str
    shared_email: bool
    #: Usernames of the other active accounts with the same login e-mail (empty unless
    #: ``shared_email``).
    shares_email_with: tuple[str, ...]
    last_login_at: dt.datetime | None
    failed_logins: int
    locked_until: dt.datetime | None
    message_count: int
    intake_form_count: int
    version: int


@dataclass(frozen=True)
class VisibleChart:
    """A chart the account can see (or could, until the access ended)."""

    access_id: int
    patient_id: int
    relation: str
    mrn: str
    full_name: str
    age: int
    needs_review: bool
    ended: bool


@dataclass(frozen=True)
class InvitationSummary:
    """An invitation sent from the chart."""

    invitation_id: int
    state: str
    target_email: str
    expires_at: dt.datetime
    created_at: dt.datetime
    #: Still ``pending`` in the database but past its expiry: it can no longer be accepted.
    lapsed: bool


@dataclass(frozen=True)
class HistoryEntry:
    """One audit event about the account or its chart (without its details)."""

    event_id: int
    occurred_at: dt.datetime
    staff_username: str | None
    action: str
    outcome: str
    #: 'account' or 'patient': what the event was about.
    target_type: str


@dataclass(frozen=True)
class AccountDetails:
    """One account as the details panel shows it, read at ``read_at``."""

    chart: ChartSummary
    account: AccountSummary
    can_see: tuple[VisibleChart, ...]
    invitations: tuple[InvitationSummary, ...]
    #: Newest first, at most ``HISTORY_LENGTH``.
    history: tuple[HistoryEntry, ...]
    #: What the patient sees at login, with a suggested fix that names the cluster's size.
    patient_view: PatientView
    read_at: dt.datetime

    @property
    def account_id(self) -> int:
        """The account's id."""
        return self.account.account_id


def account_details(workstation: Workstation, actor: Actor, account_id: int) -> AccountDetails:
    """The account ``account_id`` with its chart, the charts it can see, the chart's
    invitations, its recent history and what its holder sees at login. Read-only; needs
    ``VIEW_ACCOUNTS``; ``NotFound`` when there is no such account (any more)."""
    actor.require(Permission.VIEW_ACCOUNTS)
    now = workstation.clock.now()
    with Session(workstation.database.engine) as session:
        row = session.execute(
            select(PortalAccount, Patient)
            .join(Patient, Patient.id == PortalAccount.patient_id)
            .where(PortalAccount.id == account_id)
        ).one_or_none()
        if row is None:
            raise NotFound(
                "This portal account no longer exists; search again to find the patient."
            )
        account, patient = row
        sharers = _sharers(session, account) if account.shared_email else ()
        can_see = _visible_charts(session, account.id, now.date())
        invitations = _invitations(session, patient.id, now)
        history = _history(session, account.id, patient.id)
        view = what_patient_sees(account, portal_name=workstation.rules.portal_name, now=now)
        chart = ChartSummary(
            patient.id,
            patient.mrn,
            patient.first_name,
            patient.last_name,
            patient.birth_date,
            age_on(patient.birth_date, now.date()),
            patient.contact_email,
            patient.mobile_phone,
            patient.version,
        )
        summary = AccountSummary(
            account.id,
            account.username,
            account.login_email,
            account.state,
            account.shared_email,
            sharers,
            account.last_login_at,
            account.failed_logins,
            account.locked_until,
            account.message_count,
            account.intake_form_count,
            account.version,
        )
    return AccountDetails(
        chart, summary, can_see, invitations, history, _with_cluster_fix(view, sharers), now
    )


def shared_email_fix(others: int) -> str:
    """The suggested fix for an account whose address ``others`` other accounts use too."""
    accounts = "account" if others == 1 else "accounts"
    return (
        f"Shares its e-mail with {others} other {accounts} — re-invite with a new e-mail, "
        "or link to the guardian's account."
    )


def _with_cluster_fix(view: PatientView, sharers: tuple[str, ...]) -> PatientView:
    if view.situation is not LoginSituation.SHARED_EMAIL or not sharers:
        return view
    return dataclasses.replace(view, suggested_fix=shared_email_fix(len(sharers)))


def _sharers(session: Session, account: PortalAccount) -> tuple[str, ...]:
    names = session.scalars(
        select(PortalAccount.username)
        .where(
            PortalAccount.email_key == account.email_key,
            PortalAccount.state.in_(ACTIVE_STATES),
            PortalAccount.id != account.id,
        )
        .order_by(PortalAccount.username_key)
    )
    return tuple(names)


def _visible_charts(session: Session, account_id: int, today: dt.date) -> tuple[VisibleChart, ...]:
    rows = session.execute(
        select(Access, Patient)
        .join(Patient, Patient.id == Access.patient_id)
        .where(Access.account_id == account_id)
        # Current access first (self, then the others by name), ended access last.
        .order_by(
            Access.revoked_at.is_not(None),
            Access.relation != "self",
            Patient.last_name,
            Patient.first_name,
            Access.id,
        )
    )
    return tuple(
        VisibleChart(
            access.id,
            patient.id,
            access.relation,
            patient.mrn,
            f"{patient.first_name} {patient.last_name}",
            age_on(patient.birth_date, today),
            access.needs_review,
            access.revoked_at is not None,
        )
        for access, patient in rows
    )


def _invitations(
    session: Session, patient_id: int, now: dt.datetime
) -> tuple[InvitationSummary, ...]:
    rows = session.scalars(
        select(Invitation)
        .where(Invitation.patient_id == patient_id)
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
        .limit(INVITATION_LIMIT)
    )
    return tuple(
        InvitationSummary(
            invitation.id,
            invitation.state,
            invitation.target_email,
            invitation.expires_at,
            invitation.created_at,
            invitation.state == InvitationState.PENDING and invitation.expires_at <= now,
        )
        for invitation in rows
    )


def _history(session: Session, account_id: int, patient_id: int) -> tuple[HistoryEntry, ...]:
    # One indexed look-up per target, each cut to the last HISTORY_LENGTH, then merged: an
    # OR over the two targets could make the database walk the whole log by time.
    events: list[tuple[int, HistoryEntry]] = []
    for target_type, target_id in (("account", account_id), ("patient", patient_id)):
        rows = session.execute(
            select(
                AuditEvent.id,
                AuditEvent.seq,
                AuditEvent.occurred_at,
                AuditEvent.staff_username,
                AuditEvent.action,
                AuditEvent.outcome,
            )
            .where(AuditEvent.target_type == target_type, AuditEvent.target_id == str(target_id))
            .order_by(AuditEvent.seq.desc())
            .limit(HISTORY_LENGTH)
        )
        events.extend(
            (seq, HistoryEntry(event_id, when, staff, action, outcome, target_type))
            for event_id, seq, when, staff, action, outcome in rows
        )
    # ``seq`` is the order the events were chained in, so the order they happened in.
    events.sort(key=lambda numbered: numbered[0], reverse=True)
    return tuple(entry for _seq, entry in events[:HISTORY_LENGTH])


__all__ = [
    "HISTORY_LENGTH",
    "AccountDetails",
    "AccountSummary",
    "ChartSummary",
    "HistoryEntry",
    "InvitationSummary",
    "VisibleChart",
    "account_details",
    "shared_email_fix",
]
