"""A small clinic's portal accounts for the table tests: varied names, states, last logins and
two families sharing one address (plus a revoked account on a shared address, which does not
count as sharing)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy.orm import Session

from console.models.account_list import AccountFilter, AccountList, AccountRow, AccountSort
from console.models.database import Database
from console.models.states import AccountState
from tests.factories import add_account, add_patient

_PEOPLE: list[tuple[str, str, dt.date, str | None, AccountState]] = [
    ("Ada", "Lovelace", dt.date(1985, 12, 10), "ada@example.org", AccountState.MIGRATED),
    ("Alan", "Turing", dt.date(1972, 6, 23), "alan.turing@example.net", AccountState.LEGACY),
    ("Grace", "Hopper", dt.date(1990, 12, 9), "hopper.family@example.com", AccountState.LEGACY),
    ("Walter", "Hopper", dt.date(2012, 3, 1), "hopper.family@example.com", AccountState.LEGACY),
    ("Anne", "Hopper", dt.date(2015, 7, 14), "Hopper.Family@example.com", AccountState.MIGRATED),
    ("Edsger", "Dijkstra", dt.date(1960, 5, 11), "edsger@example.org", AccountState.RESET_PENDING),
    ("Barbara", "Liskov", dt.date(1979, 11, 7), "liskov@example.com", AccountState.REVOKED),
    ("Donald", "Knuth", dt.date(1958, 1, 10), "knuth@example.com", AccountState.DEACTIVATED),
    ("Margaret", "Hamilton", dt.date(1983, 8, 17), "hamilton@example.org", AccountState.MIGRATED),
    ("Ken", "Thompson", dt.date(1968, 2, 4), "unix@example.com", AccountState.RESET_PENDING),
    ("Dennis", "Thompson", dt.date(1999, 9, 9), "unix@example.com", AccountState.LEGACY),
    ("Radia", "Perlman", dt.date(1988, 12, 18), "radia@example.net", AccountState.LEGACY),
    ("Frances", "Allen", dt.date(1970, 8, 4), "liskov@example.com", AccountState.MIGRATED),
    ("John", "Backus", dt.date(1966, 12, 3), None, AccountState.LEGACY),
    ("Adele", "Goldberg", dt.date(1975, 7, 22), "adele@example.org", AccountState.REVOKED),
    ("Ada", "Smith", dt.date(2001, 4, 2), "ada.smith@example.org", AccountState.LEGACY),
]

#: Usernames of the accounts whose login e-mail is shared by another active account.
SHARED_USERNAMES = frozenset({"ghopper", "whopper", "ahopper", "kthompson", "dthompson"})


def add_clinic_accounts(database: Database) -> list[str]:
    """Store the accounts above; return their usernames in insertion order."""
    usernames = []
    base = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
    with Session(database.writer) as session:
        for n, (first, last, born, email, state) in enumerate(_PEOPLE):
            username = f"{first[0]}{last}".lower()
            patient = add_patient(session, first_name=first, last_name=last, birth_date=born)
            last_login = None if n % 4 == 1 else base - dt.timedelta(days=n * 3, hours=n)
            add_account(
                session,
                email,
                state,
                patient=patient,
                username=username,
                last_login_at=last_login,
            )
            usernames.append(username)
        session.commit()
    return usernames


class CountedReads:
    """The real account list, counting what the table asks it: ``calls`` holds one
    ``("count",)``, ``("window", offset)`` or ``("rows_by_id", ids)`` per read."""

    def __init__(self, database: Database) -> None:
        self._list = AccountList(database.engine)
        self.calls: list[tuple[object, ...]] = []

    def count(self, account_filter: AccountFilter) -> int:
        self.calls.append(("count",))
        return self._list.count(account_filter)

    def window(
        self, account_filter: AccountFilter, sort: AccountSort, offset: int, limit: int
    ) -> list[AccountRow]:
        self.calls.append(("window", offset))
        return self._list.window(account_filter, sort, offset, limit)

    def rows_by_id(self, account_ids: Collection[int]) -> list[AccountRow]:
        self.calls.append(("rows_by_id", frozenset(account_ids)))
        return self._list.rows_by_id(account_ids)
