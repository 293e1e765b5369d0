"""How a cell of the account table is painted.

The adapter only says *what* an account is (roles); this delegate decides how it looks. A
shared-e-mail account is marked three ways, so that nobody depends on seeing colour: a tinted
row, an accent bar at its left edge, and a "Shared" badge with a warning sign. A state is its
readable name with a coloured dot. A row still being read shows quiet placeholder bars.

A table paints every visible cell on every repaint, so an ordinary cell is painted from the
row's cached texts with one call into the style: no ``data()`` round trips, which cost more
than the drawing itself.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from console.adapters.account_cells import SHARED_LABEL, AccountColumn, row_texts
from console.adapters.account_table import AccountRoles, AccountTableModel
from console.adapters.account_windows import AccountLine
from console.models.account_list import AccountRow
from console.models.states import AccountState
from console.views.theme import (
    SHARED_ACCENT,
    SHARED_BADGE_BORDER,
    SHARED_BADGE_FILL,
    SHARED_BADGE_TEXT,
    SHARED_TINT,
    load_icon,
)

STATE_COLOURS: dict[AccountState, QColor] = {
    AccountState.LEGACY: QColor("#8a94a3"),
    AccountState.RESET_PENDING: QColor("#d98e04"),
    AccountState.MIGRATED: QColor("#2f9e44"),
    AccountState.REVOKED: QColor("#c92a2a"),
    AccountState.DEACTIVATED: QColor("#495057"),
}

_DOT = 10
_PLACEHOLDER = QColor("#e4e8ee")
_PLACEHOLDER_WIDTHS = {
    AccountColumn.NAME: 0.7,
    AccountColumn.LOGIN_EMAIL: 0.75,
    AccountColumn.SHARED_EMAIL: 0.0,
}

_Index = QModelIndex | QPersistentModelIndex

_HAS_DISPLAY = QStyleOptionViewItem.ViewItemFeature.HasDisplay
_HAS_DECORATION = QStyleOptionViewItem.ViewItemFeature.HasDecoration
_ITEM = QStyle.ControlElement.CE_ItemViewItem


def badge_width(font: QFont) -> int:
    """How wide the "Shared" badge is drawn in ``font`` (the view sizes its column by it)."""
    bold = QFont(font)
    bold.setBold(True)
    return 8 + 12 + 5 + QFontMetrics(bold).horizontalAdvance(SHARED_LABEL) + 10


def account_line(index: _Index) -> AccountLine | None:
    """The account on ``index``'s row with its cell texts, or None while it is being read
    (asked of our model directly when it is one: a delegate asks for every cell on every
    paint)."""
    model = index.model()
    if isinstance(model, AccountTableModel):
        return model.account_line(index.row())
    row = index.data(AccountRoles.ACCOUNT_ROW)
    return AccountLine(row, row_texts(row)) if isinstance(row, AccountRow) else None


class AccountItemDelegate(QStyledItemDelegate):
    """Paints account rows: shared-e-mail marks, state dots and loading placeholders."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._state_icons: dict[str, QIcon] = {}
        self._warning = load_icon("shared-email.svg")
        self._tint = QBrush(SHARED_TINT)
        self._dot_size = QSize(_DOT, _DOT)

    def initStyleOption(self, option: QStyleOptionViewItem, index: _Index) -> None:
        super().initStyleOption(option, index)
        line = account_line(index)
        if line is not None:
            self._mark(option, line.row, index.column())

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        line = account_line(index)
        column = index.column()
        if line is None:
            self._paint_panel(painter, option, index)
            self._paint_placeholder(painter, option.rect, column)
            return
        row = line.row
        if column == AccountColumn.SHARED_EMAIL and row.shared_email:
            self._paint_panel(painter, option, index)
            self._paint_badge(painter, option)
        else:
            # What initStyleOption and QStyledItemDelegate.paint do, from the cached texts.
            cell = QStyleOptionViewItem(option)
            cell.text = line.texts[column]
            cell.features |= _HAS_DISPLAY
            self._mark(cell, row, column)
            widget = cell.widget
            style = widget.style() if widget is not None else QApplication.style()
            style.drawControl(_ITEM, cell, painter, widget)
        if row.shared_email and column == AccountColumn.NAME:
            painter.fillRect(
                QRect(option.rect.left(), option.rect.top(), 3, option.rect.height()), SHARED_ACCENT
            )

    def _mark(self, option: QStyleOptionViewItem, row: AccountRow, column: int) -> None:
        """The tint of a shared-e-mail row and the dot of a state."""
        if row.shared_email:
            option.backgroundBrush = self._tint
        if column == AccountColumn.STATE:
            option.icon = self._state_icon(row.state)
            option.features |= _HAS_DECORATION
            option.decorationSize = self._dot_size

    # --- pieces ---------------------------------------------------------------------------

    def _paint_panel(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        """Background, alternate row and selection, without text."""
        panel = QStyleOptionViewItem(option)
        self.initStyleOption(panel, index)
        panel.text = ""
        panel.icon = QIcon()
        panel.features &= ~_HAS_DECORATION
        style = panel.widget.style() if panel.widget is not None else QApplication.style()
        style.drawControl(_ITEM, panel, painter, panel.widget)

    def _paint_placeholder(self, painter: QPainter, rect: QRect, column: int) -> None:
        share = _PLACEHOLDER_WIDTHS.get(AccountColumn(column), 0.5)
        if share <= 0:
            return
        height = max(6, rect.height() // 3)
        bar = QRectF(
            rect.left() + 8,
            rect.center().y() - height / 2 + 1,
            max(10.0, (rect.width() - 16) * share),
            height,
        )
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(_PLACEHOLDER)
        painter.drawRoundedRect(bar, height / 2, height / 2)
        painter.restore()

    def _paint_badge(self, painter: QPainter, option: QStyleOptionViewItem) -> None:
        font = QFont(option.font)
        font.setBold(True)
        painter.save()
        painter.setFont(font)
        metrics = painter.fontMetrics()
        rect = option.rect
        height = min(rect.height() - 4, metrics.height() + 4)
        width = badge_width(option.font)
        badge = QRectF(
            rect.left() + 6.5, rect.top() + (rect.height() - height) / 2 + 0.5, width, height
        )
        painter.setClipRect(rect)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(SHARED_BADGE_BORDER, 1))
        painter.setBrush(SHARED_BADGE_FILL)
        painter.drawRoundedRect(badge, height / 2, height / 2)
        icon_rect = QRect(int(badge.left()) + 8, int(badge.center().y()) - 6, 12, 12)
        self._warning.paint(painter, icon_rect)
        painter.setPen(SHARED_BADGE_TEXT)
        text_rect = badge.adjusted(8 + 12 + 5, 0, 0, 0)
        painter.drawText(
            text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, SHARED_LABEL
        )
        painter.restore()

    def _state_icon(self, state: str) -> QIcon:
        icon = self._state_icons.get(state)
        if icon is None:
            colour = STATE_COLOURS.get(AccountState(state), QColor("#8a94a3"))
            scale = 2  # drawn at twice the size, so it stays round on high-density screens
            pixmap = QPixmap(_DOT * scale, _DOT * scale)
            pixmap.fill(Qt.GlobalColor.transparent)
            dot = QPainter(pixmap)
            dot.setRenderHint(QPainter.RenderHint.Antialiasing)
            dot.setPen(QPen(colour.darker(120), scale))
            dot.setBrush(colour)
            dot.drawEllipse(QRectF(scale, scale, (_DOT - 2) * scale, (_DOT - 2) * scale))
            dot.end()
            pixmap.setDevicePixelRatio(scale)
            icon = QIcon(pixmap)
            self._state_icons[state] = icon
        return icon
