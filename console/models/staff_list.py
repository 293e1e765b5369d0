"""The staff administration list's query: every console user, disabled ones included, by
username. Who may read it (administrators) is ``services.staff.admin``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models.schema import StaffUser


@dataclass(frozen=True)
class StaffMember:
    """One console user as the staff administration list shows them."""

    id: int
    username: str
    display_name: str
    role: str
    disabled: bool
    must_change_password: bool
    #: Locked out by failed sign-ins at the time of listing (a password reset clears it).
    locked: bool
    locked_until: dt.datetime | None
    last_login_at: dt.datetime | None
    created_at: dt.datetime
    #: Pass back as ``expected_version`` so that a change made meanwhile is not overwritten.
    version: int


def read_staff(session: Session, *, now: dt.datetime) -> list[StaffMember]:
    """Every console user by username; ``locked`` as at ``now``."""
    users = session.scalars(select(StaffUser).order_by(StaffUser.username_key, StaffUser.id))
    return [
        StaffMember(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            role=user.role,
            disabled=user.disabled,
            must_change_password=user.must_change_password,
            locked=user.locked_until is not None and user.locked_until > now,
            locked_until=user.locked_until,
            last_login_at=user.last_login_at,
            created_at=user.created_at,
            version=user.version,
        )
        for user in users
    ]


__all__ = ["StaffMember", "read_staff"]
