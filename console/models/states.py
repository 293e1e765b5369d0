"""The words the tables and every layer above them share: the states of an account, an
invitation and an e-mail, the relations of an access, the roles of staff (SPEC §2, §3, §6)."""

from __future__ import annotations

from enum import StrEnum


class AccountState(StrEnum):
    """Where a portal account is in the migration (SPEC §3)."""

    LEGACY = "legacy"
    RESET_PENDING = "reset_pending"
    MIGRATED = "migrated"
    REVOKED = "revoked"
    DEACTIVATED = "deactivated"


#: States in which an account can still log in, and so can share an e-mail.
ACTIVE_STATES = (AccountState.LEGACY, AccountState.RESET_PENDING, AccountState.MIGRATED)


class AccessRelation(StrEnum):
    """Why an account may see a chart."""

    SELF = "self"
    GUARDIAN = "guardian"
    PROXY = "proxy"


class InvitationState(StrEnum):
    """Life of an invitation to create a portal account."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class StaffRole(StrEnum):
    """What a console user may do (SPEC §6)."""

    FRONT_DESK = "front_desk"
    MANAGER = "manager"
    ADMIN = "admin"


class OutboxState(StrEnum):
    """Where an e-mail is on its way out."""

    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class OutboxKind(StrEnum):
    """Which e-mail a queued message is."""

    PASSWORD_RESET = "password_reset"  # noqa: S105 - a kind of e-mail, not a secret
    INVITATION = "invitation"
    ACCESS_REVOKED = "access_revoked"


__all__ = [
    "ACTIVE_STATES",
    "AccessRelation",
    "AccountState",
    "InvitationState",
    "OutboxKind",
    "OutboxState",
    "StaffRole",
]
