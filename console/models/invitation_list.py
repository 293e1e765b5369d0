"""The invitations list's query: every invitation with its chart, newest first, filtered by
state and by what staff typed. Who may read it is ``services.invitations.listing``.

An invitation still ``pending`` after its expiry can no longer be accepted, but nothing
rewrites its row when the time passes: the list shows it as ``expired``, and the "Expired"
filter finds it, by comparing ``expires_at`` with the workstation's clock in SQL.

One query reads a page (invitations joined to their charts and to the staff user who
created them, ``LIMIT``) and one counts the whole filter, so a clinic with 100,000
invitations reads 500 rows, never all of them. Search uses the indexed columns where it can:
the MRN (unique) and the address's comparison key (a prefix range on ``email_key``); a name
is matched word by word against the first and last names.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from console.models.email_key import email_key
from console.models.schema import Invitation, Patient, StaffUser
from console.models.states import InvitationState

DEFAULT_LIMIT = 500
_MAX_SEARCH = 200
#: Above every character a key can hold: ``key <= x < key + _AFTER`` is "starts with key".
_AFTER = "\U0010ffff"


@dataclass(frozen=True)
class InvitationRow:
    """One invitation as the list shows it."""

    invitation_id: int
    #: The state as staff should read it: a pending invitation past its expiry is "expired".
    state: InvitationState
    target_email: str
    patient_id: int
    first_name: str
    last_name: str
    mrn: str
    created_at: dt.datetime
    expires_at: dt.datetime
    #: The staff user who issued it (None for invitations imported from the old portal).
    created_by: str | None
    version: int

    @property
    def patient_name(self) -> str:
        """First and last name, as the front desk says them."""
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class InvitationPage:
    """The first ``limit`` invitations of a filter, and how many the filter matches."""

    rows: tuple[InvitationRow, ...]
    total: int


def read_invitations(
    session: Session,
    *,
    now: dt.datetime,
    state: InvitationState | None = None,
    search: str = "",
    limit: int = DEFAULT_LIMIT,
) -> InvitationPage:
    """The newest ``limit`` invitations in ``state`` (None: all; pending ones past their
    expiry at ``now`` count as expired) whose chart's name, MRN or target e-mail matches
    ``search`` (any case; empty: all), and the filter's total."""
    conditions = [*_state_filter(state, now), *_search_filter(search)]
    page = (
        select(
            Invitation.id,
            Invitation.state,
            Invitation.target_email,
            Invitation.patient_id,
            Patient.first_name,
            Patient.last_name,
            Patient.mrn,
            Invitation.created_at,
            Invitation.expires_at,
            StaffUser.username,
            Invitation.version,
        )
        .join(Patient, Patient.id == Invitation.patient_id)
        .outerjoin(StaffUser, StaffUser.id == Invitation.created_by_id)
        .where(*conditions)
        # The primary key last, so that equal timestamps keep one order between reads.
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
        .limit(max(limit, 0))
    )
    count = (
        select(func.count())
        .select_from(Invitation)
        .join(Patient, Patient.id == Invitation.patient_id)
        .where(*conditions)
    )
    total = int(session.scalar(count) or 0)
    rows = tuple(
        InvitationRow(
            invitation_id=row[0],
            state=_shown_state(row[1], row[8], now),
            target_email=row[2],
            patient_id=row[3],
            first_name=row[4],
            last_name=row[5],
            mrn=row[6],
            created_at=row[7],
            expires_at=row[8],
            created_by=row[9],
            version=row[10],
        )
        for row in session.execute(page)
    )
    return InvitationPage(rows, total)


def _shown_state(stored: str, expires_at: dt.datetime, now: dt.datetime) -> InvitationState:
    state = InvitationState(stored)
    if state is InvitationState.PENDING and expires_at <= now:
        return InvitationState.EXPIRED
    return state


def _state_filter(state: InvitationState | None, now: dt.datetime) -> list[ColumnElement[bool]]:
    pending = Invitation.state == InvitationState.PENDING.value
    if state is None:
        return []
    if state is InvitationState.PENDING:
        return [pending, Invitation.expires_at > now]
    if state is InvitationState.EXPIRED:
        return [
            or_(
                Invitation.state == InvitationState.EXPIRED.value,
                and_(pending, Invitation.expires_at <= now),
            )
        ]
    return [Invitation.state == state.value]


def _starts_with(column: InstrumentedAttribute[str], prefix: str) -> ColumnElement[bool]:
    # A range rather than LIKE: it uses the column's index on SQLite and PostgreSQL alike.
    return and_(column >= prefix, column < prefix + _AFTER)


def _search_filter(search: str) -> list[ColumnElement[bool]]:
    text = " ".join(search.split())[:_MAX_SEARCH]
    if not text:
        return []
    key = email_key(text) or ""
    choices: list[ColumnElement[bool]] = [
        Patient.mrn == text,
        _starts_with(Invitation.email_key, key),
    ]
    if "@" not in text:
        # Every word the start of the first or the last name: "gra hop", "Hopper".
        words = [
            or_(
                func.lower(Patient.first_name).startswith(word, autoescape=True),
                func.lower(Patient.last_name).startswith(word, autoescape=True),
            )
            for word in text.lower().split()
        ]
        choices.append(and_(*words))
    return [or_(*choices)]


__all__ = ["DEFAULT_LIMIT", "InvitationPage", "InvitationRow", "read_invitations"]
