"""The shared-e-mail worklist: every address that more than one active account logs in
with, its accounts, and a proposed way to resolve it (issue 6, point 4).

The proposal follows the clinic's usual fix for a family sharing one address (SPEC §5,
"Family link"), with plain rules a front desk can check against the chart:

1. The **oldest adult** (18 or more on today's date) keeps the address on their own account
   ("keep"). Ties go to the earlier-created account (the lower id).
2. Every **minor** in the cluster has their chart linked to that account as ``guardian``, and
   their own account revoked ("link_to_guardian").
3. Every **other adult** gets their account revoked and an invitation re-issued to an address
   of their own ("revoke_and_reinvite").
4. With **no adult** in the cluster, nobody can be a guardian: the oldest person keeps the
   address and all the others are re-invited at addresses of their own.

It is only a proposal: staff carry it out step by step through the usual dialogs, which
check everything again. The query and the values are ``models.worklist``.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.orm import Session

from console.models.worklist import (
    KEEP,
    LINK_TO_GUARDIAN,
    REVOKE_AND_REINVITE,
    ClusterAccount,
    ClusterCase,
    ProposedStep,
    read_shared_clusters,
)
from console.services.permissions import Actor, Permission
from console.services.workstation import Workstation


def shared_email_worklist(
    workstation: Workstation,
    actor: Actor,
    *,
    limit: int | None = None,
    email_keys: Collection[str] | None = None,
) -> list[ClusterCase]:
    """Every shared-e-mail cluster, ordered by address, with a proposed resolution each.

    ``limit`` keeps the first clusters only; ``email_keys`` reads only those addresses (by
    comparison key), e.g. after an action changed them: a key missing from the answer no
    longer shares. Raises ``NotAllowed`` for a role that may not view accounts."""
    actor.require(Permission.VIEW_ACCOUNTS)
    today = workstation.clock.now().date()
    with Session(workstation.database.engine) as session:
        clusters = read_shared_clusters(session, today=today, limit=limit, email_keys=email_keys)
    return [
        _case(key, accounts)
        for key, accounts in clusters.items()
        # A cluster caught half-way through a change by another workstation.
        if len(accounts) > 1
    ]


def _case(key: str, accounts: list[ClusterAccount]) -> ClusterCase:
    keeper = _keeper(accounts)
    return ClusterCase(key, keeper.login_email, tuple(accounts), propose_resolution(accounts))


def _keeper(accounts: Collection[ClusterAccount]) -> ClusterAccount:
    # Oldest first: the earliest birth date, then the earliest account.
    return min(accounts, key=lambda a: (a.birth_date, a.account_id))


def propose_resolution(accounts: Collection[ClusterAccount]) -> tuple[ProposedStep, ...]:
    """The proposed steps for ``accounts`` sharing one address, one per account in the
    given order, by the rules in this module's docstring."""
    if not accounts:
        return ()
    keeper = _keeper(accounts)
    address = keeper.login_email
    has_adult = keeper.adult
    steps = []
    for account in accounts:
        if account.account_id == keeper.account_id:
            steps.append(
                ProposedStep(
                    KEEP,
                    account.account_id,
                    account.patient_id,
                    f"Keep: {account.who} keeps {address}",
                )
            )
        elif has_adult and not account.adult:
            steps.append(
                ProposedStep(
                    LINK_TO_GUARDIAN,
                    account.account_id,
                    account.patient_id,
                    f"Link {account.who} to {keeper.full_name}'s account as guardian, "
                    f"then revoke {account.first_name}'s own account",
                    guardian_account_id=keeper.account_id,
                )
            )
        else:
            why = "" if has_adult else " (no adult here to act as guardian)"
            steps.append(
                ProposedStep(
                    REVOKE_AND_REINVITE,
                    account.account_id,
                    account.patient_id,
                    f"Re-invite {account.who} at an e-mail of their own{why}",
                )
            )
    return tuple(steps)


__all__ = ["propose_resolution", "shared_email_worklist"]
