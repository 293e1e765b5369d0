"""The account list: counting, filtering, sorting and windows, checked against the same list
worked out in Python, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import pytest
from sqlalchemy.orm import Session

from console.models.account_list import (
    AccountFilter,
    AccountList,
    AccountRow,
    AccountSort,
    SortKey,
    count_accounts,
    iter_account_rows,
)
from console.models.database import Database, open_database, resolve_database_url
from console.models.email_key import email_key
from console.models.states import AccountState
from tests.factories import add_account, add_patient
from tests.postgres_server import PostgresServer

ACTIVE = {"legacy", "reset_pending", "migrated"}


def ascii_lower(text: str) -> str:
    """What SQL's lower() does on SQLite (and on PostgreSQL with the C locale)."""
    return "".join(c.lower() if "A" <= c <= "Z" else c for c in text)


@dataclass(frozen=True)
class Stored:
    """An account as stored, in plain values to work the expected list out from."""

    id: int
    username: str
    login_email: str | None
    state: str
    mrn: str
    first_name: str
    last_name: str
    birth_date: dt.date
    last_login_at: dt.datetime | None
    shared_email: bool = False

    @property
    def searchable(self) -> tuple[str, ...]:
        username_key = self.username.strip().casefold()
        return (
            self.last_name,
            self.first_name,
            email_key(self.login_email) or "",
            username_key,
            self.mrn,
        )


# Small pools, so that many rows tie on every sort column and only the id tells them apart.
LAST_NAMES = ["Smith", "smith", "Adams", "van Dyk", "O'Neil", "Zhou"]
FIRST_NAMES = ["Jane", "John", "Ann", "jane"]
BIRTH_DATES = [dt.date(1980, 1, 1), dt.date(2011, 6, 30), dt.date(1955, 12, 31)]
LOGINS = [
    None,
    dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    dt.datetime(2025, 7, 1, tzinfo=dt.UTC),
]
EMAILS = [
    None,
    "jane.smith@example.org",
    "JANE.SMITH@example.org",
    "family@example.com",
    "ann@example.net",
    "zhou@bücher.example",
]

#: Rows made to test the search: wildcard characters must match only themselves.
SPECIAL = [
    # (username, login e-mail, first name, last name)
    ("percent%user", "p@example.org", "Pat", "Percent"),
    ("under_score", "u@example.org", "Una", "Under"),
    ("slash/user", "s@example.org", "Sol", "Slash"),
    ("plainuser", "first_last@example.org", "Fi", "Last"),
]


def build_clinic(session: Session) -> list[Stored]:
    """44 accounts, each with its own chart, from small pools of values."""
    rng = random.Random(20261124)
    numbers = list(range(1, 41))
    rng.shuffle(numbers)  # MRN order differs from id order
    specs: list[tuple[str, str | None, str, str]] = [
        (f"User{n:02d}", rng.choice(EMAILS), rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES))
        for n in numbers
    ]
    specs[5:5] = SPECIAL
    made: list[Stored] = []
    for index, (username, address, first, last) in enumerate(specs):
        patient = add_patient(
            session,
            mrn=f"MRN{1000 + (index * 7919) % 997:04d}",
            first_name=first,
            last_name=last,
            birth_date=rng.choice(BIRTH_DATES),
        )
        state = rng.choice(list(AccountState))
        last_login = rng.choice(LOGINS)
        account = add_account(
            session,
            address,
            state,
            patient=patient,
            username=username,
            last_login_at=last_login,
        )
        made.append(
            Stored(
                id=account.id,
                username=username,
                login_email=address,
                state=state.value,
                mrn=patient.mrn,
                first_name=first,
                last_name=last,
                birth_date=patient.birth_date,
                last_login_at=last_login,
            )
        )
    session.commit()
    return made


def with_flags(stored: list[Stored]) -> list[Stored]:
    """The rows with the shared-e-mail flag SPEC §3 gives them."""
    active_keys = Counter(
        email_key(row.login_email) for row in stored if row.state in ACTIVE and row.login_email
    )
    return [
        replace(
            row,
            shared_email=row.state in ACTIVE and active_keys[email_key(row.login_email) or ""] > 1,
        )
        for row in stored
    ]


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ],
)
def clinic_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Database, list[Stored]]]:
    """One test clinic per backend, shared by this module's tests: they only read it."""
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = resolve_database_url(str(tmp_path_factory.mktemp("list") / "clinic.db"), {})
        else:
            server: PostgresServer = request.getfixturevalue("postgres_server")
            url = stack.enter_context(server.new_database())
        database = open_database(url)
        stack.callback(database.dispose)
        with Session(database.writer) as session:
            clinic = with_flags(build_clinic(session))
        yield database, clinic


