"""The account list as a member of staff reads it: the window's table. Every read checks
that the staff user's role may view accounts (``NotAllowed`` otherwise), as the other lists'
services do; the query itself is ``models.account_list``."""

from __future__ import annotations

from collections.abc import Collection

from console.models.account_list import AccountFilter, AccountList, AccountRow, AccountSort
from console.services.permissions import Actor, Permission


class AccountListing:
    """``accounts`` read on behalf of ``actor`` (each call is safe on a worker thread)."""

    def __init__(self, accounts: AccountList, actor: Actor) -> None:
        self._accounts = accounts
        self._actor = actor

    def count(self, account_filter: AccountFilter) -> int:
        """How many accounts match."""
        self._actor.require(Permission.VIEW_ACCOUNTS)
        return self._accounts.count(account_filter)

    def window(
        self, account_filter: AccountFilter, sort: AccountSort, offset: int, limit: int
    ) -> list[AccountRow]:
        """Rows ``offset`` to ``offset + limit`` of the sorted, filtered list."""
        self._actor.require(Permission.VIEW_ACCOUNTS)
        return self._accounts.window(account_filter, sort, offset, limit)

    def rows_by_id(self, account_ids: Collection[int]) -> list[AccountRow]:
        """The accounts ``account_ids`` as they are now, whatever the filter."""
        self._actor.require(Permission.VIEW_ACCOUNTS)
        return self._accounts.rows_by_id(account_ids)


__all__ = ["AccountListing"]
