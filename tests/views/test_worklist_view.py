"""The shared-e-mail worklist view over a real database and a real worker: it loads, offers
each account's step, and a cluster resolved by a revoke leaves at once (issue 6, point 4)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton
from pytestqt.qtbot import QtBot

from console.adapters.cluster_tree import ClusterRoles
from console.services.accounts.actions import RevokeReason, revoke_access
from console.services.desk import StaffDesk
from console.services.permissions import Actor
from console.services.workstation import Workstation
from console.views.worklist_view import DO_STEP, EMPTY_DETAIL, WorklistView
from console.workers.job_runner import JobRunner
from tests.services.test_worklist import HOPPER, KIDS, TURING, add_families


@pytest.fixture
def runner() -> Iterator[JobRunner]:
    jobs = JobRunner()
    yield jobs
    jobs.close()


@pytest.fixture
def view(qtbot: QtBot, desk: Workstation, actor: Actor, runner: JobRunner) -> WorklistView:
    widget = WorklistView(StaffDesk(desk, actor), runner)
    qtbot.addWidget(widget)
    widget.resize(1100, 600)
    return widget


def load(qtbot: QtBot, view: WorklistView) -> None:
    with qtbot.waitSignal(view.loaded, timeout=5000):
        view.refresh()
    assert view.busy is False


def shown_keys(view: WorklistView) -> list[str]:
    return [case.email_key for case in view.model.cases]


def test_loads_the_clusters_with_their_counts(
    qtbot: QtBot, view: WorklistView, desk: Workstation
) -> None:
    add_families(desk)
    load(qtbot, view)
    assert shown_keys(view) == [HOPPER, KIDS, TURING]
    assert view.counts == "3 shared addresses · 8 accounts"
    assert view.model.rowCount(view.model.index(0, 0)) == 4


def test_selecting_a_cluster_shows_its_steps_and_a_step_is_chosen(
    qtbot: QtBot, view: WorklistView, desk: Workstation
) -> None:
    ids = add_families(desk)
    load(qtbot, view)
    view.tree.setCurrentIndex(view.model.index(0, 0))
    texts = [label.text() for label in view.detail.findChildren(QLabel)]
    assert HOPPER in texts
    assert f"Keep: Grace Hopper (adult) keeps {HOPPER}" in texts
    buttons = [b for b in view.detail.findChildren(QPushButton) if b.text() == DO_STEP]
    assert len(buttons) == 3  # nothing to do for the account that keeps the address
    with qtbot.waitSignal(view.account_chosen) as chosen:
        buttons[0].click()
    assert chosen.args[2] in {"link_to_guardian", "revoke_and_reinvite"}
    # Enter on an account row says the same.
    hopper = view.model.index(0, 0)
    view.tree.expand(hopper)
    walter = next(
        view.model.index(row, 0, hopper)
        for row in range(view.model.rowCount(hopper))
        if view.model.index(row, 0, hopper).data(ClusterRoles.ACCOUNT_ID) == ids["Walter Hopper"]
    )
    view.tree.setCurrentIndex(walter)
    view.tree.setFocus()
    with qtbot.waitSignal(view.account_chosen) as chosen:
        qtbot.keyClick(view.tree, Qt.Key.Key_Return)
    assert chosen.args == [
        ids["Walter Hopper"],
        walter.data(ClusterRoles.PATIENT_ID),
        "link_to_guardian",
    ]


def test_a_resolved_cluster_leaves_at_once(
    qtbot: QtBot, view: WorklistView, desk: Workstation, actor: Actor
) -> None:
    ids = add_families(desk)
    load(qtbot, view)
    view.tree.setCurrentIndex(view.model.index(2, 0))  # Turing: two adults
    resets: list[None] = []
    view.model.modelReset.connect(lambda: resets.append(None))
    changes = revoke_access(desk, actor, ids["Sara Turing"], reason=RevokeReason.SHARED_EMAIL)
    with qtbot.waitSignal(view.loaded, timeout=5000):
        view.resolved(changes)
    assert shown_keys(view) == [HOPPER, KIDS]
    assert not resets
    assert view.counts == "2 shared addresses · 6 accounts"
    # A revoke in a bigger cluster keeps it, one account fewer.
    changes = revoke_access(desk, actor, ids["Alan Hopper"], reason=RevokeReason.SHARED_EMAIL)
    with qtbot.waitSignal(view.loaded, timeout=5000):
        view.resolved(changes)
    assert shown_keys(view) == [HOPPER, KIDS]
    assert view.model.rowCount(view.model.index(0, 0)) == 3


def test_clear_leaves_no_patient_data(qtbot: QtBot, view: WorklistView, desk: Workstation) -> None:
    add_families(desk)
    load(qtbot, view)
    view.tree.setCurrentIndex(view.model.index(0, 0))
    view.clear()
    assert view.model.rowCount() == 0 and view.counts == ""
    texts = " ".join(label.text() for label in view.detail.findChildren(QLabel))
    assert "Hopper" not in texts and EMPTY_DETAIL in texts
