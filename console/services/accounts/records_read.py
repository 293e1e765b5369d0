"""Reading patient data is a staff action like any other (SPEC §6, §7): only a signed-in
member of staff whose role may view accounts reads it, and what the headless commands read
is in the audit log — which command, with what filter, and how many rows it showed. (The
window's own reads are checked by role; recording who viewed which record there belongs to
the managers' "who viewed" work.)"""

from __future__ import annotations

from collections.abc import Mapping

from console.services.permissions import Actor, Permission
from console.services.workstation import Workstation, writing

READ_ACTION = "records_read"


def may_read(workstation: Workstation, actor: Actor) -> None:
    """Refuse (``NotAllowed``) a staff user who may not view patient data, read again from
    the database: someone disabled or demoted since signing in reads nothing."""
    actor.require(Permission.VIEW_ACCOUNTS)
    with writing(workstation, actor, Permission.VIEW_ACCOUNTS):
        pass


def record_read(
    workstation: Workstation,
    actor: Actor,
    what: str,
    filters: Mapping[str, object],
    rows: int,
    *,
    target: tuple[str, int] | None = None,
) -> None:
    """Append the audit event of ``actor`` having read ``rows`` rows of ``what`` (a command
    or a page) under ``filters`` (JSON-serialisable; None values are left out); ``target``
    names the one record read, as (type, id)."""
    details = {
        "what": what,
        "filter": {name: value for name, value in filters.items() if value is not None},
        "rows": rows,
    }
    with writing(workstation, actor, Permission.VIEW_ACCOUNTS) as session:
        workstation.audit.record(
            session,
            READ_ACTION,
            actor=actor,
            target_type=target[0] if target else None,
            target_id=target[1] if target else None,
            details=details,
        )


__all__ = ["READ_ACTION", "may_read", "record_read"]
