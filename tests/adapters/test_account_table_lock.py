"""The idle lock (issue 5, point 5): a locked account table model holds no rows, reads
nothing, drops the answers of reads that were running, and shows the rows again once
unlocked."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from pytestqt.qtbot import QtBot

from console.adapters.account_cells import AccountColumn
from console.adapters.account_table import AccountRoles, AccountTableModel
from console.models.account_list import AccountFilter, AccountRow
from console.workers.job_runner import JobRunner
from tests.adapters.fake_accounts import FakeAccounts, loaded
from tests.adapters.model_check import CheckModel

MakeModel = Callable[..., AccountTableModel]

_ROLES = [int(role) for role in AccountRoles] + [0, 3]  # display, tooltip


def all_rows(qtbot: QtBot, model: AccountTableModel) -> list[AccountRow]:
    """Every row, once every window has arrived (as a scrolling view would see them)."""

    def rows() -> list[AccountRow | None]:
        return [model.account_row(r) for r in range(model.rowCount())]

    qtbot.waitUntil(lambda: None not in rows(), timeout=5000)
    return [row for row in rows() if row is not None]


def assert_empty(model: AccountTableModel, rows_before: int) -> None:
    """No row count, and no data behind any index, even one made up for a row that was shown."""
    assert model.locked
    assert model.rowCount() == 0
    assert model.cached_window_count == 0
    for row in range(rows_before):
        assert model.account_row(row) is None
        assert model.account_line(row) is None
        for column in AccountColumn:
            made_up = model.createIndex(row, column)
            assert all(model.data(made_up, role) is None for role in _ROLES)


@pytest.fixture
def gated() -> Iterator[tuple[threading.Event, JobRunner]]:
    """A database that answers only when the gate is open, read through a runner the test
    can watch (closed at the end)."""
    gate = threading.Event()
    gate.set()
    runner = JobRunner()
    yield gate, runner
    gate.set()
    runner.close()


def test_a_locked_model_is_empty_and_conforms(
    qtbot: QtBot, check_model: CheckModel, make_model: MakeModel
) -> None:
    model = loaded(qtbot, make_model(FakeAccounts(45), window_size=10))
    before = all_rows(qtbot, model)
    usernames = [(f"user{n}",) for n in range(1, 46)]
    check_model(model, usernames, columns=[AccountColumn.USERNAME])
    with qtbot.waitSignal(model.modelReset):
        model.lock()
    assert_empty(model, len(before))
    assert not model.is_loading
    check_model(model, [])

    with qtbot.waitSignal(model.row_count_changed, timeout=5000) as counted:
        model.unlock()
    assert not model.locked
    assert counted.args == [45]
    assert all_rows(qtbot, model) == before
    check_model(model, usernames, columns=[AccountColumn.USERNAME])
    qtbot.waitUntil(lambda: not model.is_loading)


def test_a_locked_model_reads_nothing_until_unlocked(qtbot: QtBot, make_model: MakeModel) -> None:
    source = FakeAccounts(300)
    model = loaded(qtbot, make_model(source, window_size=20))
    all_rows(qtbot, model)
    model.lock()
    reads = len(source.reads)
    model.refresh()
    model.set_filter(AccountFilter(search="25"))  # typed behind the lock screen
    model.data(model.createIndex(50, 0))
    assert len(source.reads) == reads
    assert not model.is_loading
    assert_empty(model, 300)

    with qtbot.waitSignal(model.row_count_changed, timeout=5000) as counted:
        model.unlock()
    assert counted.args == [len([n for n in range(1, 301) if "25" in str(n)])]
    assert model.account_filter == AccountFilter(search="25")
    assert [row.account_id for row in all_rows(qtbot, model)][:3] == [25, 125, 225]
    qtbot.waitUntil(lambda: not model.is_loading)


def test_a_first_window_arriving_after_lock_is_dropped(
    qtbot: QtBot, gated: tuple[threading.Event, JobRunner]
) -> None:
    gate, runner = gated
    model = AccountTableModel(FakeAccounts(30, gate), runner, window_size=10)
    changes: list[str] = []
    model.modelReset.connect(lambda: changes.append("reset"))
    model.row_count_changed.connect(lambda count: changes.append(f"count {count}"))
    gate.clear()
    model.refresh()
    assert runner.pending_jobs == 1  # the first window, held up by the database
    model.lock()
    assert changes == ["reset"]
    gate.set()
    qtbot.waitUntil(lambda: runner.pending_jobs == 0, timeout=5000)  # answered and delivered
    assert changes == ["reset"]
    assert_empty(model, 30)
    model.close()


def test_a_count_arriving_after_lock_is_dropped(
    qtbot: QtBot, gated: tuple[threading.Event, JobRunner]
) -> None:
    gate, runner = gated
    source = FakeAccounts(30, gate)
    model = AccountTableModel(source, runner, window_size=10)
    with qtbot.waitSignal(model.modelReset, timeout=5000):
        gate.clear()
        model.refresh()
        gate.set()
    gate.clear()
    qtbot.waitUntil(lambda: ("count", 0) in source.reads, timeout=5000)  # counting, held up
    counts: list[int] = []
    model.row_count_changed.connect(counts.append)
    model.lock()
    gate.set()
    qtbot.waitUntil(lambda: runner.pending_jobs == 0, timeout=5000)
    assert counts == []
    assert_empty(model, 30)
    model.close()


def test_a_window_arriving_after_lock_is_dropped(
    qtbot: QtBot, gated: tuple[threading.Event, JobRunner]
) -> None:
    gate, runner = gated
    model = loaded(qtbot, AccountTableModel(FakeAccounts(100, gate), runner, window_size=10))
    qtbot.waitUntil(lambda: runner.pending_jobs == 0)
    gate.clear()
    assert model.account_row(55) is None  # window 5 is being read, held up
    assert runner.pending_jobs == 1
    changed: list[int] = []
    model.dataChanged.connect(lambda top_left, *_: changed.append(top_left.row()))
    model.lock()
    gate.set()
    qtbot.waitUntil(lambda: runner.pending_jobs == 0, timeout=5000)
    assert changed == []
    assert_empty(model, 100)

    with qtbot.waitSignal(model.row_count_changed, timeout=5000):
        model.unlock()
    assert model.rowCount() == 100
    assert model.index(55, AccountColumn.NAME).data() is None  # read again, not remembered
    qtbot.waitUntil(lambda: model.index(55, AccountColumn.NAME).data() == "Patient 56")
    qtbot.waitUntil(lambda: not model.is_loading)
    model.close()


def test_lock_and_unlock_twice_are_harmless(qtbot: QtBot, make_model: MakeModel) -> None:
    model = loaded(qtbot, make_model(FakeAccounts(5)))
    model.unlock()  # not locked: nothing to do
    assert model.rowCount() == 5
    model.lock()
    model.lock()
    assert model.locked
    with qtbot.waitSignal(model.row_count_changed, timeout=5000):
        model.unlock()
    model.unlock()
    assert model.rowCount() == 5
    qtbot.waitUntil(lambda: not model.is_loading)


def test_a_closed_model_reads_nothing_even_when_unlocked(
    qtbot: QtBot, gated: tuple[threading.Event, JobRunner]
) -> None:
    _gate, shared = gated  # a runner the model does not own, and so does not close
    source = FakeAccounts(50)
    model = loaded(qtbot, AccountTableModel(source, shared, window_size=20))
    model.lock()
    model.close()
    reads = len(source.reads)
    model.unlock()
    model.refresh()
    qtbot.wait(100)
    assert len(source.reads) == reads and model.rowCount() == 0
