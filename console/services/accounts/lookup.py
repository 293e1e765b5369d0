"""Finding the account or chart a person means (an id, a username, an MRN), and explaining
an account the way staff explain it on the phone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models.account_list import AccountFilter, AccountSort, iter_account_rows
from console.models.database import Database
from console.models.schema import Patient, PortalAccount
from console.models.states import ACTIVE_STATES
from console.services.accounts.patient_view import (
    DEFAULT_PORTAL_NAME,
    PatientView,
    what_patient_sees,
)
from console.services.email_rules import Reader
from console.services.errors import DomainError, is_storable
from console.services.permissions import Actor, Permission
from console.services.workstation import Workstation

_MAX_REFERENCE = 150
RESULT_LIMIT = 20
#: Rows read to find ``RESULT_LIMIT`` active accounts (inactive ones are skipped).
_SCAN_LIMIT = 200
_LARGEST_ID = 2**63 - 1  # a BIGINT; SQLite's and PostgreSQL's integer keys fit in it


class NotFound(DomainError):
    """Nothing matches what was typed."""


@dataclass(frozen=True)
class AccountExplanation:
    """An account, its shared-e-mail cluster and what its holder sees at login."""

    account_id: int
    username: str
    state: str
    login_email: str | None
    mrn: str
    #: Usernames of the other active accounts with the same login e-mail.
    shares_email_with: tuple[str, ...]
    view: PatientView


def find_account_id(reader: Reader, reference: str) -> int:
    """The account ``reference`` names: an account id, else a username (any case)."""
    text = reference.strip()
    if text and len(text) <= _MAX_REFERENCE and is_storable(text):
        named = PortalAccount.username_key == text.casefold()
        query = select(PortalAccount.id).where(named)
        if text.isascii() and text.isdigit() and int(text) <= _LARGEST_ID:
            # An id first; a username made of digits only when no account has that id.
            by_id = PortalAccount.id == int(text)
            query = select(PortalAccount.id).where(by_id | named).order_by(by_id.desc())
        found = reader.scalar(query.limit(1))
        if found is not None:
            return int(found)
    raise NotFound(f"No portal account has the id or username '{_shown(text)}'.")


def find_patient_id(reader: Reader, mrn: str) -> int:
    """The chart with MRN ``mrn`` (as typed, without surrounding spaces)."""
    text = mrn.strip()
    usable = text and len(text) <= _MAX_REFERENCE and is_storable(text)
    found = reader.scalar(select(Patient.id).where(Patient.mrn == text)) if usable else None
    if found is None:
        raise NotFound(f"No chart has the MRN '{_shown(text)}'.")
    return int(found)


def explain_account(
    database: Database,
    reference: str,
    *,
    now: dt.datetime,
    portal_name: str = DEFAULT_PORTAL_NAME,
) -> AccountExplanation:
    """State, cluster and what the patient sees for the account ``reference`` names."""
    with Session(database.engine) as session:
        account = session.get_one(PortalAccount, find_account_id(session, reference))
        mrn = session.get_one(Patient, account.patient_id).mrn
        others = session.scalars(
            select(PortalAccount.username)
            .where(
                PortalAccount.email_key == account.email_key,
                PortalAccount.state.in_(ACTIVE_STATES),
                PortalAccount.id != account.id,
            )
            .order_by(PortalAccount.username)
        ).all()
    shared = tuple(others) if account.shared_email else ()
    return AccountExplanation(
        account.id,
        account.username,
        account.state,
        account.login_email,
        mrn,
        shared,
        what_patient_sees(account, portal_name=portal_name, now=now),
    )


@dataclass(frozen=True)
class AccountChoice:
    """An active account that could be given access to the chart."""

    account_id: int
    username: str
    patient_name: str
    mrn: str
    login_email: str | None
    #: The account's version when it was read (``link_chart`` checks it).
    version: int

    @property
    def summary(self) -> str:
        """One line for the results list: "ann.lee — Ann Lee — ann@example.org"."""
        return " — ".join((self.username, self.patient_name, self.login_email or "no login e-mail"))


def find_family_accounts(
    workstation: Workstation,
    actor: Actor,
    text: str,
    *,
    exclude_mrn: str = "",
    limit: int = RESULT_LIMIT,
) -> tuple[AccountChoice, ...]:
    """At most ``limit`` active accounts whose username, name, login e-mail or MRN match
    every word of ``text`` (none for blank text), for a family link. The chart's own account
    (``exclude_mrn``) is left out: it sees its chart already."""
    actor.require(Permission.VIEW_ACCOUNTS)
    if not text.strip():
        return ()
    with workstation.database.engine.connect() as connection:
        rows = [
            row
            for row in iter_account_rows(
                connection, AccountFilter(search=text.strip()), AccountSort(), 0, _SCAN_LIMIT
            )
            if row.state in ACTIVE_STATES and row.mrn != exclude_mrn
        ][:limit]
        if not rows:
            return ()
        versions: dict[int, int] = {
            account_id: version
            for account_id, version in connection.execute(
                select(PortalAccount.id, PortalAccount.version).where(
                    PortalAccount.id.in_([row.account_id for row in rows])
                )
            )
        }
    return tuple(
        AccountChoice(
            row.account_id,
            row.username,
            row.patient_name,
            row.mrn,
            row.login_email,
            versions[row.account_id],
        )
        for row in rows
        if row.account_id in versions
    )


@dataclass(frozen=True)
class ContactFacts:
    """A chart's contact details as they are now."""

    contact_email: str
    mobile_phone: str
    version: int


def chart_contact(workstation: Workstation, actor: Actor, patient_id: int) -> ContactFacts:
    """The chart's contact e-mail and mobile phone ("" for none), with its version."""
    actor.require(Permission.VIEW_ACCOUNTS)
    with Session(workstation.database.engine) as session:
        patient = session.get(Patient, patient_id)
        if patient is None:
            raise NotFound("There is no such chart; it may have been removed.")
        return ContactFacts(
            patient.contact_email or "", patient.mobile_phone or "", patient.version
        )


def _shown(text: str) -> str:
    shown = text if is_storable(text) else text.encode("utf-8", "replace").decode("utf-8")
    return shown if len(shown) <= 40 else shown[:40] + "…"


__all__ = [
    "RESULT_LIMIT",
    "AccountChoice",
    "AccountExplanation",
    "ContactFacts",
    "NotFound",
    "chart_contact",
    "explain_account",
    "find_account_id",
    "find_family_accounts",
    "find_patient_id",
]
