"""The lists staff read besides the account table — invitations and the outbox: the
permission check here, the query in ``models`` (``invitation_list``, ``outbox_list``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from console.models.invitation_list import DEFAULT_LIMIT, InvitationPage, read_invitations
from console.models.outbox_list import OutboxPage, read_outbox
from console.models.schema import InvitationState, OutboxState
from console.services.permissions import Actor, Permission
from console.services.workstation import Workstation


def list_invitations(
    workstation: Workstation,
    actor: Actor,
    *,
    state: InvitationState | None = None,
    search: str = "",
    limit: int = DEFAULT_LIMIT,
) -> InvitationPage:
    """The newest ``limit`` invitations in ``state`` (None: all; a pending one past its
    expiry is expired) whose chart's name, MRN or target e-mail matches ``search``, and the
    filter's total. Raises ``NotAllowed`` for a role that may not view accounts."""
    actor.require(Permission.VIEW_ACCOUNTS)
    with Session(workstation.database.engine) as session:
        return read_invitations(
            session, now=workstation.clock.now(), state=state, search=search, limit=limit
        )


def list_outbox(
    workstation: Workstation,
    actor: Actor,
    *,
    state: OutboxState | None = None,
    limit: int = DEFAULT_LIMIT,
) -> OutboxPage:
    """The newest ``limit`` e-mails in ``state`` (None: all) and the filter's total, for a
    staff user allowed to view accounts (``NotAllowed`` otherwise)."""
    actor.require(Permission.VIEW_ACCOUNTS)
    with Session(workstation.database.engine) as session:
        return read_outbox(session, state=state, limit=limit)


__all__ = ["list_invitations", "list_outbox"]
