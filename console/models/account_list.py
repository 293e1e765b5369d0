"""The portal-account list: filtering, sorting and reading it one window at a time.

Counting, filtering and sorting all happen in SQL; the caller only ever holds the window it
shows. Every ordering ends with the account id, so windows never overlap or skip a row when
many accounts share a name or a state.

At a million accounts the work is in not touching rows that are not shown. A window is read in
two steps: the ids of its rows, from an index of ``portal_accounts`` alone whenever the order
allows (every key but the MRN and the birth date, which live on the chart), however far down
the list it is; then those rows with their charts. A count without a search reads one index.
A search goes through the trigram index where there is one (``console.models.account_search``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, func, select
from sqlalchemy.sql.elements import UnaryExpression

from console.models.account_search import (
    SearchPlan,
    has_search_index,
    like_conditions,
    search_text,
)
from console.models.schema import Patient, PortalAccount
from console.models.states import AccountState


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
    """An ordering of the list; the account id always breaks ties. Names sort by last name,
    then first name, without regard to (ASCII) case."""

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


# The tables' own columns rather than the ORM classes' attributes: reading the list then needs
# no mapper configuration, which would cost the first read of a process some 5 ms.
_account = PortalAccount.__table__.c
_chart = Patient.__table__.c

#: Orders that an index of ``portal_accounts`` gives, with the id as the last column.
_ACCOUNT_SORT: dict[SortKey, tuple[ColumnElement[Any], ...]] = {
    SortKey.ACCOUNT_ID: (),
    SortKey.USERNAME: (_account.username_key,),
    SortKey.LOGIN_EMAIL: (_account.email_key,),
    SortKey.STATE: (_account.state,),
    SortKey.SHARED_EMAIL: (_account.shared_email,),
    SortKey.PATIENT_NAME: (_account.sort_name,),
    SortKey.LAST_LOGIN: (_account.last_login_at,),
}
#: Orders by a column of the chart: read through the join.
_CHART_SORT: dict[SortKey, tuple[ColumnElement[Any], ...]] = {
    SortKey.MRN: (_chart.mrn,),
    SortKey.BIRTH_DATE: (_chart.birth_date,),
}

_ROW_COLUMNS = (
    _account.id,
    _account.username,
    _account.login_email,
    _account.state,
    _account.shared_email,
    _chart.mrn,
    _chart.first_name,
    _chart.last_name,
    _chart.birth_date,
    _account.last_login_at,
)

_ACCOUNTS_WITH_CHARTS = PortalAccount.__table__.join(
    Patient.__table__, _account.patient_id == _chart.id
)

#: How many accounts of the list a window of a search may be looked for in, in list order,
#: before the matches are sorted instead: first a glance, then (when the glance found some)
#: as many as the matches seen promise to need, up to the most.
WALK_GLANCE = 500
WALK_MOST = 20_000


def _sort_columns(sort: AccountSort) -> tuple[ColumnElement[Any], ...]:
    key = sort.key
    return (*(_ACCOUNT_SORT[key] if key in _ACCOUNT_SORT else _CHART_SORT[key]), _account.id)


def _order(columns: Sequence[Any], descending: bool) -> list[UnaryExpression[Any]]:
    return [column.desc() if descending else column.asc() for column in columns]


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


class _ListQuery:
    """The SQL for one filter over one connection: its count and its windows.

    Conditions on the account itself (state, shared e-mail) are read from its indexes. Search
    words go through the trigram index when the database has one (``plan``); otherwise, and
    for the few words the index cannot settle, they are LIKE conditions over the accounts
    joined with their charts (``like_words``).
    """

    def __init__(
        self, connection: Connection, account_filter: AccountFilter, search_index: bool
    ) -> None:
        self.connection = connection
        words = account_filter.search.split()
        use_index = bool(words) and search_index and has_search_index(connection)
        self.plan = SearchPlan.of(words) if use_index else None
        self.like_words: Sequence[str] = self.plan.recheck if self.plan else words
        self.on_account: list[ColumnElement[bool]] = []
        if account_filter.state is not None:
            self.on_account.append(_account.state == account_filter.state.value)
        if account_filter.shared_only:
            self.on_account.append(_account.shared_email.is_(True))
        self.conditions = [*self.on_account, *map(like_conditions, self.like_words)]

    def count(self) -> int:
        """How many accounts match: one index read, unless a search needs more."""
        if self.plan is not None and not self.conditions:
            statement = select(func.count()).select_from(self.plan.candidates().subquery())
        else:
            statement = (
                select(func.count())
                .select_from(self._source(on_chart=False))
                .where(*self.conditions)
            )
        count: int = self.connection.execute(statement).scalar_one()
        return count

    def rows(self, sort: AccountSort, offset: int, limit: int | None) -> Iterator[AccountRow]:
        """The rows ``offset`` to ``offset + limit`` (all from ``offset`` when ``limit`` is
        None) in ``sort`` order."""
        columns = _sort_columns(sort)
        order = _order(columns, sort.descending)
        on_chart = sort.key in _CHART_SORT
        if limit is None:  # the whole list: one pass over it, streamed
            statement = (
                select(*_ROW_COLUMNS)
                .select_from(self._source(on_chart=True))
                .where(*self.conditions)
                .order_by(*order)
                .offset(offset)
            )
            for values in self.connection.execution_options(yield_per=2000).execute(statement):
                yield _to_row(values)
            return
        walked = None
        if self.plan is not None and not on_chart:
            walked = self._walked_ids(columns, sort.descending, offset, limit)
        if walked is not None:
            shown: Any = select(_account.id).where(_account.id.in_(walked))
        else:  # the ids first, from indexes alone where the order allows; then their rows
            shown = (
                select(_account.id)
                .select_from(self._source(on_chart))
                .where(*self.conditions)
                .order_by(*order)
                .offset(offset)
                .limit(limit)
            )
        ids = shown.subquery("shown")
        statement = (
            select(*_ROW_COLUMNS)
            .select_from(ids.join(_ACCOUNTS_WITH_CHARTS, _account.id == ids.c.id))
            .order_by(*order)
        )
        for values in self.connection.execute(statement):
            yield _to_row(values)

    def _source(self, on_chart: bool) -> Any:
        """What the accounts are read from: the search index's matches joined with the
        accounts, and the charts when a LIKE condition or the order needs them."""
        source: Any = PortalAccount.__table__
        if self.plan is not None:
            matches = self.plan.candidates().subquery("matches")
            source = matches.join(source, _account.id == matches.c.id)
        if self.like_words or on_chart:
            source = source.join(Patient.__table__, _account.patient_id == _chart.id)
        return source

    def _walked_ids(
        self, columns: Sequence[Any], descending: bool, offset: int, limit: int
    ) -> list[int] | None:
        """A window of a search found by reading the list in its order, from an index, and
        keeping the accounts whose text holds every word; None when that would take more
        than ``WALK_MOST`` accounts (a search of a few: sorting its matches is quicker).

        A broad search ("example", one letter) has its first windows among the first few
        hundred accounts of the list, whereas sorting its matches means sorting most of the
        clinic. A glance at ``WALK_GLANCE`` accounts tells which case this is."""
        wanted = offset + limit
        if 2 * wanted > WALK_MOST:
            return None
        glance = self._walk(columns, descending, WALK_GLANCE, wanted)
        if len(glance) == wanted:
            return glance[offset:]
        # Enough matches seen to judge, and they promise the window within the most.
        promised = 2 * WALK_GLANCE * wanted // max(len(glance), 1)
        if len(glance) < WALK_GLANCE // 100 or promised > WALK_MOST:
            return None
        ids = self._walk(columns, descending, promised, wanted)
        return ids[offset:] if len(ids) == wanted else None

    def _walk(
        self, columns: Sequence[Any], descending: bool, budget: int, wanted: int
    ) -> list[int]:
        """The first ``wanted`` matches among the first ``budget`` accounts of the list."""
        assert self.plan is not None
        walked = (
            select(*columns)
            .where(*self.on_account)
            .order_by(*_order(columns, descending))
            .limit(budget)
            .subquery("walked")
        )
        source: Any = walked.join(search_text, search_text.c.id == walked.c.id)
        if self.like_words:
            source = source.join(_ACCOUNTS_WITH_CHARTS, _account.id == walked.c.id)
        statement = (
            select(walked.c.id)
            .select_from(source)
            .where(*self.plan.held_by_text(), *map(like_conditions, self.like_words))
            .order_by(*_order([walked.c[column.key] for column in columns], descending))
            .limit(wanted)
        )
        return list(self.connection.execute(statement).scalars())


def count_accounts(
    connection: Connection, account_filter: AccountFilter, *, search_index: bool = True
) -> int:
    """How many accounts match ``account_filter``. ``search_index=False`` searches with the
    plain LIKE conditions even where the trigram index exists (to check it against them)."""
    return _ListQuery(connection, account_filter, search_index).count()


def iter_account_rows(
    connection: Connection,
    account_filter: AccountFilter,
    sort: AccountSort,
    offset: int = 0,
    limit: int | None = None,
    *,
    search_index: bool = True,
) -> Iterator[AccountRow]:
    """The matching accounts in ``sort`` order, from ``offset``; without a ``limit``, the
    whole rest of the list streamed from the server."""
    return _ListQuery(connection, account_filter, search_index).rows(sort, offset, limit)


def account_rows(connection: Connection, account_ids: Collection[int]) -> list[AccountRow]:
    """The rows of the accounts ``account_ids`` as they are now, whatever filter they were
    found by (accounts that no longer exist are left out), in id order."""
    if not account_ids:
        return []
    statement = (
        select(*_ROW_COLUMNS)
        .select_from(_ACCOUNTS_WITH_CHARTS)
        .where(_account.id.in_(sorted(account_ids)))
        .order_by(_account.id)
    )
    return [_to_row(values) for values in connection.execute(statement)]


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

    def rows_by_id(self, account_ids: Collection[int]) -> list[AccountRow]:
        """The accounts ``account_ids`` as they are now (an action changed them)."""
        with self._engine.connect() as connection:
            return account_rows(connection, account_ids)
