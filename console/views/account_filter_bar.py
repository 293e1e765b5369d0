"""The account list's filter bar: the search box, the state filter and "Shared e-mail
only". It turns what staff type and pick into an ``AccountFilter`` (``changed``); the
window hands that to the model."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QToolBar,
    QWidget,
)

from console.adapters.account_cells import STATE_LABELS
from console.models.account_list import AccountFilter
from console.models.states import AccountState
from console.views.theme import load_icon

SEARCH_PLACEHOLDER = "Search name, e-mail, username or MRN"
ALL_STATES = "All states"


class AccountFilterBar(QToolBar):
    """Search, state and "shared e-mail only", above the account list."""

    #: ``AccountFilter`` — what the controls describe, after every keystroke or pick.
    changed = Signal(object)
    #: Down was pressed in the search box: go to the results.
    down_from_search = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Filters", parent)
        self.setObjectName("filterBar")
        self.setMovable(False)
        self.setFloatable(False)
        self.toggleViewAction().setVisible(False)
        self.setContentsMargins(6, 2, 6, 2)
        self.search_field = QLineEdit()
        self.state_filter = QComboBox()
        self.shared_only = QCheckBox("Shared e-mail only")
        self._build()
        # Every keystroke searches at once: the model reads one request at a time and skips
        # to the newest, so a fast typist costs no more queries than the reads can take.
        self.search_field.textChanged.connect(self._changed)
        self.state_filter.currentIndexChanged.connect(self._changed)
        self.shared_only.toggled.connect(self._changed)
        # Escape in the search box clears it, as in every search field staff know.
        clear = QShortcut(QKeySequence(Qt.Key.Key_Escape), self.search_field)
        clear.setContext(Qt.ShortcutContext.WidgetShortcut)
        clear.activated.connect(self.search_field.clear)
        # Down goes from the search to the results, as in a browser's address bar.
        down = QShortcut(QKeySequence(Qt.Key.Key_Down), self.search_field)
        down.setContext(Qt.ShortcutContext.WidgetShortcut)
        down.activated.connect(self.down_from_search)

    def current_filter(self) -> AccountFilter:
        """The filter the controls describe right now."""
        state_value = self.state_filter.currentData()
        return AccountFilter(
            search=self.search_field.text().strip(),
            state=AccountState(state_value) if state_value else None,
            shared_only=self.shared_only.isChecked(),
        )

    def focus_search(self) -> None:
        """Put the cursor in the search box, its text selected (Ctrl+F)."""
        self.search_field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_field.selectAll()

    def _changed(self) -> None:
        self.changed.emit(self.current_filter())

    def _build(self) -> None:
        self.search_field.setObjectName("searchField")
        self.search_field.setPlaceholderText(SEARCH_PLACEHOLDER)
        self.search_field.setAccessibleName("Search accounts")
        self.search_field.setToolTip(
            "Every word must appear in the name, login e-mail, username or MRN (Ctrl+F)"
        )
        self.search_field.setClearButtonEnabled(True)
        self.search_field.addAction(
            load_icon("search.svg"), QLineEdit.ActionPosition.LeadingPosition
        )
        self.search_field.setMinimumWidth(360)
        self.search_field.setMaximumWidth(560)
        self.search_field.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.addWidget(self.search_field)

        state_label = QLabel("State:")
        state_label.setBuddy(self.state_filter)
        state_label.setContentsMargins(12, 0, 0, 0)
        self.addWidget(state_label)
        self.state_filter.setObjectName("stateFilter")
        self.state_filter.setAccessibleName("Filter by state")
        self.state_filter.addItem(ALL_STATES, "")
        for state in AccountState:
            self.state_filter.addItem(STATE_LABELS[state], state.value)
        self.state_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.addWidget(self.state_filter)

        self.shared_only.setObjectName("sharedOnly")
        self.shared_only.setAccessibleName("Show only accounts whose e-mail is shared")
        self.shared_only.setToolTip(
            "Show only active accounts whose login e-mail is also another active account's"
        )
        self.shared_only.setIcon(load_icon("shared-email.svg"))
        self.addWidget(self.shared_only)

        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.addWidget(spacer)


__all__ = ["ALL_STATES", "SEARCH_PLACEHOLDER", "AccountFilterBar"]
