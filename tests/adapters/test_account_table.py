"""The account table model over a real SQLite file: conformance, order, roles, formatting."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import update

from console.adapters.account_cells import COLUMNS, NEVER_LOGGED_IN, STATE_LABELS, AccountColumn
from console.adapters.account_table import AccountRoles, AccountTableModel
from console.models.account_list import AccountFilter, AccountList, AccountRow, AccountSort
from console.models.database import Database
from console.models.schema import AccountState, PortalAccount
from tests.adapters.clinic_accounts import SHARED_USERNAMES, add_clinic_accounts

MakeModel = Callable[..., AccountTableModel]


def load(qtbot: QtBot, model: AccountTableModel, action: Callable[[], None]) -> None:
    """Run ``action`` and wait for the count it starts to arrive."""
    with qtbot.waitSignal(model.row_count_changed, timeout=5000):
        action()


def shown_rows(qtbot: QtBot, model: AccountTableModel) -> list[AccountRow]:
    """Every row, touching data() until all windows have arrived (as a scrolling view does)."""

    def rows() -> list[AccountRow | None]:
        return [model.account_row(r) for r in range(model.rowCount())]

    qtbot.waitUntil(lambda: None not in rows(), timeout=5000)
    return [row for row in rows() if row is not None]


def expected(account_list: AccountList, account_filter: AccountFilter, sort: AccountSort) -> list:
    return [row.account_id for row in account_list.window(account_filter, sort, 0, 10_000)]


@pytest.fixture
def clinic(database: Database) -> list[str]:
    return add_clinic_accounts(database)


@pytest.mark.usefixtures("clinic")
def test_model_passes_qtmodeltester_while_filtering_and_sorting(
    qtbot: QtBot, qtmodeltester: ModelTester, make_model: MakeModel
) -> None:
    model = make_model(window_size=4)
    load(qtbot, model, model.refresh)
    shown_rows(qtbot, model)
    qtmodeltester.check(model)

    load(qtbot, model, lambda: model.set_filter(AccountFilter(search="hopper")))
    shown_rows(qtbot, model)
    qtmodeltester.check(model)

    load(qtbot, model, lambda: model.sort(AccountColumn.BORN, Qt.SortOrder.DescendingOrder))
    shown_rows(qtbot, model)
    qtmodeltester.check(model)

    load(qtbot, model, lambda: model.set_filter(AccountFilter(search="nobody-by-that-name")))
    assert model.rowCount() == 0
    qtmodeltester.check(model)


@pytest.mark.usefixtures("clinic")
@pytest.mark.parametrize(
    "account_filter",
    [
        AccountFilter(),
        AccountFilter(search="ada"),
        AccountFilter(search="EXAMPLE.COM hopper"),
        AccountFilter(state=AccountState.LEGACY),
        AccountFilter(shared_only=True),
        AccountFilter(search="thompson", state=AccountState.LEGACY, shared_only=True),
    ],
    ids=["all", "search", "two-words", "state", "shared", "combined"],
)
def test_rows_are_the_filtered_accounts_in_sql_order(
    qtbot: QtBot, make_model: MakeModel, account_list: AccountList, account_filter: AccountFilter
) -> None:
    model = make_model(window_size=3)
    load(qtbot, model, model.refresh)
    if account_filter != model.account_filter:
        load(qtbot, model, lambda: model.set_filter(account_filter))
    ids = [row.account_id for row in shown_rows(qtbot, model)]
    assert ids == expected(account_list, account_filter, AccountSort())
    assert model.account_filter == account_filter


@pytest.mark.usefixtures("clinic")
@pytest.mark.parametrize("column", list(AccountColumn), ids=lambda c: c.name.lower())
@pytest.mark.parametrize("order", [Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder])
def test_sorting_any_column_follows_account_list_order(
    qtbot: QtBot,
    make_model: MakeModel,
    account_list: AccountList,
    column: AccountColumn,
    order: Qt.SortOrder,
) -> None:
    model = make_model(window_size=5)
    load(qtbot, model, model.refresh)
    sort = AccountSort(COLUMNS[column].sort_key, order == Qt.SortOrder.DescendingOrder)
    if sort != model.account_sort:
        load(qtbot, model, lambda: model.sort(column, order))
    ids = [row.account_id for row in shown_rows(qtbot, model)]
    assert ids == expected(account_list, AccountFilter(), sort)
    assert model.account_sort == sort


@pytest.mark.usefixtures("clinic")
def test_shared_email_role_is_true_exactly_for_flagged_accounts(
    qtbot: QtBot, make_model: MakeModel
) -> None:
    model = make_model()
    load(qtbot, model, model.refresh)
    shown_rows(qtbot, model)
    shared = {
        model.index(r, AccountColumn.USERNAME).data()
        for r in range(model.rowCount())
        if model.index(r, AccountColumn.NAME).data(AccountRoles.SHARED_EMAIL)
    }
    assert shared == SHARED_USERNAMES
    marks = {
        model.index(r, AccountColumn.USERNAME).data()
        for r in range(model.rowCount())
        if model.index(r, AccountColumn.SHARED_EMAIL).data() == "Shared"
    }
    assert marks == SHARED_USERNAMES


@pytest.mark.usefixtures("clinic")
def test_cells_are_readable(qtbot: QtBot, make_model: MakeModel) -> None:
    model = make_model()
    load(qtbot, model, lambda: model.set_filter(AccountFilter(search="hamilton")))
    shown_rows(qtbot, model)
    cells = [model.index(0, column).data() for column in AccountColumn]
    name, mrn, born, username, email, state, shared, last_login = cells
    assert (name, born, username, email) == (
        "Margaret Hamilton",
        "1983-08-17",
        "mhamilton",
        "hamilton@example.org",
    )
    assert re.fullmatch(r"T\d{7}", mrn)
    assert (state, shared) == ("Migrated", "")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", last_login)
    assert model.index(0, AccountColumn.STATE).data(AccountRoles.STATE) == AccountState.MIGRATED
    assert "new policy" in model.index(0, AccountColumn.STATE).data(Qt.ItemDataRole.ToolTipRole)
    assert isinstance(model.index(0, 0).data(AccountRoles.ACCOUNT_ID), int)


@pytest.mark.usefixtures("clinic")
def test_missing_values_read_as_words(qtbot: QtBot, make_model: MakeModel) -> None:
    model = make_model()
    load(qtbot, model, lambda: model.set_filter(AccountFilter(search="backus")))
    shown_rows(qtbot, model)
    assert model.index(0, AccountColumn.LOGIN_EMAIL).data() == ""
    tip = model.index(0, AccountColumn.LOGIN_EMAIL).data(Qt.ItemDataRole.ToolTipRole)
    assert tip == "No login e-mail on file"
    assert model.index(0, AccountColumn.LAST_LOGIN).data() == NEVER_LOGGED_IN


def test_headers_and_state_labels(make_model: MakeModel) -> None:
    model = make_model()
    titles = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert titles == [COLUMNS[c].title for c in AccountColumn]
    assert all(
        model.headerData(c, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
        for c in AccountColumn
    )
    assert sorted(STATE_LABELS.values()) == [
        "Deactivated",
        "Legacy",
        "Migrated",
        "Reset pending",
        "Revoked",
    ]


@pytest.mark.usefixtures("clinic")
def test_quick_filter_changes_end_with_the_last_filter(
    qtbot: QtBot, make_model: MakeModel, account_list: AccountList
) -> None:
    model = make_model(window_size=4)
    load(qtbot, model, model.refresh)
    last = AccountFilter(search="hopper", shared_only=True)
    with qtbot.waitSignal(model.row_count_changed, timeout=5000) as arrived:
        model.set_filter(AccountFilter(search="a"))
        model.set_filter(AccountFilter(search="ad"))
        model.set_filter(last)
    assert arrived.args == [3]
    qtbot.waitUntil(lambda: not model.is_loading)
    assert model.account_filter == last
    ids = [row.account_id for row in shown_rows(qtbot, model)]
    assert ids == expected(account_list, last, AccountSort())


@pytest.mark.usefixtures("clinic")
def test_refresh_shows_changes_made_in_the_database(
    qtbot: QtBot, qtmodeltester: ModelTester, make_model: MakeModel, database: Database
) -> None:
    model = make_model(window_size=4)
    load(qtbot, model, lambda: model.set_filter(AccountFilter(search="example")))
    before = shown_rows(qtbot, model)
    qtmodeltester.check(model)
    with database.write() as connection:
        connection.execute(
            update(PortalAccount)
            .where(PortalAccount.username == "aturing")
            .values(login_email=None, email_key=None)
        )
    load(qtbot, model, model.refresh)
    assert model.rowCount() == len(before) - 1
    after = shown_rows(qtbot, model)
    assert "aturing" not in {row.username for row in after}
    assert after == [row for row in before if row.username != "aturing"]


@pytest.mark.usefixtures("clinic")
def test_account_row_matches_the_row_role(qtbot: QtBot, make_model: MakeModel) -> None:
    model = make_model(window_size=4)
    load(qtbot, model, model.refresh)
    rows = shown_rows(qtbot, model)
    assert [model.index(r, 0).data(AccountRoles.ACCOUNT_ROW) for r in range(len(rows))] == rows
    assert model.account_row(len(rows)) is None
    assert model.account_row(-1) is None
