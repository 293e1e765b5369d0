"""The worklist's decisions, driven without a display or a QApplication: a fake screen, a
real database and a runner that runs the work inline (or holds it)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from console.models.worklist import ClusterCase
from console.services.accounts.actions import RevokeReason, revoke_access
from console.services.desk import StaffDesk
from console.services.permissions import Actor
from console.services.workstation import Changes, Workstation
from console.views.worklist_presenter import (
    LOADING_TEXT,
    NONE_LEFT,
    WorklistPresenter,
    counts_text,
)
from tests.runners import HeldRunner, InlineRunner
from tests.services.test_worklist import HOPPER, KIDS, TURING, add_families
from tests.views.fake_screens import FakeListScreen


class FakeWorklistScreen(FakeListScreen):
    def __init__(self) -> None:
        super().__init__()
        self.cases: list[ClusterCase] = []
        self.reloads = 0

    def shown_cases(self) -> Sequence[ClusterCase]:
        return self.cases

    def show_clusters(self, cases: Sequence[ClusterCase]) -> None:
        self.cases = list(cases)
        self.reloads += 1

    def update_clusters(self, resolved: frozenset[str], cases: Sequence[ClusterCase]) -> None:
        fresh = {case.email_key: case for case in cases}
        self.cases = [
            fresh.get(case.email_key, case) for case in self.cases if case.email_key not in resolved
        ]


@pytest.fixture
def screen() -> FakeWorklistScreen:
    return FakeWorklistScreen()


def keys(screen: FakeWorklistScreen) -> list[str]:
    return [case.email_key for case in screen.cases]


def test_counts_text() -> None:
    assert counts_text(312, 748) == "312 shared addresses · 748 accounts"
    assert counts_text(1, 1) == "1 shared address · 1 account"
    assert counts_text(1_204, 2_410) == "1,204 shared addresses · 2,410 accounts"


def test_loads_the_clusters_with_their_figures(
    screen: FakeWorklistScreen, desk: Workstation, actor: Actor
) -> None:
    add_families(desk)
    held = HeldRunner()
    presenter = WorklistPresenter(screen, StaffDesk(desk, actor), held)
    presenter.refresh()
    assert screen.busy and screen.figures == LOADING_TEXT
    held.run_all()
    assert not screen.busy and not presenter.busy
    assert keys(screen) == [HOPPER, KIDS, TURING]
    assert (screen.figures, screen.problem) == ("3 shared addresses · 8 accounts", False)
    assert screen.pages == [3]


def test_no_shared_address_says_so(
    screen: FakeWorklistScreen, desk: Workstation, actor: Actor
) -> None:
    WorklistPresenter(screen, StaffDesk(desk, actor), InlineRunner()).refresh()
    assert screen.figures == NONE_LEFT and screen.pages == [0]


def test_an_action_reads_again_only_the_addresses_it_names(
    screen: FakeWorklistScreen, desk: Workstation, actor: Actor
) -> None:
    ids = add_families(desk)
    runner = InlineRunner()
    presenter = WorklistPresenter(screen, StaffDesk(desk, actor), runner)
    presenter.refresh()
    presenter.resolved(Changes(email_keys=frozenset({"someone.else@example.org"})))
    assert runner.calls == 1  # not shown: nothing read
    changes = revoke_access(desk, actor, ids["Sara Turing"], reason=RevokeReason.SHARED_EMAIL)
    presenter.resolved(changes)
    assert runner.calls == 2 and screen.reloads == 1  # read the part, not the whole
    assert keys(screen) == [HOPPER, KIDS]
    assert screen.figures == "2 shared addresses · 6 accounts"
    changes = revoke_access(desk, actor, ids["Alan Hopper"], reason=RevokeReason.SHARED_EMAIL)
    presenter.resolved(changes)
    assert keys(screen) == [HOPPER, KIDS]
    assert len(screen.cases[0].accounts) == 3
    assert screen.pages == [3, 2, 2]


def test_records_changed_by_the_thousand_read_the_whole_worklist_again(
    screen: FakeWorklistScreen, desk: Workstation, actor: Actor
) -> None:
    """An import may make addresses shared that were not shown: only a whole read finds
    them (the part read of the shown addresses would not)."""
    runner = InlineRunner()
    presenter = WorklistPresenter(screen, StaffDesk(desk, actor), runner)
    presenter.refresh()
    assert keys(screen) == []
    add_families(desk)  # as an import would
    presenter.resolved(Changes(email_keys=frozenset({HOPPER})))
    assert keys(screen) == []  # not shown before: the part read has nothing to read
    presenter.resolved(Changes(email_keys=frozenset({HOPPER}), bulk=True))
    assert keys(screen) == [HOPPER, KIDS, TURING] and screen.reloads == 2
    assert screen.figures == "3 shared addresses · 8 accounts"


def test_a_part_read_does_not_drop_the_whole_on_its_way(
    screen: FakeWorklistScreen, desk: Workstation, actor: Actor
) -> None:
    ids = add_families(desk)
    held = HeldRunner()
    presenter = WorklistPresenter(screen, StaffDesk(desk, actor), held)
    presenter.refresh()
    held.run_all()
    presenter.refresh()
    changes = revoke_access(desk, actor, ids["Sara Turing"], reason=RevokeReason.SHARED_EMAIL)
    presenter.resolved(changes)
    assert len(held.jobs) == 2
    held.run_all()
    assert keys(screen) == [HOPPER, KIDS] and screen.reloads == 2
    assert not presenter.busy and not screen.busy


def test_a_refused_read_is_said_in_the_figures(
    screen: FakeWorklistScreen, desk: Workstation
) -> None:
    nobody = Actor(9999, "nobody", "no-such-role")
    WorklistPresenter(screen, StaffDesk(desk, nobody), InlineRunner()).refresh()
    assert screen.problem and "no valid role" in screen.figures
    assert not screen.busy and screen.cases == []


def test_clear_drops_answers_on_their_way(
    screen: FakeWorklistScreen, desk: Workstation, actor: Actor
) -> None:
    add_families(desk)
    held = HeldRunner()
    presenter = WorklistPresenter(screen, StaffDesk(desk, actor), held)
    presenter.refresh()
    presenter.clear()
    held.run_all()
    assert screen.cases == [] and screen.figures == "" and not screen.busy
