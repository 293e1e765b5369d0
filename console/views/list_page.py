"""The one shape of a work-area list page (Invitations, Outbox, Shared e-mails): a heading
with the page's figures or its state filter and search, and Refresh; a busy strip; the list;
the actions on the selected row with a message line and the figures.

``ListPage`` only lays these out and shows what its presenter (``ListPresenter``) tells it
through the ``ListScreen`` methods; every decision is the presenter's. ``named_label`` is
the one plain-text label of these pages: its value reaches a screen reader as the accessible
description, its caption as the accessible name.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

#: How long typing must pause before the search runs.
SEARCH_PAUSE_MS = 300

_PAGE_STYLE = """
QWidget#{name} {{ background: #f6f7f9; }}
QLabel#{name}Title {{ font-size: 17px; font-weight: 600; color: #1f2933; }}
QLabel#filterLabel {{ color: #3e4a59; }}
QLabel#{name}Footer {{ color: #5f6b7a; }}
QLabel#{name}Message {{ color: #b42318; }}
QLabel#{name}Message[done="true"] {{ color: #1f5c37; }}
QProgressBar#{name}Busy {{ border: none; background: #e3e7ec; max-height: 3px; }}
QProgressBar#{name}Busy::chunk {{ background: #2b6cb0; }}
"""

_TABLE_STYLE = """
QTableView#{table} {{ background: #ffffff; border: 1px solid #d5dae1;
    border-radius: 4px; gridline-color: #eef0f3; selection-background-color: #dbe8f7;
    selection-color: #1f2933; alternate-background-color: #f9fafb; }}
QHeaderView::section {{ background: #eef1f5; color: #3e4a59; border: none;
    border-right: 1px solid #dde2e8; border-bottom: 1px solid #d5dae1; padding: 5px 6px;
    font-weight: 600; }}
"""


def named_label(name: str, object_name: str, text: str = "", *, wrap: bool = False) -> QLabel:
    """A plain-text label called ``name`` for assistive technology, showing ``text``."""
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    label.setObjectName(object_name)
    label.setAccessibleName(name)
    show_value(label, text)
    return label


def show_value(label: QLabel, text: str) -> None:
    """Show ``text`` in ``label`` and give it to a screen reader as the description."""
    label.setText(text)
    label.setAccessibleDescription(text)


def restyle(widget: QWidget, name: str, value: object) -> None:
    """Set a property the style sheet reads, and apply it at once (children included)."""
    widget.setProperty(name, value)
    widget.style().unpolish(widget)
    widget.style().polish(widget)
    for child in widget.findChildren(QWidget):
        child.style().unpolish(child)
        child.style().polish(child)


def table_style(object_name: str) -> str:
    """The style of a page's read-only table (``row_table_view``) and its header."""
    return _TABLE_STYLE.format(table=object_name)


