"""The portal-account list: filtering, sorting and reading it one window at a time.

Counting, filtering and sorting all happen in SQL; the caller only ever holds the window it
shows. Every ordering ends with the account id, so windows never overlap or skip a row when
many accounts share a name or a state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, and_, func, or_, select
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.elements import UnaryExpression

from console.models.schema import AccountState, Patient, PortalAccount


@dataclass(frozen=True)
class AccountFilter:
    """What the staff member asked to see. Every word of ``search`` must appear in the
    patient's name, the login e-mail, the username or the MRN."""

    search: str = ""
    state: AccountState | None = None
    shared_only: bool = False


class SortKey(StrEnum):
    """Columns the list can be ordered by."""

    ACCOUNT_ID = "account_id"
    USERNAME = "username"
    LOGIN_EMAIL = "login_email"
    STATE = "state"
    SHARED_EMAIL = "shared_email"
    MRN = "mrn"
    PATIENT_NAME = "patient_name"
    BIRTH_DATE = "birth_date"
    LAST_LOGIN = "last_login_at"


@dataclass(frozen=True)
class AccountSort:
    """An ordering of the list; the account id always breaks ties."""

    key: SortKey = SortKey.PATIENT_NAME
    descending: bool = False


@dataclass(frozen=True)
class AccountRow:
    """One line of the account list."""

    account_id: int
    username: str
    login_email: str | None
    state: AccountState
    shared_email: bool
    mrn: str
    patient_name: str
    birth_date: dt.date
    last_login_at: dt.datetime | None


_SORT_COLUMNS: dict[SortKey, tuple[QueryableAttribute[Any], ...]] = {
    SortKey.ACCOUNT_ID: (),
    SortKey.USERNAME: (PortalAccount.username_key,),
    SortKey.LOGIN_EMAIL: (PortalAccount.email_key,),
    SortKey.STATE: (PortalAccount.state,),
    SortKey.SHARED_EMAIL: (PortalAccount.shared_email,),
    SortKey.MRN: (Patient.mrn,),
    SortKey.PATIENT_NAME: (Patient.last_name, Patient.first_name),
    SortKey.BIRTH_DATE: (Patient.birth_date,),
    SortKey.LAST_LOGIN: (PortalAccount.last_login_at,),
}

_ROW_COLUMNS = (
    PortalAccount.id,
    PortalAccount.username,
    PortalAccount.login_email,
    PortalAccount.state,
    PortalAccount.shared_email,
    Patient.mrn,
    Patient.first_name,
    Patient.last_name,
    Patient.birth_date,
    PortalAccount.last_login_at,
)


def _where(account_filter: AccountFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if account_filter.state is not None:
        conditions.append(PortalAccount.state == account_filter.state.value)
    if account_filter.shared_only:
        conditions.append(PortalAccount.shared_email.is_(True))
    for word in account_filter.search.split():
        folded = word.casefold()
        conditions.append(
            or_(
                Patient.last_name.icontains(word, autoescape=True),
                Patient.first_name.icontains(word, autoescape=True),
                PortalAccount.email_key.contains(folded, autoescape=True),
                PortalAccount.username_key.contains(folded, autoescape=True),
                Patient.mrn.icontains(word, autoescape=True),
            )
        )
    return conditions


_ACCOUNTS_WITH_CHARTS = PortalAccount.__table__.join(
    Patient.__table__, PortalAccount.patient_id == Patient.id
)


def _order(sort: AccountSort) -> list[UnaryExpression[Any]]:
    columns = (*_SORT_COLUMNS[sort.key], PortalAccount.id)
    return [column.desc() if sort.descending else column.asc() for column in columns]


def _to_row(values: Sequence[Any]) -> AccountRow:
    (account_id, username, email, state, shared, mrn, first, last, born, last_login) = values
    return AccountRow(
        account_id=account_id,
        username=username,
        login_email=email,
        state=AccountState(state),
        shared_email=bool(shared),
        mrn=mrn,
        patient_name=f"{first} {last}",
        birth_date=born,
        last_login_at=last_login,
    )


def count_accounts(connection: Connection, account_filter: AccountFilter) -> int:
    """How many accounts match ``account_filter``."""
    statement = (
        select(func.count())
        .select_from(_ACCOUNTS_WITH_CHARTS)
        .where(and_(True, *_where(account_filter)))
    )
    count: int = connection.execute(statement).scalar_one()
    return count


def iter_account_rows(
    connection: Connection,
    account_filter: AccountFilter,
    sort: AccountSort,
    offset: int = 0,
    limit: int | None = None,
) -> Iterator[AccountRow]:
    """The matching accounts in ``sort`` order, from ``offset``, streamed from the server."""
    statement = (
        select(*_ROW_COLUMNS)
        .select_from(_ACCOUNTS_WITH_CHARTS)
        .where(and_(True, *_where(account_filter)))
        .order_by(*_order(sort))
        .offset(offset)
        .limit(limit)
    )
    for values in connection.execution_options(yield_per=2000).execute(statement):
        yield _to_row(values)


class AccountList:
    """The account list as a thread-safe source of windows: every call borrows its own
    connection, so a worker thread can fetch while the window goes on painting."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def count(self, account_filter: AccountFilter) -> int:
        """How many accounts match."""
        with self._engine.connect() as connection:
            return count_accounts(connection, account_filter)

    def window(
        self, account_filter: AccountFilter, sort: AccountSort, offset: int, limit: int
    ) -> list[AccountRow]:
        """Rows ``offset`` to ``offset + limit`` of the sorted, filtered list."""
        with self._engine.connect() as connection:
            return list(iter_account_rows(connection, account_filter, sort, offset, limit))
