"""The outbox as staff read it: the permission check here, the query in
``models.outbox_list``."""

from __future__ import annotations

from sqlalchemy.orm import Session

from console.models.outbox_list import DEFAULT_LIMIT, OutboxPage, read_outbox
from console.models.states import OutboxState
from console.services.permissions import Actor, Permission
from console.services.workstation import Workstation


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


__all__ = ["list_outbox"]
