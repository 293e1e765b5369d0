"""How the account table reads: windows off the GUI thread, a bounded cache, stale answers
dropped, failures reported, nothing left running."""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QModelIndex
from pytestqt.qtbot import QtBot

from console.adapters.account_cells import AccountColumn
from console.adapters.account_table import AccountRoles, AccountTableModel
from console.models.account_list import AccountFilter, AccountRow
from console.workers.job_runner import JobRunner
from tests.adapters.fake_accounts import FakeAccounts, fake_row, loaded

MakeModel = Callable[..., AccountTableModel]


def test_data_never_waits_for_the_database(qtbot: QtBot, make_model: MakeModel) -> None:
    gate = threading.Event()
    source = FakeAccounts(100, gate)
    model = make_model(source, window_size=10)
    gate.set()
    loaded(qtbot, model)
    gate.clear()
    # Row 35 is in window 3, not read yet: the answer is a placeholder, right away.
    assert model.account_row(35) is None
    assert model.is_loading
    with qtbot.waitSignal(model.dataChanged, timeout=5000) as changed:
        gate.set()
    top_left, bottom_right = changed.args[:2]
    assert (top_left.row(), top_left.column()) == (30, 0)
    assert (bottom_right.row(), bottom_right.column()) == (39, len(AccountColumn) - 1)
    assert model.index(35, AccountColumn.NAME).data() == "Patient 36"
    qtbot.waitUntil(lambda: not model.is_loading)


def test_each_window_is_read_once_however_often_it_is_asked(
    qtbot: QtBot, make_model: MakeModel
) -> None:
    source = FakeAccounts(100)
    model = loaded(qtbot, make_model(source, window_size=10))
    with qtbot.waitSignal(model.dataChanged, timeout=5000):
        for _ in range(5):
            for row in range(50, 60):
                model.index(row, AccountColumn.MRN).data()
    qtbot.waitUntil(lambda: not model.is_loading)
    assert [read for read in source.reads if read == ("window", 50)] == [("window", 50)]


def test_answers_to_superseded_filters_are_dropped(qtbot: QtBot, make_model: MakeModel) -> None:
    gate = threading.Event()
    source = FakeAccounts(300, gate)
    model = make_model(source, window_size=20)
    counts: list[int] = []
    model.row_count_changed.connect(counts.append)
    model.set_filter(AccountFilter(search="1"))
    model.set_filter(AccountFilter(search="2"))
    model.set_filter(AccountFilter(search="25"))
    gate.set()
    qtbot.waitUntil(lambda: not model.is_loading, timeout=5000)
    assert counts == [len([n for n in range(1, 301) if "25" in str(n)])]
    assert model.account_filter == AccountFilter(search="25")
    assert [model.index(r, 0).data(AccountRoles.ACCOUNT_ID) for r in range(3)] == [25, 125, 225]


def test_window_cache_stays_bounded_while_scrolling(qtbot: QtBot, make_model: MakeModel) -> None:
    source = FakeAccounts(5000)
    model = loaded(qtbot, make_model(source, window_size=50, max_windows=6))
    largest = 0
    for row in range(0, 5000, 25):  # a user paging down through five thousand rows
        qtbot.waitUntil(lambda r=row: model.account_row(r) is not None, timeout=5000)
        largest = max(largest, model.cached_window_count)
    assert largest <= model.max_windows == 6
    assert model.index(4999, 0).data() == "Patient 5000"
    assert model.account_row(0) is None  # long since forgotten, read again when shown
    qtbot.waitUntil(lambda: not model.is_loading)


def test_refresh_keeps_showing_stale_rows_until_fresh_ones_arrive(
    qtbot: QtBot, make_model: MakeModel
) -> None:
    gate = threading.Event()
    gate.set()
    source = FakeAccounts(40, gate)
    model = loaded(qtbot, make_model(source, window_size=10))
    qtbot.waitUntil(lambda: model.account_row(25) is not None)
    source.rows[25] = AccountRow(**{**fake_row(26).__dict__, "patient_name": "Renamed"})
    loaded(qtbot, model)
    gate.clear()
    assert model.index(25, 0).data() == "Patient 26"  # stale, still shown, being re-read
    with qtbot.waitSignal(model.dataChanged, timeout=5000):
        gate.set()
    assert model.index(25, 0).data() == "Renamed"
    qtbot.waitUntil(lambda: not model.is_loading)