def matches(row: Stored, account_filter: AccountFilter) -> bool:
    if account_filter.state is not None and row.state != account_filter.state.value:
        return False
    if account_filter.shared_only and not row.shared_email:
        return False
    return all(
        any(word.casefold() in field.casefold() for field in row.searchable)
        for word in account_filter.search.split()
    )


def sort_key(sort: SortKey, nulls_first: bool) -> Callable[[Stored], tuple[object, ...]]:
    """The order the list promises, with NULLs where the backend puts them (SQLite: before
    every value; PostgreSQL: after every value, when ascending)."""

    def nullable(value: object) -> tuple[object, ...]:
        if value is None:
            return (0,) if nulls_first else (2,)
        return (1, value)

    columns: dict[SortKey, Callable[[Stored], tuple[object, ...]]] = {
        SortKey.ACCOUNT_ID: lambda r: (),
        SortKey.USERNAME: lambda r: (r.username.strip().casefold(),),
        SortKey.LOGIN_EMAIL: lambda r: (nullable(email_key(r.login_email)),),
        SortKey.STATE: lambda r: (r.state,),
        SortKey.SHARED_EMAIL: lambda r: (r.shared_email,),
        SortKey.MRN: lambda r: (r.mrn,),
        # Last name, then first name, without regard to case (SQL's lower(): ASCII only).
        SortKey.PATIENT_NAME: lambda r: (ascii_lower(r.last_name), ascii_lower(r.first_name)),
        SortKey.BIRTH_DATE: lambda r: (r.birth_date,),
        SortKey.LAST_LOGIN: lambda r: (nullable(r.last_login_at),),
    }
    return lambda row: (*columns[sort](row), row.id)


def expected_ids(
    database: Database, clinic: list[Stored], account_filter: AccountFilter, sort: AccountSort
) -> list[int]:
    nulls_first = database.engine.dialect.name == "sqlite"
    rows = sorted(
        (row for row in clinic if matches(row, account_filter)),
        key=sort_key(sort.key, nulls_first),
        reverse=sort.descending,
    )
    return [row.id for row in rows]


def ids(rows: list[AccountRow]) -> list[int]:
    return [row.account_id for row in rows]


#: Filters that each keep some rows of the test clinic and drop others.
FILTERS = [
    AccountFilter(search="smith"),
    AccountFilter(search="SMITH"),
    AccountFilter(search="jane smith"),
    AccountFilter(search="smith example.org"),
    AccountFilter(search="mrn10"),
    AccountFilter(search="user0"),
    AccountFilter(search="xn--bcher"),
    AccountFilter(search="o'neil"),
    AccountFilter(state=AccountState.LEGACY),
    AccountFilter(state=AccountState.REVOKED),
    AccountFilter(shared_only=True),
    AccountFilter(search="jane", shared_only=True),
    AccountFilter(search="smith", state=AccountState.MIGRATED),
]

#: Searches with LIKE's wildcards (and its escape character), which must match only
#: themselves: the usernames they find.
LITERAL_SEARCHES = {
    "%": ["percent%user"],
    "_": ["under_score", "plainuser"],  # plainuser's e-mail is first_last@...
    "/": ["slash/user"],
    "nt%u": ["percent%user"],
    "m%h": [],  # as a wildcard it would find every Smith
    "s_i": [],
}


@pytest.mark.parametrize(
    "account_filter",
    [
        AccountFilter(),
        AccountFilter(search="  "),
        AccountFilter(search="no-such-patient"),
        *FILTERS,
        *(AccountFilter(search=search) for search in LITERAL_SEARCHES),
    ],
    ids=repr,
)
def test_count_and_rows_follow_the_filter(
    clinic_db: tuple[Database, list[Stored]], account_filter: AccountFilter
) -> None:
    database, clinic = clinic_db
    expected = expected_ids(database, clinic, account_filter, AccountSort(SortKey.ACCOUNT_ID))
    accounts = AccountList(database.engine)

    assert accounts.count(account_filter) == len(expected)
    assert ids(accounts.window(account_filter, AccountSort(SortKey.ACCOUNT_ID), 0, 1000)) == (
        expected
    )


