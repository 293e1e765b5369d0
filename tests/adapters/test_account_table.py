"""The account table model over a real SQLite file: conformance, order, roles, formatting."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import update

from console.adapters.account_cells import COLUMNS, NEVER_LOGGED_IN, STATE_LABELS, AccountColumn
from console.adapters.account_table import AccountRoles, AccountTableModel
from console.models.account_list import AccountFilter, AccountList, AccountRow, AccountSort
from console.models.database import Database
from console.models.schema import PortalAccount
from console.models.states import AccountState
from tests.adapters.clinic_accounts import SHARED_USERNAMES, add_clinic_accounts
from tests.adapters.model_check import CheckModel

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


def expected(
    account_list: AccountList,
    account_filter: AccountFilter | None = None,
    sort: AccountSort | None = None,
) -> list[tuple[str]]:
    """The usernames (one per row, as the Username column shows them) the query gives."""
    rows = account_list.window(account_filter or AccountFilter(), sort or AccountSort(), 0, 10_000)
    return [(row.username,) for row in rows]


USERNAME = [AccountColumn.USERNAME]


@pytest.fixture
def clinic(database: Database) -> list[str]:
    return add_clinic_accounts(database)


@pytest.mark.usefixtures("clinic")
def test_model_passes_qtmodeltester_while_filtering_and_sorting(
    qtbot: QtBot, check_model: CheckModel, make_model: MakeModel, account_list: AccountList
) -> None:
    model = make_model(window_size=4)
    load(qtbot, model, model.refresh)
    shown_rows(qtbot, model)
    check_model(model, expected(account_list), columns=USERNAME)

    hopper = AccountFilter(search="hopper")
    load(qtbot, model, lambda: model.set_filter(hopper))
    shown_rows(qtbot, model)
    check_model(model, [("ahopper",), ("ghopper",), ("whopper",)], columns=USERNAME)

    load(qtbot, model, lambda: model.sort(AccountColumn.BORN, Qt.SortOrder.DescendingOrder))
    shown_rows(qtbot, model)
    check_model(
        model,
        [
            ("Anne Hopper", "2015-07-14"),
            ("Walter Hopper", "2012-03-01"),
            ("Grace Hopper", "1990-12-09"),
        ],
        columns=[AccountColumn.NAME, AccountColumn.BORN],
    )

    load(qtbot, model, lambda: model.set_filter(AccountFilter(search="nobody-by-that-name")))
    check_model(model, [])


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
    qtbot: QtBot,
    check_model: CheckModel,
    make_model: MakeModel,
    account_list: AccountList,
    account_filter: AccountFilter,
) -> None:
    model = make_model(window_size=3)
    load(qtbot, model, model.refresh)
    if account_filter != model.account_filter:
        load(qtbot, model, lambda: model.set_filter(account_filter))
    shown_rows(qtbot, model)
    check_model(model, expected(account_list, account_filter), columns=USERNAME)
    assert model.account_filter == account_filter


@pytest.mark.usefixtures("clinic")
@pytest.mark.parametrize("column", list(AccountColumn), ids=lambda c: c.name.lower())
@pytest.mark.parametrize("order", [Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder])
def test_sorting_any_column_follows_account_list_order(
    qtbot: QtBot,
    check_model: CheckModel,
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
    shown_rows(qtbot, model)
    check_model(model, expected(account_list, sort=sort), columns=USERNAME)
    assert model.account_sort == sort


@pytest.mark.usefixtures("clinic")
def test_shared_email_role_is_true_exactly_for_flagged_accounts(
    qtbot: QtBot, check_model: CheckModel, make_model: MakeModel, account_list: AccountList
) -> None:
    model = make_model()
    load(qtbot, model, model.refresh)
    shown_rows(qtbot, model)
    check_model(
        model,
        [
            (username, "Shared" if username in SHARED_USERNAMES else "")
            for (username,) in expected(account_list)
        ],
        columns=[AccountColumn.USERNAME, AccountColumn.SHARED_EMAIL],
    )
    shared = {
        model.index(r, AccountColumn.USERNAME).data()
        for r in range(model.rowCount())
        if model.index(r, AccountColumn.NAME).data(AccountRoles.SHARED_EMAIL)
    }
    assert shared == SHARED_USERNAMES


@pytest.mark.usefixtures("clinic")
def test_cells_are_readable(qtbot: QtBot, check_model: CheckModel, make_model: MakeModel) -> None:
    model = make_model()
    load(qtbot, model, lambda: model.set_filter(AccountFilter(search="hamilton")))
    shown_rows(qtbot, model)
    every_but_mrn_and_last_login = [
        AccountColumn.NAME,
        AccountColumn.BORN,
        AccountColumn.USERNAME,
        AccountColumn.LOGIN_EMAIL,
        AccountColumn.STATE,
        AccountColumn.SHARED_EMAIL,
    ]
    check_model(
        model,
        [("Margaret Hamilton", "1983-08-17", "mhamilton", "hamilton@example.org", "Migrated", "")],
        columns=every_but_mrn_and_last_login,
    )
    mrn = model.index(0, AccountColumn.MRN).data()
    last_login = model.index(0, AccountColumn.LAST_LOGIN).data()
    assert re.fullmatch(r"T\d{7}", mrn)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", last_login)
    assert model.index(0, AccountColumn.STATE).data(AccountRoles.STATE) == AccountState.MIGRATED
    assert "new policy" in model.index(0, AccountColumn.STATE).data(Qt.ItemDataRole.ToolTipRole)
    assert isinstance(model.index(0, 0).data(AccountRoles.ACCOUNT_ID), int)


@pytest.mark.usefixtures("clinic")
def test_missing_values_read_as_words(
    qtbot: QtBot, check_model: CheckModel, make_model: MakeModel
) -> None:
    model = make_model()
    load(qtbot, model, lambda: model.set_filter(AccountFilter(search="backus")))
    shown_rows(qtbot, model)
    check_model(
        model,
        [("jbackus", "", NEVER_LOGGED_IN)],
        columns=[AccountColumn.USERNAME, AccountColumn.LOGIN_EMAIL, AccountColumn.LAST_LOGIN],
    )
    tip = model.index(0, AccountColumn.LOGIN_EMAIL).data(Qt.ItemDataRole.ToolTipRole)
    assert tip == "No login e-mail on file"


def test_headers_and_state_labels(check_model: CheckModel, make_model: MakeModel) -> None:
    model = make_model()
    check_model(model, [])  # nothing read yet
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
    qtbot: QtBot, check_model: CheckModel, make_model: MakeModel, account_list: AccountList
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
    shown_rows(qtbot, model)
    check_model(model, expected(account_list, last), columns=USERNAME)


@pytest.mark.usefixtures("clinic")
def test_refresh_shows_changes_made_in_the_database(
    qtbot: QtBot,
    check_model: CheckModel,
    make_model: MakeModel,
    database: Database,
    account_list: AccountList,
) -> None:
    model = make_model(window_size=4)
    with_example = AccountFilter(search="example")
    load(qtbot, model, lambda: model.set_filter(with_example))
    before = shown_rows(qtbot, model)
    check_model(model, expected(account_list, with_example), columns=USERNAME)
    assert ("aturing",) in expected(account_list, with_example)
    with database.write() as connection:
        connection.execute(
            update(PortalAccount)
            .where(PortalAccount.username == "aturing")
            .values(login_email=None, email_key=None)
        )
    load(qtbot, model, model.refresh)
    assert model.rowCount() == len(before) - 1
    after = shown_rows(qtbot, model)
    check_model(model, expected(account_list, with_example), columns=USERNAME)
    assert after == [row for row in before if row.username != "aturing"]
    qtbot.waitUntil(lambda: not model.is_loading)  # the fresh windows behind the stale ones


@pytest.mark.usefixtures("clinic")
def test_account_row_matches_the_row_role(
    qtbot: QtBot, check_model: CheckModel, make_model: MakeModel, account_list: AccountList
) -> None:
    model = make_model(window_size=4)
    load(qtbot, model, model.refresh)
    rows = shown_rows(qtbot, model)
    check_model(model, expected(account_list), columns=USERNAME)
    assert [model.index(r, 0).data(AccountRoles.ACCOUNT_ROW) for r in range(len(rows))] == rows
    assert model.account_row(len(rows)) is None
    assert model.account_row(-1) is None