def test_refresh_announces_added_and_removed_rows(qtbot: QtBot, make_model: MakeModel) -> None:
    source = FakeAccounts(30)
    model = loaded(qtbot, make_model(source, window_size=10))
    with qtbot.waitSignal(model.rowsInserted) as inserted:
        source.rows.append(fake_row(31))
        model.refresh()
    assert inserted.args[1:] == [30, 30]
    with qtbot.waitSignal(model.rowsRemoved) as removed:
        del source.rows[:5]
        model.refresh()
    assert removed.args[1:] == [26, 30]
    assert model.rowCount() == 26
    qtbot.waitUntil(lambda: not model.is_loading)


def test_failed_reads_are_reported(qtbot: QtBot, make_model: MakeModel) -> None:
    source = FakeAccounts(10)
    source.fail = True
    model = make_model(source)
    with qtbot.waitSignal(model.load_failed, timeout=5000) as failed:
        model.refresh()
    assert failed.args == ["The account list could not be read from the database (disk I/O error)."]
    assert model.rowCount() == 0
    assert not model.is_loading


def test_loading_is_signalled_while_reading(qtbot: QtBot, make_model: MakeModel) -> None:
    model = make_model(FakeAccounts(10))
    states: list[bool] = []
    model.loading_changed.connect(states.append)
    loaded(qtbot, model)
    qtbot.waitUntil(lambda: not model.is_loading)
    assert states == [True, False]


def test_close_waits_for_running_reads_and_delivers_nothing_after(
    qtbot: QtBot, make_model: MakeModel
) -> None:
    gate = threading.Event()
    runner = JobRunner()
    model = AccountTableModel(FakeAccounts(10, gate), runner)
    model.refresh()
    assert runner.pending_jobs == 1  # the first window; the count is read after it
    threading.Timer(0.05, gate.set).start()
    runner.close()
    model.close()
    assert runner.active_threads == 0
    assert runner.closed
    qtbot.wait(20)  # let any queued delivery through: there must be none
    assert model.rowCount(QModelIndex()) == 0


class SlowCount(FakeAccounts):
    """Counting waits for ``count_gate``; windows are read at once."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.count_gate = threading.Event()
        self.counting = threading.Event()

    def count(self, account_filter: AccountFilter) -> int:
        self.counting.set()
        assert self.count_gate.wait(5)
        return super().count(account_filter)


def test_the_first_window_is_shown_before_the_count(qtbot: QtBot, make_model: MakeModel) -> None:
    source = SlowCount(1000)
    model = make_model(source, window_size=50)
    with qtbot.waitSignal(model.modelReset, timeout=5000):
        model.refresh()
    assert model.rowCount() == 50  # the first window, while a million are still counted
    assert model.data(model.index(0, 0)) is not None
    assert model.is_loading
    with qtbot.waitSignal(model.row_count_changed, timeout=5000) as counted:
        source.count_gate.set()
    assert counted.args == [1000]
    assert model.rowCount() == 1000
    qtbot.waitUntil(lambda: not model.is_loading)


def test_a_fast_typist_costs_only_the_first_and_the_newest_search(
    qtbot: QtBot, make_model: MakeModel
) -> None:
    gate = threading.Event()
    source = FakeAccounts(2000, gate)
    model = make_model(source)
    model.refresh()
    for text in ("1", "12", "123", "1234"):
        model.set_filter(AccountFilter(search=text))
    gate.set()
    qtbot.waitUntil(lambda: model.account_filter.search == "1234" and not model.is_loading)
    first_windows = [read for read in source.reads if read == ("window", 0)]
    assert len(first_windows) == 2  # the refresh, then straight to "1234"
    counts = [read for read in source.reads if read[0] == "count"]
    assert len(counts) == 1  # the refresh was overtaken before it was counted
    assert model.rowCount() == 1  # account 1234


def test_a_new_search_does_not_wait_for_the_count_of_the_last(
    qtbot: QtBot, make_model: MakeModel
) -> None:
    source = SlowCount(1000)
    model = make_model(source, window_size=50)
    with qtbot.waitSignal(model.modelReset, timeout=5000):
        model.refresh()
    qtbot.waitUntil(source.counting.is_set, timeout=5000)
    with qtbot.waitSignal(model.modelReset, timeout=5000):  # while the count is still read
        model.set_filter(AccountFilter(search="12"))
    assert model.account_filter == AccountFilter(search="12")
    counts: list[int] = []
    model.row_count_changed.connect(counts.append)
    source.count_gate.set()
    qtbot.waitUntil(lambda: not model.is_loading, timeout=5000)
    assert counts == [len([n for n in range(1, 1001) if "12" in str(n)])]
