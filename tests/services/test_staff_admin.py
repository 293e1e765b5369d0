"""Staff administration (SPEC §6, issue 5): listing, disabling, re-enabling, changing the
role and resetting the password of console users, by an administrator only and never
leaving the clinic without one, on a real database with real bcrypt."""

from __future__ import annotations

import threading

import pytest

from console.models.states import StaffRole
from console.services.clock import ManualClock
from console.services.errors import StaleRecord, WeakPassword
from console.services.passwords import check_staff_password
from console.services.permissions import Actor, NotAllowed
from console.services.staff.admin import (
    change_role,
    disable_staff,
    enable_staff,
    list_staff,
    new_temporary_password,
    reset_staff_password,
)
from console.services.staff.users import (
    SIGN_IN_FAILED,
    SignInFailed,
    StaffRefused,
    add_staff_user,
    change_own_password,
    sign_in,
)
from console.services.workstation import Workstation
from tests.services.conftest import STAFF_PASSWORD, add_staff
from tests.services.test_staff_users import (
    NEW_STAFF_PASSWORD,
    all_audit_text,
    audit_actions,
    audit_events,
    details,
    lock_out,
    staff_row,
)

TEMPORARY_PASSWORD = "Plum-Harbor-Sixty-4"


# --- Staff administration ----------------------------------------------------------------------


@pytest.mark.parametrize("role", [StaffRole.FRONT_DESK, StaffRole.MANAGER])
def test_only_admins_manage_staff(
    desk: Workstation, staff: dict[StaffRole, Actor], role: StaffRole
) -> None:
    actor, target = staff[role], staff[StaffRole.FRONT_DESK].id
    for action in (
        lambda: list_staff(desk, actor),
        lambda: disable_staff(desk, actor, target),
        lambda: enable_staff(desk, actor, target),
        lambda: change_role(desk, actor, target, "manager"),
        lambda: reset_staff_password(desk, actor, target, TEMPORARY_PASSWORD),
    ):
        with pytest.raises(NotAllowed, match="Only administrators may manage staff users"):
            action()
    assert audit_actions(desk.database) == []


def test_list_staff(desk: Workstation, staff: dict[StaffRole, Actor]) -> None:
    lock_out(desk, staff[StaffRole.MANAGER].username)
    members = list_staff(desk, staff[StaffRole.ADMIN])
    assert [m.username for m in members] == ["admin_user", "front_desk_user", "manager_user"]
    locked = {m.username: m.locked for m in members}
    assert locked == {"admin_user": False, "front_desk_user": False, "manager_user": True}
    assert all(not m.disabled and not m.must_change_password for m in members)
    assert isinstance(desk.clock, ManualClock)
    desk.clock.advance(minutes=15)
    assert not any(m.locked for m in list_staff(desk, staff[StaffRole.ADMIN]))


def test_disable_and_enable(desk: Workstation, staff: dict[StaffRole, Actor]) -> None:
    admin, clerk = staff[StaffRole.ADMIN], staff[StaffRole.FRONT_DESK]
    assert disable_staff(desk, admin, clerk.id).staff == {clerk.id}
    with pytest.raises(SignInFailed, match=SIGN_IN_FAILED):
        sign_in(desk, clerk.username, STAFF_PASSWORD)
    for _ in range(6):  # failures while disabled must not lock them out once enabled
        with pytest.raises(SignInFailed):
            sign_in(desk, clerk.username, "wrong password")
    with pytest.raises(StaffRefused, match="already disabled"):
        disable_staff(desk, admin, clerk.id)
    enable_staff(desk, admin, clerk.id)
    with pytest.raises(StaffRefused, match="is not disabled"):
        enable_staff(desk, admin, clerk.id)
    with pytest.raises(SignInFailed):  # one typo after re-enabling: not a lock-out
        sign_in(desk, clerk.username, "wrong password")
    assert sign_in(desk, clerk.username, STAFF_PASSWORD).actor == clerk
    events = [e for e in audit_events(desk.database) if e.action != "staff_sign_in"]
    assert [(e.action, e.staff_username, e.target_id) for e in events] == [
        ("disable_staff_user", admin.username, str(clerk.id)),
        ("enable_staff_user", admin.username, str(clerk.id)),
    ]
    assert details(events[0]) == {"username": clerk.username}


