"""Who may do what (SPEC §6), declared once.

The services call ``require`` before they act, so a refusal does not depend on a button being
hidden; the window asks ``refusal`` for the same answer to hide or disable an action and to say
why in its tooltip. Later manager-only actions add a line to ``_LEAST_ROLE`` and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from console.models.states import StaffRole
from console.services.errors import DomainError


class Permission(StrEnum):
    """Something a console user can do."""

    VIEW_ACCOUNTS = "view_accounts"
    REVOKE_ACCESS = "revoke_access"
    REISSUE_INVITATION = "reissue_invitation"
    CANCEL_INVITATION = "cancel_invitation"
    LINK_CHART = "link_chart"
    RESEND_EMAIL = "resend_email"
    EDIT_CONTACT = "edit_contact"
    DEACTIVATE_ACCOUNT = "deactivate_account"
    VIEW_DASHBOARD = "view_dashboard"
    VIEW_AUDIT_LOG = "view_audit_log"
    EXPORT_AUDIT_LOG = "export_audit_log"
    VIEW_REPORTS = "view_reports"
    BULK_ACTIONS = "bulk_actions"
    IMPORT_RECORDS = "import_records"
    MANAGE_STAFF = "manage_staff"
    CHANGE_SETTINGS = "change_settings"
    BACK_UP_AND_RESTORE = "back_up_and_restore"


#: Roles from least to most trusted; each may do all that the ones before it may.
_RANKS = (StaffRole.FRONT_DESK, StaffRole.MANAGER, StaffRole.ADMIN)

#: The least role that may do each thing. Cancelling an invitation and deactivating an
#: account at the patient's request are front-desk work (the phone call where they come up),
#: though SPEC §6 lists them under no role.
_LEAST_ROLE: dict[Permission, StaffRole] = {
    Permission.VIEW_ACCOUNTS: StaffRole.FRONT_DESK,
    Permission.REVOKE_ACCESS: StaffRole.FRONT_DESK,
    Permission.REISSUE_INVITATION: StaffRole.FRONT_DESK,
    Permission.CANCEL_INVITATION: StaffRole.FRONT_DESK,
    Permission.LINK_CHART: StaffRole.FRONT_DESK,
    Permission.RESEND_EMAIL: StaffRole.FRONT_DESK,
    Permission.EDIT_CONTACT: StaffRole.FRONT_DESK,
    Permission.DEACTIVATE_ACCOUNT: StaffRole.FRONT_DESK,
    Permission.VIEW_DASHBOARD: StaffRole.MANAGER,
    Permission.VIEW_AUDIT_LOG: StaffRole.MANAGER,
    Permission.EXPORT_AUDIT_LOG: StaffRole.MANAGER,
    Permission.VIEW_REPORTS: StaffRole.MANAGER,
    Permission.BULK_ACTIONS: StaffRole.MANAGER,
    Permission.IMPORT_RECORDS: StaffRole.MANAGER,
    Permission.MANAGE_STAFF: StaffRole.ADMIN,
    Permission.CHANGE_SETTINGS: StaffRole.ADMIN,
    Permission.BACK_UP_AND_RESTORE: StaffRole.ADMIN,
}

_ROLE_NAMES = {
    StaffRole.FRONT_DESK: "front-desk staff",
    StaffRole.MANAGER: "office managers",
    StaffRole.ADMIN: "administrators",
}


@dataclass(frozen=True)
class Actor:
    """The signed-in member of staff on whose behalf a service acts (and whom the audit
    log names). Built only from a verified sign-in, never from what a form says."""

    id: int
    username: str
    role: str

    def require(self, permission: Permission) -> None:
        """Raise ``NotAllowed`` unless this person's role may do ``permission``."""
        require(self.role, permission)


class NotAllowed(DomainError):
    """The signed-in staff user's role may not do this."""


def refusal(role: str, permission: Permission) -> str | None:
    """Why ``role`` may not do ``permission``, in the clinic's words; None when it may.
    An unknown role (a damaged row) may do nothing."""
    least = _LEAST_ROLE[permission]
    try:
        rank = _RANKS.index(StaffRole(role))
    except ValueError:
        return "Your staff account has no valid role; ask an administrator to set it."
    if rank >= _RANKS.index(least):
        return None
    who = " and ".join(_ROLE_NAMES[r] for r in _RANKS[_RANKS.index(least) :])
    return f"Only {who} may {_WHAT[permission]}; ask one of them."


def require(role: str, permission: Permission) -> None:
    """Raise ``NotAllowed`` unless ``role`` may do ``permission``."""
    reason = refusal(role, permission)
    if reason is not None:
        raise NotAllowed(reason)


_WHAT = {
    Permission.VIEW_ACCOUNTS: "search and view portal accounts",
    Permission.REVOKE_ACCESS: "revoke portal access",
    Permission.REISSUE_INVITATION: "send invitations",
    Permission.CANCEL_INVITATION: "cancel invitations",
    Permission.LINK_CHART: "link charts to accounts",
    Permission.RESEND_EMAIL: "resend e-mails",
    Permission.EDIT_CONTACT: "edit contact details",
    Permission.DEACTIVATE_ACCOUNT: "deactivate accounts",
    Permission.VIEW_DASHBOARD: "see the dashboard",
    Permission.VIEW_AUDIT_LOG: "see the audit log",
    Permission.EXPORT_AUDIT_LOG: "export the audit log",
    Permission.VIEW_REPORTS: "see reports",
    Permission.BULK_ACTIONS: "run bulk actions",
    Permission.IMPORT_RECORDS: "import charts and accounts",
    Permission.MANAGE_STAFF: "manage staff users",
    Permission.CHANGE_SETTINGS: "change settings",
    Permission.BACK_UP_AND_RESTORE: "back up or restore the database",
}
