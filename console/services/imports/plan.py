"""What importing a batch of entries would change (issue 13, points 3 and 4), worked out
against the database and writing nothing: the dry run's answer, and what the import then
carries out in the same transaction.

Charts are matched by MRN and accounts by username (any case). The EHR's export is the
source of a chart's details, so a chart takes every detail that changed. An account takes
the export's login e-mail and status only while it is still ``legacy`` in the console: once
staff or the patient moved it on (reset pending, migrated, revoked, deactivated), the export
cannot undo that, and a difference is reported as kept. Two traps are named for staff: an
account that the export gives to another chart than its own (left alone), and a chart whose
contact e-mail differs from its account's login e-mail after the import (the stale address
other systems send resets to).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models.email_key import email_key
from console.models.schema import Patient, PortalAccount
from console.models.states import ACTIVE_STATES, AccountState
from console.services.imports.source import Entry, RowProblem, SourceRow


class Kind(StrEnum):
    """What a line of the import's report says."""

    REJECTED = "rejected"
    WARNING = "warning"
    NEW_CHART = "new chart"
    CHART_CHANGED = "name or date of birth changed"
    CONTACT_CHANGED = "contact e-mail or phone changed"
    NEW_ACCOUNT = "new account"
    LOGIN_EMAIL_CHANGED = "login e-mail changed"
    STATUS_CHANGED = "status changed"
    KEPT = "kept as the console has it"
    STALE_ADDRESS = "contact e-mail differs from login e-mail"


@dataclass(frozen=True)
class ReportLine:
    """One thing the import did (or would do) to one row, in the clinic's words."""

    row: int
    kind: Kind
    mrn: str = ""
    username: str = ""
    detail: str = ""


@dataclass(frozen=True)
class ChartUpdate:
    patient_id: int
    row: SourceRow


@dataclass(frozen=True)
class AccountUpdate:
    account_id: int
    row: SourceRow
    #: The export's login e-mail and status, as the account takes them.
    login_email: str | None
    state: AccountState


@dataclass
class BatchPlan:
    """What one batch of entries changes, and the report's lines and figures for it."""

    new_charts: list[SourceRow] = field(default_factory=list)
    chart_updates: list[ChartUpdate] = field(default_factory=list)
    #: Accounts to add, with the chart id each belongs to (None: a chart added in this batch).
    new_accounts: list[tuple[SourceRow, int | None]] = field(default_factory=list)
    account_updates: list[AccountUpdate] = field(default_factory=list)
    lines: list[ReportLine] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def writes_something(self) -> bool:
        return bool(
            self.new_charts or self.chart_updates or self.new_accounts or self.account_updates
        )


#: The figures every import report gives, in the order it gives them.
FIGURES = (
    "entries",
    "new_charts",
    "updated_charts",
    "unchanged_charts",
    "new_accounts",
    "updated_accounts",
    "unchanged_accounts",
    "rejected",
    "warnings",
    "contact_changed",
    "login_email_changed",
    "status_changed",
    "kept",
    "stale_addresses",
)

_COUNTED = {
    Kind.REJECTED: "rejected",
    Kind.WARNING: "warnings",
    Kind.CONTACT_CHANGED: "contact_changed",
    Kind.LOGIN_EMAIL_CHANGED: "login_email_changed",
    Kind.STATUS_CHANGED: "status_changed",
    Kind.KEPT: "kept",
    Kind.STALE_ADDRESS: "stale_addresses",
}


def plan_batch(session: Session, entries: Sequence[Entry]) -> BatchPlan:
    """What importing ``entries`` would change in the database ``session`` reads."""
    plan = BatchPlan()
    rows = [entry for entry in entries if isinstance(entry, SourceRow)]
    charts = _charts(session, [row.chart.mrn for row in rows])
    accounts = _accounts(session, [row.account.username for row in rows if row.account])
    for entry in entries:
        plan.counts["entries"] += 1
        if isinstance(entry, RowProblem):
            _line(plan, ReportLine(entry.row, Kind.REJECTED, detail=entry.reason))
            continue
        for said in entry.warnings:
            _line(plan, _about(entry, Kind.WARNING, said))
        chart = charts.get(entry.chart.mrn)
        _plan_chart(plan, entry, chart)
        _plan_account(plan, entry, chart, accounts)
    return plan


def _line(plan: BatchPlan, line: ReportLine) -> None:
    plan.lines.append(line)
    if counted := _COUNTED.get(line.kind):
        plan.counts[counted] += 1