def test_the_last_enabled_admin_stays(desk: Workstation, staff: dict[StaffRole, Actor]) -> None:
    admin = staff[StaffRole.ADMIN]
    with pytest.raises(StaffRefused, match="cannot disable your own"):
        disable_staff(desk, admin, admin.id)
    with pytest.raises(StaffRefused, match="cannot change your own role"):
        change_role(desk, admin, admin.id, "manager")
    assert staff_row(desk.database, admin.id).role == "admin"
    assert not staff_row(desk.database, admin.id).disabled
    assert audit_actions(desk.database) == []


def test_an_admin_removed_elsewhere_can_no_longer_manage_staff(
    desk: Workstation, staff: dict[StaffRole, Actor], staff_hash: str
) -> None:
    """Two administrators: one disables the other, whose console still holds an admin
    ``Actor``; then one demotes a third, whose stale ``Actor`` is refused too."""
    first = staff[StaffRole.ADMIN]
    second = add_staff(desk.database, StaffRole.ADMIN, staff_hash, "second_admin")
    third = add_staff(desk.database, StaffRole.ADMIN, staff_hash, "third_admin")
    disable_staff(desk, first, second.id)
    with pytest.raises(NotAllowed, match="has been disabled"):
        disable_staff(desk, second, first.id)
    change_role(desk, first, third.id, StaffRole.MANAGER)
    with pytest.raises(NotAllowed, match="Only administrators"):
        change_role(desk, third, first.id, StaffRole.MANAGER)
    with pytest.raises(NotAllowed, match="Only administrators"):
        add_staff_user(desk, third, "newbie", "admin", NEW_STAFF_PASSWORD)
    assert staff_row(desk.database, first.id).role == "admin"
    assert not staff_row(desk.database, first.id).disabled


def test_change_role(desk: Workstation, staff: dict[StaffRole, Actor]) -> None:
    admin, clerk = staff[StaffRole.ADMIN], staff[StaffRole.FRONT_DESK]
    seen = staff_row(desk.database, clerk.id).version
    change_role(desk, admin, clerk.id, "manager", expected_version=seen)
    assert sign_in(desk, clerk.username, STAFF_PASSWORD).actor.role == "manager"
    with pytest.raises(StaleRecord):  # changed (and signed in) since the admin saw it
        change_role(desk, admin, clerk.id, "admin", expected_version=seen)
    with pytest.raises(StaffRefused, match="already has the role manager"):
        change_role(desk, admin, clerk.id, StaffRole.MANAGER)
    with pytest.raises(StaffRefused, match="Choose a role"):
        change_role(desk, admin, clerk.id, "owner")
    with pytest.raises(StaffRefused, match="no such staff user"):
        change_role(desk, admin, 999, "manager")
    event = next(e for e in audit_events(desk.database) if e.action == "change_staff_role")
    assert details(event) == {
        "username": clerk.username,
        "old_role": "front_desk",
        "new_role": "manager",
    }


def test_staff_administration_on_postgresql_too(any_desk: Workstation, staff_hash: str) -> None:
    admin = add_staff(any_desk.database, StaffRole.ADMIN, staff_hash)
    clerk = add_staff(any_desk.database, StaffRole.FRONT_DESK, staff_hash)
    seen = {m.id: m.version for m in list_staff(any_desk, admin)}
    disable_staff(any_desk, admin, clerk.id, expected_version=seen[clerk.id])
    with pytest.raises(StaleRecord):
        enable_staff(any_desk, admin, clerk.id, expected_version=seen[clerk.id])
    enable_staff(any_desk, admin, clerk.id, expected_version=seen[clerk.id] + 1)
    change_role(any_desk, admin, clerk.id, "admin")
    assert [a for a, _ in audit_actions(any_desk.database)] == [
        "disable_staff_user",
        "enable_staff_user",
        "change_staff_role",
    ]


# --- Password resets and the forced change -----------------------------------------------------