def test_the_test_clinic_exercises_every_filter(clinic_db: tuple[Database, list[Stored]]) -> None:
    _, clinic = clinic_db
    for account_filter in FILTERS:
        selected = [row for row in clinic if matches(row, account_filter)]
        assert 0 < len(selected) < len(clinic), account_filter


@pytest.mark.parametrize("search", list(LITERAL_SEARCHES))
def test_wildcards_in_the_search_are_literal(
    clinic_db: tuple[Database, list[Stored]], search: str
) -> None:
    database, _ = clinic_db
    rows = AccountList(database.engine).window(
        AccountFilter(search=search), AccountSort(SortKey.ACCOUNT_ID), 0, 1000
    )
    assert [row.username for row in rows] == LITERAL_SEARCHES[search]


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("key", list(SortKey), ids=str)
def test_every_ordering_in_windows(
    clinic_db: tuple[Database, list[Stored]], key: SortKey, descending: bool
) -> None:
    database, clinic = clinic_db
    sort = AccountSort(key, descending)
    everything = AccountFilter()
    expected = expected_ids(database, clinic, everything, sort)
    accounts = AccountList(database.engine)

    windows = [accounts.window(everything, sort, offset, 7) for offset in range(0, len(clinic), 7)]
    joined = [account_id for window in windows for account_id in ids(window)]

    assert joined == expected
    assert len(set(joined)) == len(clinic)
    assert all(len(window) == 7 for window in windows[:-1])
    assert accounts.window(everything, sort, len(clinic), 7) == []


@pytest.mark.parametrize("key", list(SortKey), ids=str)
def test_descending_is_ascending_reversed(
    clinic_db: tuple[Database, list[Stored]], key: SortKey
) -> None:
    database, _ = clinic_db
    with database.engine.connect() as connection:
        up = ids(list(iter_account_rows(connection, AccountFilter(), AccountSort(key))))
        down = ids(list(iter_account_rows(connection, AccountFilter(), AccountSort(key, True))))
    assert down == up[::-1]


def test_filtered_windows_of_a_sorted_list(clinic_db: tuple[Database, list[Stored]]) -> None:
    database, clinic = clinic_db
    account_filter = AccountFilter(search="example")
    sort = AccountSort(SortKey.PATIENT_NAME, descending=True)
    expected = expected_ids(database, clinic, account_filter, sort)
    with database.engine.connect() as connection:
        assert count_accounts(connection, account_filter) == len(expected)
        window = list(iter_account_rows(connection, account_filter, sort, offset=3, limit=5))
    assert ids(window) == expected[3:8]


def test_a_row_carries_what_the_list_shows(clinic_db: tuple[Database, list[Stored]]) -> None:
    database, clinic = clinic_db
    stored = next(row for row in clinic if row.username == "under_score")
    (row,) = AccountList(database.engine).window(
        AccountFilter(search="under_score"), AccountSort(), 0, 10
    )
    assert row == AccountRow(
        account_id=stored.id,
        username="under_score",
        login_email="u@example.org",
        state=AccountState(stored.state),
        shared_email=False,
        mrn=stored.mrn,
        patient_name="Una Under",
        birth_date=stored.birth_date,
        last_login_at=stored.last_login_at,
    )
    assert isinstance(row.state, AccountState)


def test_rows_by_id_are_the_rows_the_windows_hold(clinic_db: tuple[Database, list[Stored]]) -> None:
    """What the table reads again after an action: the named accounts, whatever the filter
    they were found by, as the list's windows show them; an unknown id is left out."""
    database, clinic = clinic_db
    accounts = AccountList(database.engine)
    whole = accounts.window(AccountFilter(), AccountSort(SortKey.ACCOUNT_ID), 0, len(clinic))
    wanted = [whole[5], whole[0], whole[-1]]
    found = accounts.rows_by_id({row.account_id for row in wanted} | {10**9})
    assert found == sorted(wanted, key=lambda row: row.account_id)
    assert accounts.rows_by_id(set()) == []
