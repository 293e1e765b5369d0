"""The shared-e-mail worklist (issue 6, point 4): every address more than one active
account logs in with, expanding to its accounts, and a proposed resolution per cluster that
staff carry out step by step through the usual dialogs.

A ``ListPage`` whose reads and figures are the ``WorklistPresenter``'s. A chosen step
leaves as ``account_chosen(account id, patient id, step kind)`` for the window to open the
Revoke / Re-issue / Link dialog. After an action, ``resolved(changes)`` re-reads only the
addresses it names: a cluster that no longer shares leaves the list at once, without a reset.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from PySide6.QtCore import QModelIndex, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from console.adapters.cluster_tree import (
    STEP_LABELS,
    ClusterColumn,
    ClusterRoles,
    ClusterTreeModel,
    people_with_ages,
)
from console.models.worklist import KEEP, ClusterCase, ProposedStep
from console.services.desk import StaffDesk
from console.services.workstation import Changes
from console.views.list_page import ListPage, named_label
from console.views.list_presenter import count_text
from console.views.worklist_presenter import WorklistPresenter
from console.workers.service_calls import Submitter

EMPTY_DETAIL = "Select a shared address to see how to resolve it"
DO_STEP = "Do this step…"

_STYLE = """
QLabel#worklistCounts { color: #5f6b7a; font-size: 13px; }
QLabel#worklistCounts[problem="true"] { color: #b42318; }
QTreeView#clusterTree { background: #ffffff; border: 1px solid #d5dae1; border-radius: 4px; }
QTreeView#clusterTree::item { padding: 3px 2px; }
QTreeView#clusterTree::item:selected { background: #dbe8f7; color: #1f2933; }
QWidget#clusterDetail { background: #ffffff; }
QScrollArea#clusterDetailScroll { background: #ffffff; border: 1px solid #d5dae1;
    border-radius: 4px; }
QLabel#detailAddress { font-size: 16px; font-weight: 600; color: #1f2933; }
QLabel#detailPeople { color: #3e4a59; }
QLabel#detailPlaceholder { color: #6b7684; font-size: 13px; padding: 24px; }
QLabel#sectionTitle { color: #2b6cb0; font-size: 11px; font-weight: 700;
    border-bottom: 1px solid #e3e7ec; padding-bottom: 3px; }
QLabel#stepNumber { color: #6b7684; font-weight: 700; }
QLabel#stepPill { border-radius: 4px; padding: 1px 6px; font-size: 11px; font-weight: 600;
    background: #e8f0fa; color: #28476b; border: 1px solid #b9cde6; }
QLabel#stepPill[kind="keep"] { background: #ecf8f0; color: #1f5c37; border-color: #9fd4b1; }
QLabel#stepPill[kind="revoke_and_reinvite"] { background: #fff4dc; color: #4a3200;
    border-color: #e3b254; }
