"""The account table widget: a QTableView set up for a long, uniform list read in windows."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from console.adapters.account_cells import COLUMNS, AccountColumn
from console.views.account_delegate import AccountItemDelegate, badge_width
from console.views.theme import MUTED_TEXT

#: Text as wide as a typical long value of each column; the widths follow the font.
_COLUMN_SAMPLES: dict[AccountColumn, str] = {
    AccountColumn.NAME: "Maximiliana Featherstone",
    AccountColumn.MRN: "MRN0000000",
    AccountColumn.BORN: "0000-00-00",
    AccountColumn.USERNAME: "maximiliana.feather",
    AccountColumn.LOGIN_EMAIL: "maximiliana.featherstone@example.org",
    AccountColumn.STATE: "Reset pending",
    AccountColumn.LAST_LOGIN: "0000-00-00 00:00",
}
#: Shown right after the name, whatever the model's column order.
_FIRST_SHOWN = (AccountColumn.STATE, AccountColumn.SHARED_EMAIL)
_CELL_PADDING = 24
_SORT_ARROW = 28
_STATE_DOT = 18


class AccountTableView(QTableView):
    """The list of portal accounts: whole-row selection, sorting by header (done by the model
    in SQL), fixed row heights so a million rows cost nothing to lay out, and a message in
    the empty table that says why it is empty."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("accountTable")
        self.setAccessibleName("Portal accounts")
        self.setItemDelegate(AccountItemDelegate(self))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setCornerButtonEnabled(False)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self._empty_text = ""

        rows = self.verticalHeader()
        rows.setVisible(False)
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 12)

        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(60)
        # The model's default order is by name, ascending: show it before sorting is enabled,
        # so that enabling it does not ask for a sort the model already has.
        header.setSortIndicator(AccountColumn.NAME, Qt.SortOrder.AscendingOrder)
        self.setSortingEnabled(True)

    def setModel(self, model: QAbstractItemModel | None) -> None:
        super().setModel(model)
        if model is not None:
            self.fit_columns()
            # What the front desk looks for first, beside the name: the state and the
            # shared-e-mail badge stay in view when the details panel narrows the table.
            header = self.horizontalHeader()
            for visual, column in enumerate(_FIRST_SHOWN, start=1):
                header.moveSection(header.visualIndex(column), visual)

    def fit_columns(self) -> None:
        """Size each column for a typical long value and its title, never the data: measuring
        the data would read every row."""
        metrics = self.fontMetrics()
        header_metrics = self.horizontalHeader().fontMetrics()
        for column in AccountColumn:
            title = header_metrics.horizontalAdvance(COLUMNS[column].title) + _SORT_ARROW
            if column == AccountColumn.SHARED_EMAIL:
                content = badge_width(self.font()) + 16
            else:
                content = metrics.horizontalAdvance(_COLUMN_SAMPLES[column]) + _CELL_PADDING
                if column == AccountColumn.STATE:
                    content += _STATE_DOT
            self.setColumnWidth(column, max(title + 8, content))

    def set_empty_text(self, text: str) -> None:
        """What the table says while it has no rows (e.g. "No accounts match the search")."""
        if text != self._empty_text:
            self._empty_text = text
            self.viewport().update()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        if model is None or model.rowCount() > 0 or not self._empty_text:
            return
        painter = QPainter(self.viewport())
        painter.setPen(MUTED_TEXT)
        area = self.viewport().rect().adjusted(24, 48, -24, 0)
        painter.drawText(
            area, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, self._empty_text
        )
        painter.end()
