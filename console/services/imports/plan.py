"""What importing a read file would change (issue 13, points 3 and 4), worked out against the
database and writing nothing: the dry run's answer, and what the import then carries out.

Charts are matched by MRN and accounts by username (any case). A chart is new, updated (and
which of its details changed) or unchanged; an account is new, has a new login e-mail, a new
state, or none of these. Two traps are named for staff: an account that the export gives to
another chart than the one it belongs to (imported for neither), and a chart whose contact
e-mail differs from its account's login e-mail after the import (the stale address that
other systems send resets to).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models.email_key import email_key
from console.models.schema import Patient, PortalAccount
from console.services.imports.tabular_file import ReadFile, RowProblem, SourceRow

_CHUNK = 500
_T = TypeVar("_T")


@dataclass(frozen=True)
class ChartChange:
    """A chart the import updates, and which of its details change."""

    row: SourceRow
    changed: tuple[str, ...]


@dataclass(frozen=True)
class AccountChange:
    """An account the import updates: its new login e-mail and/or state."""

    row: SourceRow
    login_email_changed: bool
    state_changed: bool


@dataclass
class ImportPlan:
    """Everything an import of a read file would do, by kind."""

    new_charts: list[SourceRow] = field(default_factory=list)
    updated_charts: list[ChartChange] = field(default_factory=list)
    unchanged_charts: int = 0
    new_accounts: list[SourceRow] = field(default_factory=list)
    updated_accounts: list[AccountChange] = field(default_factory=list)
    unchanged_accounts: int = 0
    #: Rows whose account the import leaves alone, and why.
    account_problems: list[RowProblem] = field(default_factory=list)
    #: Charts whose contact e-mail will differ from their account's login e-mail.
    stale_addresses: list[SourceRow] = field(default_factory=list)

    @property
    def changes_nothing(self) -> bool:
        """Whether importing would leave the database as it is."""
        return not (
            self.new_charts or self.updated_charts or self.new_accounts or self.updated_accounts
        )


def plan_import(session: Session, read: ReadFile) -> ImportPlan:
    """What importing ``read`` would change in the database ``session`` reads."""
    plan = ImportPlan()
    for rows in _chunks(read.rows, _CHUNK):
        charts = _charts(session, [r.chart.mrn for r in rows])
        accounts = _accounts(session, [r.account.username for r in rows if r.account])
        for row in rows:
            chart = charts.get(row.chart.mrn.casefold())
            _plan_chart(plan, row, chart)
            _plan_account(plan, row, chart, accounts)
    return plan


def _plan_chart(plan: ImportPlan, row: SourceRow, chart: Patient | None) -> None:
    if chart is None:
        plan.new_charts.append(row)
        return
    wanted = row.chart
    changed = [
        what
        for what, before, after in (
            ("name", (chart.first_name, chart.last_name), (wanted.first_name, wanted.last_name)),
            ("date of birth", chart.birth_date, wanted.birth_date),
            ("contact e-mail", email_key(chart.contact_email), email_key(wanted.contact_email)),
            ("mobile phone", chart.mobile_phone or None, wanted.mobile_phone),
        )
        if before != after
    ]
    if changed:
        plan.updated_charts.append(ChartChange(row, tuple(changed)))
    else:
        plan.unchanged_charts += 1


def _plan_account(
    plan: ImportPlan,
    row: SourceRow,
    chart: Patient | None,
    accounts: dict[str, PortalAccount],
) -> None:
    wanted = row.account
    if wanted is None:
        return
    account = accounts.get(wanted.username.casefold())
    if account is not None and (chart is None or account.patient_id != chart.id):
        plan.account_problems.append(
            RowProblem(row.row, f"the account '{wanted.username}' belongs to another chart")
        )
        return
    if row.chart.contact_email and email_key(row.chart.contact_email) != email_key(
        wanted.login_email
    ):
        plan.stale_addresses.append(row)
    if account is None:
        plan.new_accounts.append(row)
        return
    login_changed = email_key(account.login_email) != email_key(wanted.login_email)
    state_changed = account.state != wanted.state.value
    if login_changed or state_changed:
        plan.updated_accounts.append(AccountChange(row, login_changed, state_changed))
    else:
        plan.unchanged_accounts += 1


def _charts(session: Session, mrns: Sequence[str]) -> dict[str, Patient]:
    found = session.scalars(select(Patient).where(Patient.mrn.in_(set(mrns))))
    return {patient.mrn.casefold(): patient for patient in found}


def _accounts(session: Session, usernames: Sequence[str]) -> dict[str, PortalAccount]:
    keys = {name.casefold() for name in usernames}
    found = session.scalars(select(PortalAccount).where(PortalAccount.username_key.in_(keys)))
    return {account.username_key: account for account in found}


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def counts(plan: ImportPlan, read: ReadFile) -> dict[str, int]:
    """The dry run's figures, as the report and the audit event give them."""
    return {
        "new_charts": len(plan.new_charts),
        "updated_charts": len(plan.updated_charts),
        "unchanged_charts": plan.unchanged_charts,
        "new_accounts": len(plan.new_accounts),
        "updated_accounts": len(plan.updated_accounts),
        "unchanged_accounts": plan.unchanged_accounts,
        "rejected": len(read.rejected),
        "warnings": len(read.warnings) + len(plan.account_problems),
    }


__all__ = ["AccountChange", "ChartChange", "ImportPlan", "counts", "plan_import"]