def test_a_reset_password_must_be_changed_at_the_next_sign_in(
    desk: Workstation, staff: dict[StaffRole, Actor]
) -> None:
    admin, clerk = staff[StaffRole.ADMIN], staff[StaffRole.FRONT_DESK]
    lock_out(desk, clerk.username)
    reset_staff_password(desk, admin, clerk.id, TEMPORARY_PASSWORD)
    with pytest.raises(SignInFailed):  # the old password is gone
        sign_in(desk, clerk.username, STAFF_PASSWORD)
    first = sign_in(desk, clerk.username, TEMPORARY_PASSWORD)  # and the lock-out lifted
    assert first.must_change_password

    with pytest.raises(StaffRefused, match="different from the current one"):
        change_own_password(desk, clerk.username, TEMPORARY_PASSWORD, TEMPORARY_PASSWORD)
    with pytest.raises(WeakPassword, match="at least 12 characters"):
        change_own_password(desk, clerk.username, TEMPORARY_PASSWORD, "Short-1")
    changed = change_own_password(desk, clerk.username, TEMPORARY_PASSWORD, NEW_STAFF_PASSWORD)
    assert changed.actor == clerk and not changed.must_change_password

    with pytest.raises(SignInFailed):
        sign_in(desk, clerk.username, TEMPORARY_PASSWORD)
    assert not sign_in(desk, clerk.username, NEW_STAFF_PASSWORD).must_change_password
    reset = next(e for e in audit_events(desk.database) if e.action == "reset_staff_password")
    assert (reset.staff_username, details(reset)) == (admin.username, {"username": clerk.username})
    assert ("change_own_password", "ok") in audit_actions(desk.database)
    text = all_audit_text(desk.database)
    for password in (TEMPORARY_PASSWORD, NEW_STAFF_PASSWORD, STAFF_PASSWORD):
        assert password not in text


def test_reset_refusals(desk: Workstation, staff: dict[StaffRole, Actor]) -> None:
    admin, clerk = staff[StaffRole.ADMIN], staff[StaffRole.FRONT_DESK]
    with pytest.raises(WeakPassword, match="username"):
        reset_staff_password(desk, admin, clerk.id, f"{clerk.username}-Temporary-1")
    with pytest.raises(StaffRefused, match="Change my password"):
        reset_staff_password(desk, admin, admin.id, TEMPORARY_PASSWORD)
    with pytest.raises(StaffRefused, match="no such staff user"):
        reset_staff_password(desk, admin, 999, TEMPORARY_PASSWORD)
    assert audit_actions(desk.database) == []
    assert not staff_row(desk.database, clerk.id).must_change_password


def test_temporary_passwords_meet_the_staff_policy() -> None:
    for length in (12, 30, 64):
        password = new_temporary_password("pat", length)
        check_staff_password(password, username="pat", min_length=length)
        assert set(password) <= set("abcdefghjkmnpqrstuvwxyz23456789-")
    assert new_temporary_password("a", 12) != new_temporary_password("a", 12)


def test_two_admins_disabling_each_other_at_once(any_desk: Workstation, staff_hash: str) -> None:
    """Each at their own workstation, at the same moment: one of them wins, the other is
    refused (never both disabled, whatever the order the database runs them in): the loser
    waits for the winner and is then told they were disabled."""
    first = add_staff(any_desk.database, StaffRole.ADMIN, staff_hash, "first_admin")
    second = add_staff(any_desk.database, StaffRole.ADMIN, staff_hash, "second_admin")
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def disable(actor: Actor, target: Actor) -> None:
        start.wait(timeout=10)
        try:
            disable_staff(any_desk, actor, target.id)
            outcomes[actor.username] = "done"
        except NotAllowed as refused:
            outcomes[actor.username] = type(refused).__name__

    threads = [
        threading.Thread(target=disable, args=(first, second)),
        threading.Thread(target=disable, args=(second, first)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    won, lost = sorted(outcomes.values(), key=lambda outcome: outcome != "done")
    assert (won, lost) == ("done", "NotAllowed"), outcomes
    disabled = [staff_row(any_desk.database, a.id).disabled for a in (first, second)]
    assert sorted(disabled) == [False, True]
