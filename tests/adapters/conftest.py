"""Fixtures for the Qt adapters: models over a real SQLite file, and a leak check."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from console.adapters.account_requests import AccountSource
from console.adapters.account_table import AccountTableModel
from console.models.account_list import AccountList
from console.models.database import Database
from tests.qt_leaks import no_qt_work_left_running  # noqa: F401 - autouse


@pytest.fixture
def account_list(database: Database) -> AccountList:
    """The query API over the test's database."""
    return AccountList(database.engine)


@pytest.fixture
def make_model(
    account_list: AccountList,
) -> Iterator[Callable[..., AccountTableModel]]:
    """Build account table models (over the test database unless a source is given); each
    is closed, and its pool checked idle, when the test ends."""
    models: list[AccountTableModel] = []

    def make(source: AccountSource | None = None, **options: int) -> AccountTableModel:
        model = AccountTableModel(source or account_list, **options)
        models.append(model)
        return model

    yield make
    for model in models:
        model.close()
        assert not model.is_loading
