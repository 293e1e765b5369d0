"""The main window, driven as staff use it: typing, picking, clicking headers."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QKeySequence
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from console.adapters.account_cells import AccountColumn
from console.adapters.account_table import AccountRoles, AccountTableModel
from console.app import build_main_window
from console.models.account_list import (
    AccountFilter,
    AccountList,
    AccountRow,
    AccountSort,
    SortKey,
)
from console.models.database import Database
from console.models.states import AccountState
from console.views.account_filter_bar import SEARCH_PLACEHOLDER
from console.views.audit_state import AuditState
from console.views.main_window import MainWindow
from console.views.theme import SHARED_BADGE_FILL
from tests.adapters.clinic_accounts import SHARED_USERNAMES, add_clinic_accounts


def count_text(window: MainWindow) -> str:
    return window.row_count_label.text()


def shown_usernames(qtbot: QtBot, window: MainWindow) -> list[str]:
    model = window.model

    def rows() -> list[AccountRow | None]:
        return [model.account_row(r) for r in range(model.rowCount())]

    qtbot.waitUntil(lambda: None not in rows(), timeout=5000)
    return [model.index(r, AccountColumn.USERNAME).data() for r in range(model.rowCount())]


def activate(qtbot: QtBot, window: MainWindow) -> None:
    """Show the window and make it the active one (shortcuts only reach an active window)."""
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()


def click_header(qtbot: QtBot, window: MainWindow, column: AccountColumn) -> None:
    header = window.table.horizontalHeader()
    at = QPoint(header.sectionViewportPosition(column) + 12, header.height() // 2)
    with qtbot.waitSignal(window.model.row_count_changed, timeout=5000):
        qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=at)


def test_window_names_itself_and_the_database(
    clinic_window: MainWindow, database: Database
) -> None:
    assert clinic_window.windowTitle() == "Portal Account Console"
    assert not clinic_window.windowIcon().isNull()
    assert count_text(clinic_window) == "16 accounts"
    assert database.display_name in clinic_window.database_label.toolTip()
    assert clinic_window.database_label.text().startswith("Database: ")
    assert clinic_window.search_field.placeholderText() == SEARCH_PLACEHOLDER
    for control in (
        clinic_window.search_field,
        clinic_window.state_filter,
        clinic_window.shared_only,
        clinic_window.table,
    ):
        assert control.accessibleName()


@pytest.mark.parametrize(
    ("state", "shown", "warned"),
    [
        (AuditState("key from the keyring", True), "Audit log: sealed", False),
        (AuditState("demo — not tamper-proof", False), "Audit log: demo — not tamper-proof", True),
    ],
)
def test_the_status_bar_says_how_the_audit_log_is_kept(
    qtbot: QtBot, database: Database, state: AuditState, shown: str, warned: bool
) -> None:
    window = build_main_window(database, audit=state)
    qtbot.addWidget(window)
    try:
        label = window.audit_label
        assert label is not None and label in window.statusBar().findChildren(QLabel)
        assert (label.text(), label.accessibleDescription()) == (shown, shown)
        assert label.accessibleName() == "Audit log"
        assert label.property("demo") is warned
        assert ("kept inside the database" in label.toolTip()) is warned
    finally:
        window.shutdown()


def test_search_filters_as_you_type_after_a_short_pause(
    qtbot: QtBot, clinic_window: MainWindow
) -> None:
    qtbot.keyClicks(clinic_window.search_field, "hopper")
    assert clinic_window.model.account_filter == AccountFilter()  # still typing
    qtbot.waitUntil(lambda: count_text(clinic_window) == "3 accounts", timeout=5000)
    assert clinic_window.model.account_filter == AccountFilter(search="hopper")
    assert set(shown_usernames(qtbot, clinic_window)) == {"ghopper", "whopper", "ahopper"}


def test_escape_clears_the_search(qtbot: QtBot, clinic_window: MainWindow) -> None:
    activate(qtbot, clinic_window)
    clinic_window.search_field.setFocus()
    qtbot.keyClicks(clinic_window.search_field, "turing")
    qtbot.waitUntil(lambda: count_text(clinic_window) == "1 account", timeout=5000)
    qtbot.keyClick(clinic_window.search_field, Qt.Key.Key_Escape)
    assert clinic_window.search_field.text() == ""
    qtbot.waitUntil(lambda: count_text(clinic_window) == "16 accounts", timeout=5000)


def test_ctrl_f_puts_the_cursor_in_the_search_box(qtbot: QtBot, clinic_window: MainWindow) -> None:
    activate(qtbot, clinic_window)
    clinic_window.table.setFocus()
    assert clinic_window.find_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Find)
    qtbot.keyClick(clinic_window.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(clinic_window.search_field.hasFocus)


def test_state_filter_and_shared_toggle(qtbot: QtBot, clinic_window: MainWindow) -> None:
    clinic_window.show()
    qtbot.waitExposed(clinic_window)
    combo = clinic_window.state_filter
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "All states",
        "Legacy",
        "Reset pending",
        "Migrated",
        "Revoked",
        "Deactivated",
    ]
    with qtbot.waitSignal(clinic_window.model.row_count_changed, timeout=5000):
        combo.setCurrentIndex(combo.findData(AccountState.REVOKED.value))
    assert count_text(clinic_window) == "2 accounts"
    assert set(shown_usernames(qtbot, clinic_window)) == {"bliskov", "agoldberg"}

    with qtbot.waitSignal(clinic_window.model.row_count_changed, timeout=5000):
        qtbot.mouseClick(clinic_window.shared_only, Qt.MouseButton.LeftButton)
    assert count_text(clinic_window) == "0 accounts"
    assert clinic_window.model.account_filter == AccountFilter(
        state=AccountState.REVOKED, shared_only=True
    )

    with qtbot.waitSignal(clinic_window.model.row_count_changed, timeout=5000):
        combo.setCurrentIndex(0)
    assert set(shown_usernames(qtbot, clinic_window)) == SHARED_USERNAMES


def test_clicking_a_header_sorts_in_sql(
    qtbot: QtBot, clinic_window: MainWindow, database: Database
) -> None:
    clinic_window.show()
    qtbot.waitExposed(clinic_window)
    account_list = AccountList(database.engine)

    def expected(sort: AccountSort) -> list[str]:
        return [row.username for row in account_list.window(AccountFilter(), sort, 0, 100)]

    click_header(qtbot, clinic_window, AccountColumn.BORN)
    assert clinic_window.model.account_sort == AccountSort(SortKey.BIRTH_DATE)
    assert shown_usernames(qtbot, clinic_window) == expected(AccountSort(SortKey.BIRTH_DATE))

    click_header(qtbot, clinic_window, AccountColumn.BORN)
    descending = AccountSort(SortKey.BIRTH_DATE, descending=True)
    assert shown_usernames(qtbot, clinic_window) == expected(descending)

    click_header(qtbot, clinic_window, AccountColumn.STATE)
    sort = clinic_window.model.account_sort
    assert sort.key is SortKey.STATE
    assert shown_usernames(qtbot, clinic_window) == expected(sort)


def test_shared_accounts_carry_a_visible_badge(qtbot: QtBot, clinic_window: MainWindow) -> None:
    clinic_window.show()
    qtbot.waitExposed(clinic_window)
    model, table = clinic_window.model, clinic_window.table
    shown_usernames(qtbot, clinic_window)
    for row in range(model.rowCount()):
        cell = model.index(row, AccountColumn.SHARED_EMAIL)
        table.scrollTo(cell)
        image = table.viewport().grab(table.visualRect(cell)).toImage()
        colours = {image.pixelColor(x, image.height() // 2).name() for x in range(image.width())}
        assert (SHARED_BADGE_FILL.name() in colours) == bool(cell.data(AccountRoles.SHARED_EMAIL))


def test_column_widths_fit_their_titles(clinic_window: MainWindow) -> None:
    header = clinic_window.table.horizontalHeader()
    metrics = header.fontMetrics()
    for column in AccountColumn:
        title = clinic_window.model.headerData(column, Qt.Orientation.Horizontal)
        assert header.sectionSize(column) > metrics.horizontalAdvance(title) + 16
    assert clinic_window.table.verticalHeader().sectionResizeMode(0).name == "Fixed"


def test_empty_result_says_why(qtbot: QtBot, clinic_window: MainWindow) -> None:
    qtbot.keyClicks(clinic_window.search_field, "zzz-no-such-patient")
    qtbot.waitUntil(lambda: count_text(clinic_window) == "0 accounts", timeout=5000)
    assert "No accounts match" in clinic_window.table._empty_text
    clinic_window.table.viewport().grab()  # paints the message without a warning


def test_a_failed_read_is_shown_in_the_status_bar(qtbot: QtBot) -> None:
    class Unreachable:
        def count(self, account_filter: AccountFilter) -> int:
            raise ConnectionError("server closed the connection")

        def window(self, *args: object) -> list:
            raise AssertionError("not reached")

        def rows_by_id(self, *args: object) -> list:
            raise AssertionError("not reached")

    window = MainWindow(AccountTableModel(Unreachable()), "postgresql://clinic@db/portal")
    qtbot.addWidget(window)
    try:
        with qtbot.waitSignal(window.model.load_failed, timeout=5000):
            window.model.refresh()
        assert "could not be read" in window.statusBar().currentMessage()
    finally:
        window.shutdown()


def test_screenshot_renders_at_1280_by_800(
    qtbot: QtBot, clinic_window: MainWindow, tmp_path: Path
) -> None:
    clinic_window.resize(1280, 800)
    clinic_window.show()
    qtbot.waitExposed(clinic_window)
    shown_usernames(qtbot, clinic_window)
    path = tmp_path / "main-window.png"
    assert clinic_window.grab().save(str(path))
    image = clinic_window.grab().toImage()
    assert (image.width(), image.height()) == (1280, 800)
    assert image.pixelColor(5, 790) != QColor("black")  # the status bar was painted
    assert 0 < path.stat().st_size < 300_000


@pytest.mark.parametrize(
    "count, text", [(0, "0 accounts"), (1, "1 account"), (1234567, "1,234,567 accounts")]
)
def test_counts_are_written_with_thousands_separators(
    clinic_window: MainWindow, count: int, text: str
) -> None:
    clinic_window._show_row_count(count)
    assert count_text(clinic_window) == text


def test_the_layout_is_remembered(qtbot: QtBot, database: Database) -> None:
    from console.app import build_main_window

    first = build_main_window(database)
    qtbot.addWidget(first)
    first.resize(800, 560)  # within the offscreen screen (800 x 600), which restoring respects
    first.table.setColumnWidth(1, 333)
    first.save_layout()
    first.shutdown()
    second = build_main_window(database)
    qtbot.addWidget(second)
    second.restore_layout()
    try:
        assert (second.width(), second.height()) == (800, 560)
        assert second.table.columnWidth(1) == 333
    finally:
        second.shutdown()


def test_ctrl_end_before_the_last_rows_are_read_still_shows_that_account(
    qtbot: QtBot, database: Database
) -> None:
    """The current row can be one whose data is still being read (Ctrl+End on a long list):
    once it arrives, its account is announced, so the details panel is not left empty."""
    from console.adapters.account_table import AccountTableModel
    from console.models.account_list import AccountList

    add_clinic_accounts(database)
    model = AccountTableModel(AccountList(database.engine), window_size=4)
    window = MainWindow(model, database.display_name)
    qtbot.addWidget(window)
    with qtbot.waitSignal(model.row_count_changed, timeout=5000):
        model.refresh()
    qtbot.waitUntil(lambda: model.account_row(0) is not None, timeout=5000)
    window.table.selectRow(0)
    announced: list[int] = []
    window.account_selected.connect(announced.append)
    last = model.rowCount() - 1
    assert model.account_row(last) is None  # not read yet
    qtbot.keyClick(window.table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    assert window.table.currentIndex().row() == last
    qtbot.waitUntil(lambda: model.account_row(last) is not None, timeout=5000)
    row = model.account_row(last)
    assert row is not None
    qtbot.waitUntil(lambda: announced[-1:] == [row.account_id], timeout=5000)
    window.shutdown()
