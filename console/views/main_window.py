"""The main window: the account list with its search, filters and status bar (the number of
accounts, who is signed in, the audit log's state, the database), and the lock screen that
replaces them while the console is locked."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QLocale, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QWidget,
)

from console.adapters.account_table import AccountTableModel
from console.models.account_list import AccountFilter
from console.services.permissions import Actor
from console.services.workstation import Changes
from console.views.account_filter_bar import AccountFilterBar
from console.views.account_table_view import AccountTableView
from console.views.actions import ACTIONS, build_actions
from console.views.audit_state import AuditState, audit_state_label
from console.views.session_guard import LockScreen
from console.views.theme import APP_NAME, app_icon, load_icon

#: A read shorter than this (ms) shows no busy indicator, so fast searches do not flicker.
LOADING_DELAY_MS = 250


class MainWindow(QMainWindow):
    """The console's main window over an account table model.

    The window never touches the database: it turns what staff type and pick into an
    ``AccountFilter`` for the model, and shows what the model reports. What the signed-in
    ``actor`` may not do is disabled, with the reason as its tooltip (one declaration,
    ``console.services.permissions``, serves the window and the services).

    The account actions act on the selected row's account, and are enabled only once its
    data is there: its row, and, with a details panel beside the table, its details
    (``set_subject``), so that no click on an action ever does nothing.
    """

    #: The user asked to lock the console now (Ctrl+L).
    lock_requested = Signal()
    #: The user asked to sign out (File menu, or the lock screen).
    sign_out_requested = Signal()
    #: The selected account changed (0: none selected).
    account_selected = Signal(int)
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
        audit: AuditState | None = None,
    ) -> None:
        super().__init__(parent)
        self._model = model
        self._actor = actor
        #: With a details panel, the account whose details it has loaded (see ``set_subject``).
        self._subject_from_details = False
        self._subject: int | None = None
        self._locale = QLocale()
        # Counts always get thousands separators, even where the locale is plain "C".
        self._locale.setNumberOptions(
            self._locale.numberOptions() & ~QLocale.NumberOption.OmitGroupSeparator
        )
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(app_icon())
        self.resize(1280, 800)
        self.setMinimumSize(800, 480)

        self._filter_bar = AccountFilterBar(self)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self._filter_bar)
        self.search_field = self._filter_bar.search_field
        self.state_filter = self._filter_bar.state_filter
        self.shared_only = self._filter_bar.shared_only
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

        self._build_menus()
        self.audit_label = audit_state_label(audit) if audit is not None else None
        self._build_status_bar(database_name, staff_name)
        self.table.setModel(model)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.table)
        self.splitter.setChildrenCollapsible(False)
        # Work areas, chosen in the navigation pane; the account list is the first.
        self.navigation = QListWidget()
        self.navigation.setObjectName("navigation")
        self.navigation.setAccessibleName("Go to")
        self.navigation.setFixedWidth(168)
        self.work_areas = QStackedWidget()
        self._workspace = QWidget()
        row = QHBoxLayout(self._workspace)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.navigation)
        row.addWidget(self.work_areas, 1)
        self.add_work_area("Accounts", "search.svg", self.splitter)
        self._pages.addWidget(self._workspace)
        self._pages.addWidget(self.lock_screen)
        self.setCentralWidget(self._pages)
        self._connect()
        self._update_actions()

    @property
    def model(self) -> AccountTableModel:
        """The account table model the window shows."""
        return self._model

    def current_filter(self) -> AccountFilter:
        """The filter the controls describe right now."""
        return self._filter_bar.current_filter()

    def focus_search(self) -> None:
        """Put the cursor in the search box, its text selected (Ctrl+F)."""
        self._filter_bar.focus_search()

    @property
    def locked(self) -> bool:
        """Whether the lock screen is showing (and the model holds no rows)."""
        return self._pages.currentWidget() is self.lock_screen

    @property
    def selected_account_id(self) -> int | None:
        """The account of the table's current row, if its data is in memory."""
        index = self.table.currentIndex()
        row = self._model.account_row(index.row()) if index.isValid() else None
        return row.account_id if row is not None else None

    @property
    def subject_account_id(self) -> int | None:
        """The account the account actions act on: the selected row's, once its data (and
        with a details panel, its details) is there; otherwise None."""
        selected = self.selected_account_id
        if self._subject_from_details and selected != self._subject:
            return None
        return selected

    def set_subject(self, account_id: int | None) -> None:
        """The account whose details the panel shows now (None: none, or still loading):
        the account actions are enabled while it is the selected row's account."""
        self._subject = account_id
        self._update_actions()

    def apply_changes(self, changes: Changes) -> None:
        """An action changed ``changes``: the table reads again the changed accounts it
        holds, in place (no recount, no other row touched). Records changed by the
        thousand (``bulk``: an import) are counted and read again, as F5 does."""
        if changes.bulk:
            self._model.refresh()
            return
        self._model.reread_accounts(changes.accounts | changes.unblocked)

    def add_work_area(self, name: str, icon: str, widget: QWidget) -> None:
        """A page of the window, listed in the navigation pane (Ctrl+1, Ctrl+2, …)."""
        item = QListWidgetItem(load_icon(icon), name)
        item.setToolTip(f"{name} (Ctrl+{self.navigation.count() + 1})")
        self.navigation.addItem(item)
        self.work_areas.addWidget(widget)
        shortcut = QShortcut(QKeySequence(f"Ctrl+{self.navigation.count()}"), self)
        number = self.navigation.count() - 1
        shortcut.activated.connect(lambda: self.navigation.setCurrentRow(number))
        if self.navigation.count() == 1:
            self.navigation.setCurrentRow(0)

    def set_details_panel(self, panel: QWidget) -> None:
        """Put ``panel`` beside the table (about a third of the width). Enter on a row (or a
        double-click) moves the focus into it; Escape there goes back to the row."""
        self.splitter.addWidget(panel)
        self.table.activated.connect(lambda _index: panel.setFocus(Qt.FocusReason.OtherFocusReason))
        back = QShortcut(QKeySequence(Qt.Key.Key_Escape), panel)
        back.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        back.activated.connect(lambda: self.table.setFocus(Qt.FocusReason.OtherFocusReason))
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([700, 420])  # of the 1,110 px beside the navigation pane
        # The actions wait for the panel's details of the selected account (set_subject).
        self._subject_from_details = True
        self._update_actions()

    def show_locked(self, display_name: str, idle_minutes: int, *, by_hand: bool = False) -> None:
        """Clear every patient-data model and show the lock screen: nothing of the list, the
        search text or the filters stays visible."""
        self._model.lock()
        for dialog in self.findChildren(QDialog):  # an admin dialog left open, a form in it
            dialog.done(QDialog.DialogCode.Rejected)
        self._filter_bar.hide()
        self.menuBar().setEnabled(False)
        self.statusBar().clearMessage()
        self.row_count_label.clear()
        self.lock_screen.show_for(display_name, idle_minutes, by_hand=by_hand)
        self._pages.setCurrentWidget(self.lock_screen)
        self._account_bar.hide()
        self._update_actions()  # shortcuts too: nothing but the lock screen answers

    def show_unlocked(self) -> None:
        """Back to the list as it was (read again)."""
        self._pages.setCurrentWidget(self._workspace)
        self.menuBar().setEnabled(True)
        self._show_work_area(self.work_areas.currentIndex())
        self._update_actions()
        self._model.unlock()
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def restore_layout(self) -> None:
        """The window's size and place, the splitter and the column widths as this user
        left them (QSettings), if they were saved."""
        settings = QSettings()
        for key, restore in (
            ("window/geometry", self.restoreGeometry),
            ("window/state", self.restoreState),
            ("window/splitter", self.splitter.restoreState),
            ("window/columns", self.table.horizontalHeader().restoreState),
        ):
            value = settings.value(key)
            if isinstance(value, QByteArray):
                restore(value)

    def save_layout(self) -> None:
        """Remember the layout for the next time (no patient data in it)."""
        settings = QSettings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState())
        settings.setValue("window/splitter", self.splitter.saveState())
        settings.setValue("window/columns", self.table.horizontalHeader().saveState())

    def shutdown(self) -> None:
        """Stop the timers and the model's reads; the window can then be destroyed."""
        self._loading_timer.stop()
        self._model.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        self.shutdown()
        super().closeEvent(event)

    # --- building ---------------------------------------------------------------------------

    def _build_menus(self) -> None:
        """Menus, the account toolbar and the shortcuts, from the one declaration
        (``console.views.actions``)."""
        self.actions_by_id = build_actions(self, self._actor)
        menus: dict[str, QMenu] = {}
        for spec in ACTIONS:
            if spec.menu not in menus:
                menus[spec.menu] = self.menuBar().addMenu(spec.menu)
                menus[spec.menu].setToolTipsVisible(True)
            if spec.id in ("lock", "quit"):
                menus[spec.menu].addSeparator()
            menus[spec.menu].addAction(self.actions_by_id[spec.id])
        bar = self._account_bar = QToolBar("Account")
        bar.setObjectName("accountBar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        bar.toggleViewAction().setVisible(False)
        for spec in ACTIONS:
            if spec.toolbar:
                bar.addAction(self.actions_by_id[spec.id])
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        # Shortcuts work from anywhere in the window, whether or not a menu was ever opened.
        self.addActions(list(self.actions_by_id.values()))
        own = {
            "refresh": self._refresh_page,
            "lock": self.lock_requested.emit,
            "sign_out": self.sign_out_requested.emit,
            "quit": self.close,
            "find": self.focus_search,
            "staff": self.staff_requested.emit,
            "settings": self.settings_requested.emit,
        }
        for action_id, slot in own.items():
            self.actions_by_id[action_id].triggered.connect(slot)
        self.refresh_action = self.actions_by_id["refresh"]
        self.lock_action = self.actions_by_id["lock"]
        self.sign_out_action = self.actions_by_id["sign_out"]
        self.find_action = self.actions_by_id["find"]
        self.staff_action = self.actions_by_id["staff"]
        self.settings_action = self.actions_by_id["settings"]

    def _update_actions(self) -> None:
        """Enable what the role may do, and what needs an account only once the selected
        account's data is there; nothing while locked."""
        specs = {spec.id: spec for spec in ACTIONS}
        for action_id, action in self.actions_by_id.items():
            spec = specs[action_id]
            allowed = not action.property("refused") and not self.locked
            action.setEnabled(
                allowed and (not spec.needs_account or self.subject_account_id is not None)
            )

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
        if self.audit_label is not None:
            status.addPermanentWidget(self.audit_label)
        status.addPermanentWidget(self.database_label)

    def _connect(self) -> None:
        self._filter_bar.changed.connect(self._model.set_filter)
        self._filter_bar.down_from_search.connect(
            lambda: self.table.setFocus(Qt.FocusReason.TabFocusReason)
        )
        self._model.row_count_changed.connect(self._show_row_count)
        self._model.loading_changed.connect(self._show_loading)
        self._model.load_failed.connect(self._show_failure)
        self._loading_timer.timeout.connect(self.loading_label.show)
        self.lock_screen.sign_out_requested.connect(self.sign_out_requested)
        self.table.selectionModel().currentRowChanged.connect(self._current_row_changed)
        self._shown_account: int | None = None
        self._model.dataChanged.connect(self._rows_arrived)
        self.navigation.currentRowChanged.connect(self._show_work_area)
        self._model.modelReset.connect(self._update_actions)

    # --- reacting ---------------------------------------------------------------------------

    def _refresh_page(self) -> None:
        """F5: read the page on screen again (the list, or a work area's own refresh)."""
        page = self.work_areas.currentWidget()
        refresh = getattr(page, "refresh", None) if page is not self.splitter else None
        (refresh or self._model.refresh)()

    def _show_work_area(self, number: int) -> None:
        self.work_areas.setCurrentIndex(number)
        # The search, the filters, the account toolbar and the row count belong to the
        # account list; the other pages show their own counts.
        on_list = number == 0 and not self.locked
        for part in (self._filter_bar, self._account_bar, self.row_count_label):
            part.setVisible(on_list)

    def _current_row_changed(self) -> None:
        self._update_actions()
        account_id = self.selected_account_id
        self._shown_account = account_id
        self.account_selected.emit(account_id if account_id is not None else 0)

    def _rows_arrived(self) -> None:
        """A window of rows was read: the current row (reached by Ctrl+End or Page Down
        before its data was in memory) may have an account to show now."""
        if self.selected_account_id != self._shown_account:
            self._current_row_changed()

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