class ListPage(QWidget):
    """A list page's skeleton; a page subclasses it, adds its filter, search, list and
    actions, then calls ``lay_out`` once."""

    def __init__(
        self,
        name: str,
        title: str,
        *,
        refresh_name: str,
        busy_name: str,
        figures_name: str,
        figures_in_header: bool = False,
        style: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(_PAGE_STYLE.format(name=name) + style)
        self._figures_in_header = figures_in_header
        self._title = named_label(title, f"{name}Title", title)
        suffix = "Counts" if figures_in_header else "Footer"
        self._figures = named_label(figures_name, f"{name}{suffix}")
        self._message: QLabel | None = None
        self._message_name = f"{name}Message"
        self._state_filter: QComboBox | None = None
        self._search: QLineEdit | None = None
        self._refresh_button = QPushButton("Refresh")
        self._refresh_button.setAccessibleName(refresh_name)
        self._refresh_button.clicked.connect(self.refresh)
        self._pause = QTimer(self)
        self._pause.setSingleShot(True)
        self._pause.setInterval(SEARCH_PAUSE_MS)
        self._pause.timeout.connect(self.refresh)
        self._busy = QProgressBar()
        self._busy.setObjectName(f"{name}Busy")
        self._busy.setAccessibleName(busy_name)
        self._busy.setRange(0, 0)
        self._busy.setTextVisible(False)
        self._busy.setFixedHeight(3)
        self._busy.hide()

    @Slot()
    def refresh(self) -> None:
        """Read the list again (each page says how)."""
        raise NotImplementedError

    @property
    def figures(self) -> str:
        """The page's figures ("Showing 500 of 12,345 invitations")."""
        return self._figures.text()

    @property
    def message(self) -> str:
        """The last refusal or confirmation shown beside the actions."""
        return self._message.text() if self._message is not None else ""

    # --- the parts a page adds before ``lay_out`` -------------------------------------

    def add_state_filter(self, name: str, choices: Sequence[str]) -> QComboBox:
        """The "Show [state]" choice in the heading; choosing reads the list again."""
        combo = QComboBox()
        combo.setAccessibleName(name)
        for text in choices:
            combo.addItem(text)
        combo.currentIndexChanged.connect(self.refresh)
        self._state_filter = combo
        return combo

    def add_search(self, object_name: str, hint: str) -> QLineEdit:
        """The search field in the heading: it reads the list once typing pauses, or on
        Enter."""
        field = QLineEdit()
        field.setObjectName(object_name)
        field.setAccessibleName(hint)
        field.setPlaceholderText(hint)
        field.setClearButtonEnabled(True)
        field.setMinimumWidth(300)
        field.setMaximumWidth(460)
        field.textChanged.connect(self._pause.start)
        field.returnPressed.connect(self.refresh)
        self._search = field
        return field

    def lay_out(
        self,
        body: QWidget,
        *,
        above: Sequence[QWidget] = (),
        below: Sequence[QWidget] = (),
        actions: Sequence[QPushButton] = (),
        message_name: str = "",
        message_wraps: bool = False,
        header_spacing: int = 10,
    ) -> None:
        """Place heading, ``above`` strips, busy strip, ``body``, ``below`` strips and the
        action row (``actions``, the message line called ``message_name``, the figures).
        Widgets join the keyboard's order in that order."""
        header = QHBoxLayout()
        header.setSpacing(header_spacing)
        header.addWidget(self._title)
        if self._figures_in_header:
            header.addWidget(self._figures, 0, Qt.AlignmentFlag.AlignBottom)
        if self._state_filter is not None:
            show = named_label("Show", "filterLabel", "Show")
            show.setBuddy(self._state_filter)
            header.addSpacing(16)
            header.addWidget(show)
            header.addWidget(self._state_filter)
        if self._search is not None:
            header.addWidget(self._search, 1)
        header.addStretch(1)
        header.addWidget(self._refresh_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(8)
        layout.addLayout(header)
        for strip in above:
            layout.addWidget(strip)
        layout.addWidget(self._busy)
        layout.addWidget(body, 1)
        for strip in below:
            layout.addWidget(strip)
        if actions:
            self._message = named_label(message_name, self._message_name, wrap=message_wraps)
            row = QHBoxLayout()
            row.setSpacing(8)
            for button in actions:
                row.addWidget(button)
            row.addSpacing(8)
            row.addWidget(self._message, 1)
            if not self._figures_in_header:
                row.addWidget(self._figures)
            layout.addLayout(row)

    def clear_search(self) -> None:
        """Empty the search field without reading the list again."""
        self._pause.stop()
        if self._search is not None:
            self._search.clear()
        self._pause.stop()  # clearing the field started it

    def stop_search_pause(self) -> None:
        """The list is being read now: the pause in typing need not end first."""
        self._pause.stop()

    # --- ListScreen ----------------------------------------------------------------------

    def show_busy(self, busy: bool) -> None:
        """Show or hide the busy strip."""
        self._busy.setVisible(busy)

    def show_figures(self, text: str, *, problem: bool = False) -> None:
        """Show the page's figures, or with ``problem`` why they could not be read."""
        if bool(self._figures.property("problem")) != problem:
            restyle(self._figures, "problem", problem)
        show_value(self._figures, text)

    def show_message(self, text: str, *, done: bool) -> None:
        """Show a refusal or, with ``done``, what an action did."""
        if self._message is None:
            return
        restyle(self._message, "done", done)
        show_value(self._message, text)


__all__ = [
    "SEARCH_PAUSE_MS",
    "ListPage",
    "named_label",
    "restyle",
    "show_value",
    "table_style",
]