def _about(row: SourceRow, kind: Kind, detail: str = "") -> ReportLine:
    username = row.account.username if row.account else ""
    return ReportLine(row.row, kind, row.chart.mrn, username, detail)


def _plan_chart(plan: BatchPlan, row: SourceRow, chart: Patient | None) -> None:
    if chart is None:
        plan.new_charts.append(row)
        plan.counts["new_charts"] += 1
        _line(plan, _about(row, Kind.NEW_CHART))
        return
    wanted = row.chart
    named = [
        what
        for what, before, after in (
            ("name", (chart.first_name, chart.last_name), (wanted.first_name, wanted.last_name)),
            ("date of birth", chart.birth_date, wanted.birth_date),
        )
        if before != after
    ]
    contact = [
        what
        for what, before, after in (
            ("contact e-mail", email_key(chart.contact_email), email_key(wanted.contact_email)),
            ("mobile phone", chart.mobile_phone or None, wanted.mobile_phone),
        )
        if before != after
    ]
    if named:
        _line(plan, _about(row, Kind.CHART_CHANGED, ", ".join(named)))
    if contact:
        _line(plan, _about(row, Kind.CONTACT_CHANGED, ", ".join(contact)))
    if named or contact:
        plan.chart_updates.append(ChartUpdate(chart.id, row))
        plan.counts["updated_charts"] += 1
    else:
        plan.counts["unchanged_charts"] += 1


def _plan_account(
    plan: BatchPlan, row: SourceRow, chart: Patient | None, accounts: dict[str, PortalAccount]
) -> None:
    wanted = row.account
    if wanted is None:
        return
    account = accounts.get(wanted.username.casefold())
    if account is None:
        plan.new_accounts.append((row, chart.id if chart else None))
        plan.counts["new_accounts"] += 1
        _line(plan, _about(row, Kind.NEW_ACCOUNT, wanted.state.value))
        _stale(plan, row, wanted.login_email, wanted.state)
        return
    if chart is None or account.patient_id != chart.id:
        said = f"the account '{wanted.username}' belongs to another chart; left as it is"
        _line(plan, _about(row, Kind.WARNING, said))
        return
    login_changed = email_key(account.login_email) != email_key(wanted.login_email)
    state_changed = account.state != wanted.state.value
    if not (login_changed or state_changed):
        plan.counts["unchanged_accounts"] += 1
        _stale(plan, row, account.login_email, AccountState(account.state))
        return
    if account.state != AccountState.LEGACY:
        export_says = [
            f"login e-mail {wanted.login_email or '(none)'}" if login_changed else "",
            f"status {wanted.state.value}" if state_changed else "",
        ]
        detail = (
            f"the console has it {account.state}; the export's "
            f"{' and '.join(s for s in export_says if s)} is not taken"
        )
        _line(plan, _about(row, Kind.KEPT, detail))
        plan.counts["unchanged_accounts"] += 1
        _stale(plan, row, account.login_email, AccountState(account.state))
        return
    if login_changed:
        was = account.login_email or "(none)"
        _line(plan, _about(row, Kind.LOGIN_EMAIL_CHANGED, f"{was} → {wanted.login_email}"))
    if state_changed:
        _line(plan, _about(row, Kind.STATUS_CHANGED, f"{account.state} → {wanted.state.value}"))
    plan.account_updates.append(AccountUpdate(account.id, row, wanted.login_email, wanted.state))
    plan.counts["updated_accounts"] += 1
    _stale(plan, row, wanted.login_email, wanted.state)


def _stale(plan: BatchPlan, row: SourceRow, login_email: str | None, state: AccountState) -> None:
    """Name the chart whose contact e-mail will differ from its active account's login."""
    contact = row.chart.contact_email
    if state in ACTIVE_STATES and contact and email_key(contact) != email_key(login_email):
        detail = f"chart {contact}, login {login_email or '(none)'}"
        _line(plan, _about(row, Kind.STALE_ADDRESS, detail))


def _charts(session: Session, mrns: Sequence[str]) -> dict[str, Patient]:
    found = session.scalars(select(Patient).where(Patient.mrn.in_(set(mrns))))
    return {patient.mrn: patient for patient in found}


def _accounts(session: Session, usernames: Sequence[str]) -> dict[str, PortalAccount]:
    keys = {name.casefold() for name in usernames}
    found = session.scalars(select(PortalAccount).where(PortalAccount.username_key.in_(keys)))
    return {account.username_key: account for account in found}


__all__ = [
    "FIGURES",
    "AccountUpdate",
    "BatchPlan",
    "ChartUpdate",
    "Kind",
    "ReportLine",
    "plan_batch",
]
