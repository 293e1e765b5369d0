"""The main window: the account list with its search, filters and status bar, and the lock
screen that replaces them while the console is locked."""

from __future__ import annotations

from PySide6.QtCore import QLocale, Qt, QTimer, Signal, SignalInstance
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QSizePolicy,
    QStackedWidget,
    QToolBar,
    QWidget,
)

from console.adapters.account_cells import STATE_LABELS
from console.adapters.account_table import AccountTableModel
from console.models.account_list import AccountFilter
from console.models.schema import AccountState
from console.services.permissions import Actor, Permission, refusal
from console.views.account_table_view import AccountTableView
from console.views.session_guard import LockScreen
from console.views.theme import APP_NAME, app_icon, load_icon

#: A read shorter than this (ms) shows no busy indicator, so fast searches do not flicker.
LOADING_DELAY_MS = 250
SEARCH_PLACEHOLDER = "Search name, e-mail, username or MRN"
ALL_STATES = "All states"


class MainWindow(QMainWindow):
    """The console's main window over an account table model.

    The window never touches the database: it turns what staff type and pick into an
    ``AccountFilter`` for the model, and shows what the model reports. What the signed-in
    ``actor`` may not do is disabled, with the reason as its tooltip (one declaration,
    ``console.services.permissions``, serves the window and the services).
    """

    #: The user asked to lock the console now (Ctrl+L).
    lock_requested = Signal()
    #: The user asked to sign out (File menu, or the lock screen).
    sign_out_requested = Signal()
    #: Open the administration dialogs.
    staff_requested = Signal()
    settings_requested = Signal()

    def __init__(
        self,
        model: AccountTableModel,
        database_name: str,
        parent: QWidget | None = None,
        *,
        actor: Actor | None = None,
        staff_name: str = "",
    ) -> None:
        super().__init__(parent)
        self._model = model
        self._actor = actor
        self._locale = QLocale()
        # Counts always get thousands separators, even where the locale is plain "C".
        self._locale.setNumberOptions(
            self._locale.numberOptions() & ~QLocale.NumberOption.OmitGroupSeparator
        )
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(app_icon())
        self.resize(1280, 800)
        self.setMinimumSize(800, 480)

        self.search_field = QLineEdit()
        self.state_filter = QComboBox()
        self.shared_only = QCheckBox("Shared e-mail only")
        self.table = AccountTableView()
        self.row_count_label = QLabel()
        self.loading_label = QLabel("Loading…")
        self.database_label = QLabel()
        self.staff_label = QLabel()
        self.lock_screen = LockScreen()
        self._pages = QStackedWidget()

        self._loading_timer = QTimer(self)
        self._loading_timer.setSingleShot(True)
        self._loading_timer.setInterval(LOADING_DELAY_MS)

        self._build_filter_bar()
        self._build_menus()
        self._build_status_bar(database_name, staff_name)
        self.table.setModel(model)
        self._pages.addWidget(self.table)
        self._pages.addWidget(self.lock_screen)
        self.setCentralWidget(self._pages)
        self._connect()

    @property
    def model(self) -> AccountTableModel:
        """The account table model the window shows."""
        return self._model

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

    @property
    def locked(self) -> bool:
        """Whether the lock screen is showing (and the model holds no rows)."""
        return self._pages.currentWidget() is self.lock_screen

    def show_locked(self, display_name: str, idle_minutes: int) -> None:
        """Clear every patient-data model and show the lock screen: nothing of the list, the
        search text or the filters stays visible."""
        self._model.lock()
        for dialog in self.findChildren(QDialog):  # an admin dialog left open, a form in it
            dialog.done(QDialog.DialogCode.Rejected)
        self._filter_bar.hide()
        self.menuBar().setEnabled(False)
        for action in self.actions():  # shortcuts too: nothing but the lock screen answers
            action.setEnabled(False)
        self.statusBar().clearMessage()
        self.row_count_label.clear()
        self.lock_screen.show_for(display_name, idle_minutes)
        self._pages.setCurrentWidget(self.lock_screen)

    def show_unlocked(self) -> None:
        """Back to the list as it was (read again)."""
        self._pages.setCurrentWidget(self.table)
        self._filter_bar.show()
        self.menuBar().setEnabled(True)
        for action in self.actions():
            action.setEnabled(True)
        self._model.unlock()
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def shutdown(self) -> None:
        """Stop the timers and the model's reads; the window can then be destroyed."""
        self._loading_timer.stop()
        self._model.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    # --- building ---------------------------------------------------------------------------

    def _build_filter_bar(self) -> None:
        bar = self._filter_bar = QToolBar("Filters")
        bar.setObjectName("filterBar")
        bar.setMovable(False)
        bar.setFloatable(False)
        bar.toggleViewAction().setVisible(False)
        bar.setContentsMargins(6, 2, 6, 2)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)

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
        bar.addWidget(self.search_field)

        state_label = QLabel("State:")
        state_label.setBuddy(self.state_filter)
        state_label.setContentsMargins(12, 0, 0, 0)
        bar.addWidget(state_label)
        self.state_filter.setObjectName("stateFilter")
        self.state_filter.setAccessibleName("Filter by state")
        self.state_filter.addItem(ALL_STATES, "")
        for state in AccountState:
            self.state_filter.addItem(STATE_LABELS[state], state.value)
        self.state_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        bar.addWidget(self.state_filter)

        self.shared_only.setObjectName("sharedOnly")
        self.shared_only.setAccessibleName("Show only accounts whose e-mail is shared")
        self.shared_only.setToolTip(
            "Show only active accounts whose login e-mail is also another active account's"
        )
        self.shared_only.setIcon(load_icon("shared-email.svg"))
        bar.addWidget(self.shared_only)

        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.refresh_action = QAction("&Refresh", self)
        self.refresh_action.setShortcut(QKeySequence.StandardKey.Refresh)
        self.refresh_action.triggered.connect(self._model.refresh)
        file_menu.addAction(self.refresh_action)
        file_menu.addSeparator()
        self.lock_action = QAction("&Lock console", self)
        self.lock_action.setShortcut(QKeySequence("Ctrl+L"))
        self.lock_action.triggered.connect(self.lock_requested)
        file_menu.addAction(self.lock_action)
        self.sign_out_action = QAction("Sign &out", self)
        self.sign_out_action.triggered.connect(self.sign_out_requested)
        file_menu.addAction(self.sign_out_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))  # StandardKey.Quit is empty on some
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        edit_menu = self.menuBar().addMenu("&Edit")
        self.find_action = QAction("&Find account…", self)
        self.find_action.setShortcut(QKeySequence.StandardKey.Find)
        self.find_action.triggered.connect(self.focus_search)
        edit_menu.addAction(self.find_action)
        admin_menu = self.menuBar().addMenu("&Administration")
        self.staff_action = self._guarded(
            admin_menu, "&Staff users…", Permission.MANAGE_STAFF, self.staff_requested
        )
        self.settings_action = self._guarded(
            admin_menu, "S&ettings…", Permission.CHANGE_SETTINGS, self.settings_requested
        )
        # Shortcuts work from anywhere in the window, whether or not a menu was ever opened.
        self.addActions([self.refresh_action, quit_action, self.find_action, self.lock_action])
        # Escape in the search box clears it, as in every search field staff know.
        clear = QShortcut(QKeySequence(Qt.Key.Key_Escape), self.search_field)
        clear.setContext(Qt.ShortcutContext.WidgetShortcut)
        clear.activated.connect(self.search_field.clear)

    def _guarded(
        self, menu: QMenu, text: str, permission: Permission, signal: SignalInstance
    ) -> QAction:
        """A menu action that only roles with ``permission`` can use; for the others it is
        disabled and its tooltip says who may (the same words the service would refuse with)."""
        action = QAction(text, self)
        action.triggered.connect(signal)
        reason = refusal(self._actor.role, permission) if self._actor else "Sign in first."
        action.setEnabled(reason is None)
        if reason is not None:
            action.setToolTip(reason)
            action.setStatusTip(reason)
        menu.addAction(action)
        menu.setToolTipsVisible(True)
        return action

    def _build_status_bar(self, database_name: str, staff_name: str) -> None:
        status = self.statusBar()
        status.setSizeGripEnabled(False)
        self.row_count_label.setObjectName("rowCountLabel")
        self.row_count_label.setAccessibleName("Number of accounts shown")
        self.loading_label.setObjectName("loadingLabel")
        self.loading_label.setAccessibleName("Loading")
        self.loading_label.hide()
        self.database_label.setObjectName("databaseLabel")
        self.database_label.setAccessibleName("Database")
        self.database_label.setToolTip(f"Database: {database_name}")
        shown = self.fontMetrics().elidedText(database_name, Qt.TextElideMode.ElideMiddle, 520)
        self.database_label.setText(f"Database: {shown}")
        status.addWidget(self.row_count_label)
        status.addWidget(self.loading_label)
        if staff_name:
            self.staff_label.setObjectName("staffLabel")
            self.staff_label.setAccessibleName("Signed-in staff user")
            self.staff_label.setText(f"Signed in: {staff_name}")
            status.addPermanentWidget(self.staff_label)
        status.addPermanentWidget(self.database_label)

    def _connect(self) -> None:
        # Every keystroke searches at once: the model reads one request at a time and skips
        # to the newest, so a fast typist costs no more queries than the reads can take.
        self.search_field.textChanged.connect(self._apply_filter)
        self.state_filter.currentIndexChanged.connect(self._apply_filter)
        self.shared_only.toggled.connect(self._apply_filter)
        self._model.row_count_changed.connect(self._show_row_count)
        self._model.loading_changed.connect(self._show_loading)
        self._model.load_failed.connect(self._show_failure)
        self._loading_timer.timeout.connect(self.loading_label.show)
        self.lock_screen.sign_out_requested.connect(self.sign_out_requested)

    # --- reacting ---------------------------------------------------------------------------

    def _apply_filter(self) -> None:
        self._model.set_filter(self.current_filter())

    def _show_row_count(self, count: int) -> None:
        noun = "account" if count == 1 else "accounts"
        self.row_count_label.setText(f"{self._locale.toString(count)} {noun}")
        if count:
            self.table.set_empty_text("")
        elif self._model.account_filter != AccountFilter():
            self.table.set_empty_text("No accounts match the search and filters.")
        else:
            self.table.set_empty_text("There are no portal accounts in this database yet.")

    def _show_loading(self, loading: bool) -> None:
        if loading:
            self._loading_timer.start()
        else:
            self._loading_timer.stop()
            self.loading_label.hide()

    def _show_failure(self, message: str) -> None:
        self.statusBar().showMessage(message, 15_000)
