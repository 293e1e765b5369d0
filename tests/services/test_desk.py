"""A desk runs service calls on the workstation for its member of staff, and nothing else:
what a page or dialog holds instead of the workstation and its database."""

from __future__ import annotations

import pytest

from console.models.schema import PortalAccount
from console.models.states import StaffRole
from console.services.accounts.details import account_details
from console.services.accounts.lookup import NotFound
from console.services.desk import Desk, StaffDesk
from console.services.permissions import Actor, NotAllowed, Permission
from console.services.settings.values import ConsoleSettings
from console.services.staff.users import has_staff
from console.services.workstation import Workstation, lock_row, writing
from console.services.workstation_setup import build_workstation


def test_a_staff_desk_acts_as_its_member_of_staff(
    desk: Workstation, staff: dict[StaffRole, Actor]
) -> None:
    front = StaffDesk(desk, staff[StaffRole.FRONT_DESK])
    assert front.actor == staff[StaffRole.FRONT_DESK]
    with pytest.raises(NotAllowed):
        front.act(needs_admin)
    assert StaffDesk(desk, staff[StaffRole.ADMIN]).act(needs_admin) == "admin_user"
    assert front.clock is desk.clock and front.rules is desk.rules


def test_a_desk_runs_services_only_and_shows_no_database(desk: Workstation) -> None:
    reception = Desk(desk)
    assert reception.run(has_staff) is False
    with pytest.raises(TypeError, match="service functions only"):
        reception.run(lambda workstation: workstation.database)
    with pytest.raises(TypeError, match="service functions only"):
        reception.run(build_workstation, ConsoleSettings())
    assert not any("database" in name or "engine" in name for name in dir(reception))


def test_a_desk_hands_out_no_transaction_or_row_lock(
    desk: Workstation, staff: dict[StaffRole, Actor]
) -> None:
    front = StaffDesk(desk, staff[StaffRole.ADMIN])
    with pytest.raises(TypeError, match="service functions only"):
        front.act(writing, Permission.VIEW_ACCOUNTS)
    with pytest.raises(TypeError, match="service functions only"):
        front.run(lock_row, PortalAccount, 1)


def test_a_desk_for_staff_reads_through_the_services(
    desk: Workstation, staff: dict[StaffRole, Actor]
) -> None:
    front = Desk(desk).for_staff(staff[StaffRole.FRONT_DESK])
    with pytest.raises(NotFound):
        front.act(account_details, 12345)


def needs_admin(workstation: Workstation, actor: Actor) -> str:
    from console.services.permissions import Permission

    actor.require(Permission.MANAGE_STAFF)
    return actor.username


needs_admin.__module__ = "console.services.test_double"
