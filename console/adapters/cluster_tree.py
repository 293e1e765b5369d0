"""The shared-e-mail worklist as a Qt tree model: clusters, each expanding to its accounts.

The model holds the ``ClusterCase`` values the last ``shared_email_worklist`` returned (a
clinic has at most a few thousand clusters, each a handful of accounts). ``load`` replaces
them all; ``remove_resolved`` takes out only the clusters that no longer share, one
``beginRemoveRows`` each, so that the rows staff have open or selected stay where they are.

Each account row's index carries its cluster's serial number (given at ``load``, never
reused), so that ``parent()`` still finds the right cluster after rows above it are removed.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from console.adapters.account_cells import STATE_LABELS
from console.adapters.row_table import horizontal_header
from console.models.states import AccountState
from console.models.worklist import (
    KEEP,
    LINK_TO_GUARDIAN,
    REVOKE_AND_REINVITE,
    ClusterAccount,
    ClusterCase,
)

_Index = QModelIndex | QPersistentModelIndex
_USER_ROLE = int(Qt.ItemDataRole.UserRole)


class ClusterColumn(IntEnum):
    """The tree's columns, in order. A cluster row uses the first two and the last."""

    ADDRESS = 0
    WHO = 1
    AGE = 2
    STATE = 3
    STEP = 4


_HEADERS = {
    ClusterColumn.ADDRESS: "Shared address / username",
    ClusterColumn.WHO: "Who",
    ClusterColumn.AGE: "Age",
    ClusterColumn.STATE: "State",
    ClusterColumn.STEP: "Proposed step",
}


_HEADER_TEXTS = [_HEADERS[c] for c in ClusterColumn]


class ClusterRoles(IntEnum):
    """Item data roles the worklist answers besides Qt's own."""

    #: ``int`` — the portal account's id (account rows; None on a cluster row).
    ACCOUNT_ID = _USER_ROLE + 1
    #: ``int`` — the account holder's chart (account rows).
    PATIENT_ID = _USER_ROLE + 2
    #: ``str`` — the proposed step's kind: "keep", "link_to_guardian", "revoke_and_reinvite".
    STEP_KIND = _USER_ROLE + 3
    #: ``str`` — the address's comparison key (cluster and account rows).
    EMAIL_KEY = _USER_ROLE + 4
    #: ``ClusterCase`` — the whole cluster (cluster and account rows).
    CLUSTER_CASE = _USER_ROLE + 5


#: The proposed step's short name, for the cluster's summary and the step buttons.
STEP_LABELS: dict[str, str] = {
    KEEP: "Keep",
    LINK_TO_GUARDIAN: "Link to guardian",
    REVOKE_AND_REINVITE: "Re-invite",
}


def _plural(n: int, thing: str) -> str:
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"


def people_with_ages(case: ClusterCase) -> str:
    """ "Grace Hopper (49), Walter Hopper (13)", oldest first."""
    oldest_first = sorted(case.accounts, key=lambda a: (a.birth_date, a.account_id))
    return ", ".join(f"{a.full_name} ({a.age})" for a in oldest_first)


def step_summary(case: ClusterCase) -> str:
    """ "Keep 1 · Link to guardian 2 · Re-invite 1" (kinds that occur, in that order)."""
    kinds = [step.kind for step in case.steps]
    return " · ".join(
        f"{label} {kinds.count(kind)}" for kind, label in STEP_LABELS.items() if kind in kinds
    )


def _cluster_text(case: ClusterCase, column: ClusterColumn) -> str:
    if column is ClusterColumn.ADDRESS:
        return case.address.strip()
    if column is ClusterColumn.WHO:
        return f"{_plural(len(case.accounts), 'account')} — {people_with_ages(case)}"
    if column is ClusterColumn.STEP:
        return step_summary(case)
    return ""


def _account_text(case: ClusterCase, account: ClusterAccount, column: ClusterColumn) -> str:
    if column is ClusterColumn.ADDRESS:
        return account.username
    if column is ClusterColumn.WHO:
        return account.full_name
    if column is ClusterColumn.AGE:
        return f"{account.age}" if account.adult else f"{account.age} (minor)"
    if column is ClusterColumn.STATE:
        try:
            return STATE_LABELS[AccountState(account.state)]
        except ValueError:
            return account.state
    step = case.step_for(account.account_id)
    return step.explanation if step is not None else ""


