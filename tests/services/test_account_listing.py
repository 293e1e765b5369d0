"""The window's account list is read as the signed-in member of staff: every read checks
that their role may view accounts."""

from __future__ import annotations

import pytest

from console.models.account_list import AccountFilter, AccountList, AccountSort
from console.models.states import StaffRole
from console.services.accounts.listing import AccountListing
from console.services.permissions import Actor, NotAllowed
from console.services.workstation import Workstation


def test_the_window_reads_the_account_list_as_its_member_of_staff(
    desk: Workstation, staff: dict[StaffRole, Actor]
) -> None:
    accounts = AccountList(desk.database.engine)
    listing = AccountListing(accounts, staff[StaffRole.FRONT_DESK])
    assert listing.count(AccountFilter()) == 0
    assert listing.window(AccountFilter(), AccountSort(), 0, 10) == []
    nobody = AccountListing(accounts, Actor(99, "ghost", "none"))
    for read in (
        lambda: nobody.count(AccountFilter()),
        lambda: nobody.window(AccountFilter(), AccountSort(), 0, 10),
        lambda: nobody.rows_by_id([1]),
    ):
        with pytest.raises(NotAllowed):
            read()
