"""Reading the shared-e-mail clusters and the migration's headline figures.

The flag itself is kept by database triggers (see the initial migration); these queries only
read it, through the ``(shared_email, email_key)`` index.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from console.models.schema import PortalAccount
from console.models.states import AccountState


@dataclass(frozen=True)
class SharedEmailCluster:
    """Active accounts that log in with the same address (by comparison key)."""

    email_key: str
    usernames: tuple[str, ...]

    @property
    def accounts(self) -> int:
        """How many active accounts share the address."""
        return len(self.usernames)


@dataclass(frozen=True)
class AccountStats:
    """Headline figures of the migration."""

    accounts: int
    by_state: dict[str, int]
    shared_email_accounts: int
    shared_email_clusters: int


def shared_email_clusters(connection: Connection) -> list[SharedEmailCluster]:
    """Every cluster, ordered by address; usernames sorted within each cluster."""
    statement = (
        select(PortalAccount.email_key, PortalAccount.username)
        .where(PortalAccount.shared_email.is_(True))
        .order_by(PortalAccount.email_key, PortalAccount.username)
    )
    clusters: dict[str, list[str]] = {}
    for key, username in connection.execute(statement):
        clusters.setdefault(key or "", []).append(username)
    return [
        SharedEmailCluster(key, tuple(sorted(names))) for key, names in sorted(clusters.items())
    ]


def account_stats(connection: Connection) -> AccountStats:
    """Counts by state and of shared-e-mail accounts and clusters."""
    by_state = {state.value: 0 for state in AccountState}
    for state, count in connection.execute(
        select(PortalAccount.state, func.count()).group_by(PortalAccount.state)
    ):
        by_state[state] = count
    shared_accounts, clusters = connection.execute(
        select(func.count(), func.count(PortalAccount.email_key.distinct())).where(
            PortalAccount.shared_email.is_(True)
        )
    ).one()
    return AccountStats(
        accounts=sum(by_state.values()),
        by_state=by_state,
        shared_email_accounts=int(shared_accounts),
        shared_email_clusters=int(clusters),
    )
