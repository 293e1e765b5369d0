"""SPEC §6, one row a role: what each may and may not do, and the refusal's words."""

from __future__ import annotations

import pytest

from console.models.states import StaffRole
from console.services.errors import DomainError
from console.services.permissions import NotAllowed, Permission, refusal, require

FRONT_DESK_WORK = {
    Permission.VIEW_ACCOUNTS,
    Permission.REVOKE_ACCESS,
    Permission.REISSUE_INVITATION,
    Permission.CANCEL_INVITATION,
    Permission.LINK_CHART,
    Permission.RESEND_EMAIL,
    Permission.EDIT_CONTACT,
    Permission.DEACTIVATE_ACCOUNT,
}
MANAGER_WORK = FRONT_DESK_WORK | {
    Permission.VIEW_DASHBOARD,
    Permission.VIEW_AUDIT_LOG,
    Permission.EXPORT_AUDIT_LOG,
    Permission.VIEW_REPORTS,
    Permission.BULK_ACTIONS,
    Permission.IMPORT_RECORDS,
}
ADMIN_WORK = set(Permission)


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (StaffRole.FRONT_DESK, FRONT_DESK_WORK),
        (StaffRole.MANAGER, MANAGER_WORK),
        (StaffRole.ADMIN, ADMIN_WORK),
    ],
)
def test_each_role_may_do_exactly_its_work(role: StaffRole, allowed: set[Permission]) -> None:
    assert {p for p in Permission if refusal(role, p) is None} == allowed
    for permission in set(Permission) - allowed:
        with pytest.raises(NotAllowed):
            require(role.value, permission)


def test_the_refusal_says_who_may() -> None:
    with pytest.raises(NotAllowed) as refused:
        require("front_desk", Permission.MANAGE_STAFF)
    assert str(refused.value) == "Only administrators may manage staff users; ask one of them."
    assert isinstance(refused.value, DomainError)
    assert refusal("front_desk", Permission.BULK_ACTIONS) == (
        "Only office managers and administrators may run bulk actions; ask one of them."
    )


@pytest.mark.parametrize("role", ["", "superuser", "ADMIN", "front desk"])
def test_an_unknown_role_may_do_nothing(role: str) -> None:
    for permission in Permission:
        assert refusal(role, permission) is not None