QLabel#stepText { color: #1f2933; }
QLabel#stepNote { color: #6b7684; font-size: 11px; }
QLabel#detailHint { color: #6b7684; font-size: 11px; }
"""


class _ClusterDetail(QWidget):
    """The selected cluster: who shares the address and the proposed steps, each with a
    button that hands it to the window."""

    step_chosen = Signal(int, int, str)

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("clusterDetail")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(16, 14, 16, 14)
        self._layout.setSpacing(10)
        self.case: ClusterCase | None = None
        self.show_case(None)

    def show_case(self, case: ClusterCase | None) -> None:
        """Show ``case`` (None: the placeholder); widgets of the previous one are deleted."""
        self.case = case
        while self._layout.count():
            item = self._layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.setParent(None)  # at once: no patient data left among the children
                widget.deleteLater()
        if case is None:
            placeholder = named_label(
                "No cluster selected", "detailPlaceholder", EMPTY_DETAIL, wrap=True
            )
            placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self._layout.addWidget(placeholder)
            self._layout.addStretch(1)
            return
        self._layout.addWidget(
            named_label("Shared address", "detailAddress", case.address, wrap=True)
        )
        self._layout.addWidget(
            named_label(
                "Who shares it",
                "detailPeople",
                f"{len(case.accounts)} accounts: {people_with_ages(case)}",
                wrap=True,
            )
        )
        self._layout.addSpacing(4)
        self._layout.addWidget(
            named_label(
                "Proposed resolution section", "sectionTitle", "PROPOSED RESOLUTION", wrap=True
            )
        )
        ordered = sorted(case.steps, key=lambda s: s.kind != KEEP)
        for number, step in enumerate(ordered, start=1):
            self._layout.addWidget(self._step_row(case, number, step))
        self._layout.addSpacing(6)
        self._layout.addWidget(
            named_label(
                "How steps are chosen",
                "detailHint",
                "The oldest adult keeps the address; children's charts are linked to that "
                "account as guardian; other adults are re-invited at an address of their own. "
                "Messages and intake forms of a revoked account stay with the clinic.",
                wrap=True,
            )
        )
        self._layout.addStretch(1)

    def _step_row(self, case: ClusterCase, number: int, step: ProposedStep) -> QWidget:
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        line.setSpacing(8)
        line.addWidget(
            named_label(f"Step {number}", "stepNumber", f"{number}."),
            0,
            Qt.AlignmentFlag.AlignTop,
        )
        pill = named_label(f"Step {number} kind", "stepPill", STEP_LABELS[step.kind])
        pill.setProperty("kind", step.kind)
        pill.setAlignment(Qt.AlignmentFlag.AlignCenter)
        pill.setFixedWidth(126)
        line.addWidget(pill, 0, Qt.AlignmentFlag.AlignTop)
        texts = QVBoxLayout()
        texts.setSpacing(1)
        texts.addWidget(named_label(f"Step {number}", "stepText", step.explanation, wrap=True))
        account = next(a for a in case.accounts if a.account_id == step.account_id)
        left = (
            f"{account.username} · {count_text(account.message_count, 'message', 'messages')} · "
            f"{count_text(account.intake_form_count, 'intake form', 'intake forms')}"
        )
        texts.addWidget(named_label(f"Step {number} account", "stepNote", left, wrap=True))
        line.addLayout(texts, 1)
        if step.kind != KEEP:  # under the words, so that they keep the panel's width
            button = QPushButton(DO_STEP)
            button.setAccessibleName(f"Do step {number}: {STEP_LABELS[step.kind]}")
            button.setToolTip(step.explanation)
            button.clicked.connect(
                partial(self.step_chosen.emit, step.account_id, step.patient_id, step.kind)
            )
            texts.addSpacing(3)
            texts.addWidget(button, 0, Qt.AlignmentFlag.AlignLeft)
        return row


class WorklistView(ListPage):
    """The shared-e-mail clusters, their accounts and the proposed resolution of the
    selected one."""

    #: An account's step chosen (Enter, double-click or "Do this step…"): account id,
    #: patient id, step kind ("link_to_guardian", "revoke_and_reinvite" or "keep").
    account_chosen = Signal(int, int, str)
    #: The list (or the part an action changed) arrived: how many clusters are shown.
    loaded = Signal(int)

    def __init__(
        self,
        desk: StaffDesk,
        runner: Submitter,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            "worklist",
            "Shared e-mails",
            refresh_name="Refresh the shared e-mails",
            busy_name="Loading the shared e-mails",
            figures_name="Shared e-mail counts",
            figures_in_header=True,
            style=_STYLE,
            parent=parent,
        )
        self.presenter = WorklistPresenter(self, desk, runner)

        self.model = ClusterTreeModel(self)
        self.tree = QTreeView()
        self.tree.setObjectName("clusterTree")
        self.tree.setAccessibleName("Shared addresses and their accounts")
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setExpandsOnDoubleClick(False)
        tree_header = self.tree.header()
        tree_header.setStretchLastSection(True)
        for column, width in (
            (ClusterColumn.ADDRESS, 220),
            (ClusterColumn.WHO, 196),
            (ClusterColumn.AGE, 84),
            (ClusterColumn.STATE, 84),
        ):
            tree_header.resizeSection(column, width)
        tree_header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.tree.activated.connect(self._activated)
        self.tree.selectionModel().currentChanged.connect(self._selection_changed)

        self.detail = _ClusterDetail()
        self.detail.step_chosen.connect(self.account_chosen)
        scroll = QScrollArea()
        scroll.setObjectName("clusterDetailScroll")
        scroll.setAccessibleName("Proposed resolution, scrollable")
        scroll.setWidget(self.detail)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setMinimumWidth(300)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.tree)
        self.splitter.addWidget(scroll)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([940, 480])
        self.lay_out(self.splitter, header_spacing=12)

    @property
    def busy(self) -> bool:
        """Whether a read is under way."""
        return self.presenter.busy

    @property
    def counts(self) -> str:
        """The header's figures ("312 shared addresses · 748 accounts")."""
        return self.figures

    @Slot()
    def refresh(self) -> None:
        """Read the whole worklist again, in the worker."""
        self.presenter.refresh()

    @Slot(object)
    def resolved(self, changes: Changes) -> None:
        """After an action: re-read the addresses ``changes`` names that are shown; those
        that no longer share leave the list, the others are updated in place."""
        self.presenter.resolved(changes)

    def clear(self) -> None:
        """Forget every cluster and answers on their way (the lock screen)."""
        self.presenter.clear()
        self.model.load([])
        self.detail.show_case(None)

    # --- WorklistScreen ------------------------------------------------------------------

    def shown_cases(self) -> Sequence[ClusterCase]:
        """The clusters shown, in order."""
        return self.model.cases

    def show_clusters(self, cases: Sequence[ClusterCase]) -> None:
        """Show ``cases``, the selected cluster still selected when it is among them."""
        chosen = self.detail.case.email_key if self.detail.case else None
        self.model.load(cases)
        row = self.model.row_of(chosen) if chosen else None
        if row is not None:
            self.tree.setCurrentIndex(self.model.index(row, 0))
        else:
            self.detail.show_case(None)

    def update_clusters(self, resolved: frozenset[str], cases: Sequence[ClusterCase]) -> None:
        """Take out the clusters of the ``resolved`` addresses; put ``cases`` in place."""
        self.model.remove_resolved(resolved)
        for case in cases:
            self.model.replace_cluster(case)
        self._selection_changed()

    def page_shown(self, count: int) -> None:
        """Say that the list arrived."""
        self.loaded.emit(count)

    # --- internals -----------------------------------------------------------------------

    def _selection_changed(self, *_args: QModelIndex) -> None:
        case = self.model.case_at(self.tree.currentIndex())
        if case is not self.detail.case:
            self.detail.show_case(case)

    def _activated(self, index: QModelIndex) -> None:
        account_id = index.data(ClusterRoles.ACCOUNT_ID)
        if account_id is None:
            self.tree.setExpanded(index.siblingAtColumn(0), not self.tree.isExpanded(index))
            return
        self.account_chosen.emit(
            account_id, index.data(ClusterRoles.PATIENT_ID), index.data(ClusterRoles.STEP_KIND)
        )


__all__ = ["DO_STEP", "EMPTY_DETAIL", "WorklistView"]