class ClusterTreeModel(QAbstractItemModel):
    """Shared-e-mail clusters (top level) and their accounts (children); read-only."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cases: list[ClusterCase] = []
        self._serials: list[int] = []
        self._row_of_serial: dict[int, int] = {}
        self._next_serial = 1

    # --- what the view asks ---------------------------------------------------------------

    def load(self, cases: Sequence[ClusterCase]) -> None:
        """Show ``cases`` (as ``shared_email_worklist`` returned them), replacing all."""
        self.beginResetModel()
        self._cases = list(cases)
        self._serials = list(range(self._next_serial, self._next_serial + len(self._cases)))
        self._next_serial += len(self._cases)
        self._reindex()
        self.endResetModel()

    def remove_resolved(self, email_keys: Collection[str]) -> int:
        """Take out the clusters of ``email_keys`` (which no longer share), one row removal
        each, nothing else touched. Returns how many were removed."""
        keys = set(email_keys)
        rows = [row for row, case in enumerate(self._cases) if case.email_key in keys]
        for row in reversed(rows):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._cases[row]
            del self._serials[row]
            self._reindex()
            self.endRemoveRows()
        return len(rows)

    def replace_cluster(self, case: ClusterCase) -> bool:
        """Show ``case`` in place of the cluster with its key (it still shares, but its
        accounts or proposal changed): its account rows are replaced, the cluster row kept.
        Returns False when no such cluster is shown."""
        row = self.row_of(case.email_key)
        if row is None:
            return False
        parent = self.index(row, 0)
        old = self._cases[row]
        if old.accounts:
            self.beginRemoveRows(parent, 0, len(old.accounts) - 1)
            self._cases[row] = ClusterCase(old.email_key, old.address, (), ())
            self.endRemoveRows()
        if case.accounts:
            self.beginInsertRows(parent, 0, len(case.accounts) - 1)
        self._cases[row] = case
        if case.accounts:
            self.endInsertRows()
        self.dataChanged.emit(parent, self.index(row, len(ClusterColumn) - 1))
        return True

    def row_of(self, email_key: str) -> int | None:
        """The top-level row of the cluster of ``email_key``, or None."""
        for row, case in enumerate(self._cases):
            if case.email_key == email_key:
                return row
        return None

    def case_at(self, index: _Index) -> ClusterCase | None:
        """The cluster of ``index`` (a cluster row or one of its accounts)."""
        if not index.isValid():
            return None
        serial = int(index.internalId())
        row = index.row() if serial == 0 else self._row_of_serial.get(serial)
        if row is None or not 0 <= row < len(self._cases):
            return None
        return self._cases[row]

    def account_at(self, index: _Index) -> ClusterAccount | None:
        """The account of an account row (None on a cluster row)."""
        if not index.isValid() or int(index.internalId()) == 0:
            return None
        case = self.case_at(index)
        if case is None or not 0 <= index.row() < len(case.accounts):
            return None
        return case.accounts[index.row()]

    @property
    def cases(self) -> tuple[ClusterCase, ...]:
        """The clusters shown, in order."""
        return tuple(self._cases)

    @property
    def account_count(self) -> int:
        """How many accounts the clusters shown hold."""
        return sum(len(case.accounts) for case in self._cases)

    def _reindex(self) -> None:
        self._row_of_serial = {serial: row for row, serial in enumerate(self._serials)}

    # --- Qt's model interface -----------------------------------------------------------------

    def index(self, row: int, column: int, parent: _Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if not 0 <= column < len(ClusterColumn) or row < 0:
            return QModelIndex()
        if not parent.isValid():
            if row >= len(self._cases):
                return QModelIndex()
            return self.createIndex(row, column, 0)
        if int(parent.internalId()) != 0 or not 0 <= parent.row() < len(self._cases):
            return QModelIndex()  # accounts have no children
        if row >= len(self._cases[parent.row()].accounts):
            return QModelIndex()
        return self.createIndex(row, column, self._serials[parent.row()])

    def parent(self, child: _Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not child.isValid():
            return QModelIndex()
        serial = int(child.internalId())
        if serial == 0:
            return QModelIndex()
        row = self._row_of_serial.get(serial)
        return QModelIndex() if row is None else self.createIndex(row, 0, 0)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's default
        if not parent.isValid():
            return len(self._cases)
        if int(parent.internalId()) != 0 or parent.column() != 0:
            return 0
        return len(self._cases[parent.row()].accounts) if parent.row() < len(self._cases) else 0

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's default
        return len(ClusterColumn)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        case = self.case_at(index)
        if case is None:
            return None
        column = ClusterColumn(index.column())
        account = self.account_at(index)
        if account is None:
            return self._cluster_data(case, column, role)
        step = case.step_for(account.account_id)
        if role == Qt.ItemDataRole.DisplayRole:
            return _account_text(case, account, column)
        if role == Qt.ItemDataRole.ToolTipRole and column is ClusterColumn.STEP and step:
            return step.explanation
        if role == ClusterRoles.ACCOUNT_ID:
            return account.account_id
        if role == ClusterRoles.PATIENT_ID:
            return account.patient_id
        if role == ClusterRoles.STEP_KIND:
            return step.kind if step is not None else None
        if role == ClusterRoles.EMAIL_KEY:
            return case.email_key
        if role == ClusterRoles.CLUSTER_CASE:
            return case
        return None

    def _cluster_data(self, case: ClusterCase, column: ClusterColumn, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return _cluster_text(case, column)
        if role == Qt.ItemDataRole.ToolTipRole and column is ClusterColumn.WHO:
            return people_with_ages(case)
        if role == ClusterRoles.EMAIL_KEY:
            return case.email_key
        if role == ClusterRoles.CLUSTER_CASE:
            return case
        return None

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        return horizontal_header(_HEADER_TEXTS, section, orientation, role)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if int(index.internalId()) != 0:
            flags |= Qt.ItemFlag.ItemNeverHasChildren
        return flags


__all__ = [
    "STEP_LABELS",
    "ClusterColumn",
    "ClusterRoles",
    "ClusterTreeModel",
    "people_with_ages",
    "step_summary",
]
