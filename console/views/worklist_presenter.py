"""What the shared-e-mail worklist decides, without Qt: the heading's figures, what a failed
read says, and which addresses an action's ``Changes`` make it read again.

``WorklistPresenter`` reads the whole worklist with ``shared_email_worklist`` in the worker,
and after an action only the shown addresses the action names: a cluster that no longer
shares leaves the list at once, the others are updated in place. Its screen
(``WorklistScreen``: the ``WorklistView``, or a test's stand-in) shows the clusters.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Protocol

from console.models.worklist import ClusterCase
from console.services.accounts.worklist import shared_email_worklist
from console.services.desk import StaffDesk
from console.services.errors import DomainError
from console.services.workstation import Changes
from console.views.list_presenter import ListPresenter, ListScreen, count_text
from console.workers.service_calls import Submitter

LOADING_TEXT = "Loading the shared e-mails…"
NONE_LEFT = "No shared addresses: every active account has an e-mail of its own"


def counts_text(addresses: int, accounts: int) -> str:
    """ "312 shared addresses · 748 accounts"."""
    return (
        f"{count_text(addresses, 'shared address', 'shared addresses')} · "
        f"{count_text(accounts, 'account', 'accounts')}"
    )


def figures_for(cases: Sequence[ClusterCase]) -> str:
    """The heading's figures for the clusters shown."""
    if not cases:
        return NONE_LEFT
    return counts_text(len(cases), sum(len(case.accounts) for case in cases))


class WorklistScreen(ListScreen, Protocol):
    """What the presenter asks of and tells the worklist page."""

    def shown_cases(self) -> Sequence[ClusterCase]:
        """The clusters shown, in order."""
        ...

    def show_clusters(self, cases: Sequence[ClusterCase]) -> None:
        """Show ``cases`` instead of all shown, the selected one kept when still there."""
        ...

    def update_clusters(self, resolved: frozenset[str], cases: Sequence[ClusterCase]) -> None:
        """Take out the clusters of the ``resolved`` addresses; put ``cases`` in place."""
        ...

    def page_shown(self, count: int) -> None:
        """The list (or the part an action changed) arrived: ``count`` clusters shown."""
        ...


class WorklistPresenter(ListPresenter):
    """The worklist's reads and figures."""

    def __init__(
        self,
        screen: WorklistScreen,
        desk: StaffDesk,
        runner: Submitter,
    ) -> None:
        super().__init__(screen, runner)
        self._page = screen
        self._desk = desk

    def refresh(self) -> None:
        """Read the whole worklist again."""
        work = partial(self._desk.act, shared_email_worklist)
        self._read(
            "Loading the shared e-mails",
            work,
            self._show_all,
            loading=LOADING_TEXT,
            drop_older=False,
        )

    def resolved(self, changes: Changes) -> None:
        """After an action: read again the shown addresses ``changes`` names; after records
        changed by the thousand (``bulk``: an import, which may add addresses that now
        share), the whole worklist."""
        if changes.bulk:
            self.refresh()
            return
        shown = {case.email_key for case in self._page.shown_cases()}
        keys = frozenset(changes.email_keys) & shown
        if not keys:
            return
        work = partial(self._desk.act, shared_email_worklist, email_keys=keys)
        self._read(
            "Updating the shared e-mails",
            work,
            partial(self._show_changed, keys),
            drop_older=False,
        )

    # --- answers -------------------------------------------------------------------------

    def _show_all(self, cases: list[ClusterCase]) -> None:
        self._settled()
        self._page.show_clusters(cases)
        self._show_figures()

    def _show_changed(self, keys: frozenset[str], cases: list[ClusterCase]) -> None:
        self._settled()
        still = {case.email_key for case in cases}
        self._page.update_clusters(keys - still, cases)
        self._show_figures()

    def _show_figures(self) -> None:
        shown = self._page.shown_cases()
        self._page.show_figures(figures_for(shown))
        self._page.page_shown(len(shown))

    def _read_refused(self, error: DomainError) -> None:
        self._settled()
        self._page.show_figures(str(error), problem=True)


__all__ = [
    "LOADING_TEXT",
    "NONE_LEFT",
    "WorklistPresenter",
    "WorklistScreen",
    "counts_text",
    "figures_for",
]
