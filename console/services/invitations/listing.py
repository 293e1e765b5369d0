"""The invitations list as staff read it: the permission check here, the query in
``models.invitation_list``."""

from __future__ import annotations

from sqlalchemy.orm import Session

from console.models.invitation_list import DEFAULT_LIMIT, InvitationPage, read_invitations
from console.models.states import InvitationState
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


__all__ = ["list_invitations"]
