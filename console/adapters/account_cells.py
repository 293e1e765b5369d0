"""How one account reads in the table: its columns, headers, labels and tips.

Plain text only (adapters use QtCore alone); the view's delegate turns the roles into
badges and colours.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum

from console.models.account_list import AccountRow, SortKey
from console.models.states import AccountState


class AccountColumn(IntEnum):
    """The table's columns, in display order."""

    NAME = 0
    MRN = 1
    BORN = 2
    USERNAME = 3
    LOGIN_EMAIL = 4
    STATE = 5
    SHARED_EMAIL = 6
    LAST_LOGIN = 7


@dataclass(frozen=True)
class ColumnSpec:
    """A column's header, the SQL order its header click asks for, and its header tip."""

    title: str
    sort_key: SortKey
    tip: str


COLUMNS: dict[AccountColumn, ColumnSpec] = {
    AccountColumn.NAME: ColumnSpec("Name", SortKey.PATIENT_NAME, "Patient's name (by last name)"),
    AccountColumn.MRN: ColumnSpec("MRN", SortKey.MRN, "Medical record number of the chart"),
    AccountColumn.BORN: ColumnSpec("Born", SortKey.BIRTH_DATE, "Patient's date of birth"),
    AccountColumn.USERNAME: ColumnSpec("Username", SortKey.USERNAME, "Portal username"),
    AccountColumn.LOGIN_EMAIL: ColumnSpec(
        "Login e-mail", SortKey.LOGIN_EMAIL, "Address the patient logs in with"
    ),
    AccountColumn.STATE: ColumnSpec(
        "State", SortKey.STATE, "Where the account is in the migration"
    ),
    AccountColumn.SHARED_EMAIL: ColumnSpec(
        "Shared e-mail", SortKey.SHARED_EMAIL, "Login e-mail also used by another active account"
    ),
    AccountColumn.LAST_LOGIN: ColumnSpec(
        "Last login", SortKey.LAST_LOGIN, "Last successful portal login (local time)"
    ),
}

STATE_LABELS: dict[AccountState, str] = {
    AccountState.LEGACY: "Legacy",
    AccountState.RESET_PENDING: "Reset pending",
    AccountState.MIGRATED: "Migrated",
    AccountState.REVOKED: "Revoked",
    AccountState.DEACTIVATED: "Deactivated",
}

STATE_DESCRIPTIONS: dict[AccountState, str] = {
    AccountState.LEGACY: "Created before the cut-over; the patient has not reset the password yet",
    AccountState.RESET_PENDING: "A reset e-mail was sent; waiting for a new password",
    AccountState.MIGRATED: "A password meeting the new policy is set",
    AccountState.REVOKED: "Staff ended the access; a new invitation creates a new account",
    AccountState.DEACTIVATED: "Closed at the patient's request",
}

SHARED_LABEL = "Shared"
SHARED_TIP = (
    "This login e-mail is also used by another active account: the patient cannot log in "
    "until one of the accounts gets its own address."
)
NEVER_LOGGED_IN = "Never"


def format_last_login(value: dt.datetime | None) -> str:
    """A last-login time as shown in the table: local time to the minute, or "Never"."""
    if value is None:
        return NEVER_LOGGED_IN
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


def cell_text(row: AccountRow, column: AccountColumn) -> str:
    """What a cell shows."""
    match column:
        case AccountColumn.NAME:
            return row.patient_name
        case AccountColumn.MRN:
            return row.mrn
        case AccountColumn.BORN:
            return row.birth_date.isoformat()
        case AccountColumn.USERNAME:
            return row.username
        case AccountColumn.LOGIN_EMAIL:
            return row.login_email or ""
        case AccountColumn.STATE:
            return STATE_LABELS[row.state]
        case AccountColumn.SHARED_EMAIL:
            return SHARED_LABEL if row.shared_email else ""
        case AccountColumn.LAST_LOGIN:
            return format_last_login(row.last_login_at)


def row_texts(row: AccountRow) -> tuple[str, ...]:
    """What every cell of ``row`` shows, in column order: worked out once per row shown, as
    a table asks for each cell on every paint."""
    return tuple(cell_text(row, column) for column in AccountColumn)


def cell_tooltip(row: AccountRow, column: AccountColumn) -> str | None:
    """The tip a cell shows on hover, where it has one."""
    match column:
        case AccountColumn.STATE:
            return STATE_DESCRIPTIONS[row.state]
        case AccountColumn.SHARED_EMAIL:
            return SHARED_TIP if row.shared_email else None
        case AccountColumn.LOGIN_EMAIL:
            return row.login_email or "No login e-mail on file"
        case AccountColumn.LAST_LOGIN:
            if row.last_login_at is None:
                return "Has never logged in to the portal"
            return row.last_login_at.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
        case AccountColumn.NAME | AccountColumn.USERNAME:
            return cell_text(row, column)
    return None
