"""After an action (issue 12, point 5): the account table reads again only the changed accounts
that it holds in memory, announces only the rows whose data changed, counts nothing and moves
no row."""

from __future__ import annotations

import threading
from collections.abc import Callable

from pytestqt.qtbot import QtBot

from console.adapters.account_cells import STATE_LABELS, AccountColumn
from console.adapters.account_table import AccountTableModel
from console.models.account_list import AccountFilter, AccountRow
from console.models.database import Database
from console.models.states import AccountState, StaffRole
from console.services.accounts.actions import revoke_access
from console.services.clock import ManualClock
from console.services.workstation import Changes
from tests.adapters.clinic_accounts import CountedReads, add_clinic_accounts
from tests.adapters.fake_accounts import FakeAccounts, loaded
from tests.adapters.model_check import CheckModel
from tests.services.conftest import (
    NOW,
    add_staff,
    make_workstation,
    staff_hash,  # noqa: F401 - a fixture
)

MakeModel = Callable[..., AccountTableModel]


def every_row(qtbot: QtBot, model: AccountTableModel) -> list[AccountRow]:
    """Every row, its window read (as a view scrolling over all of them), and the reads done."""

    def rows() -> list[AccountRow | None]:
        return [model.account_row(r) for r in range(model.rowCount())]

    qtbot.waitUntil(lambda: None not in rows() and not model.is_loading, timeout=5000)
    return [row for row in rows() if row is not None]


def announced_rows(model: AccountTableModel) -> list[int]:
    """The rows ``dataChanged`` announces from now on, one entry per row per announcement."""
    rows: list[int] = []
    model.dataChanged.connect(
        lambda top, bottom, *_roles: rows.extend(range(top.row(), bottom.row() + 1))
    )
    return rows


def revoke(database: Database, staff_hash: str, username: str, rows: list[AccountRow]) -> Changes:  # noqa: F811
    """Revoke ``username``'s access as the front desk does; what changed."""
    actor = add_staff(database, StaffRole.FRONT_DESK, staff_hash)
    workstation = make_workstation(database, ManualClock(NOW))
    account_id = next(row.account_id for row in rows if row.username == username)
    return revoke_access(workstation, actor, account_id, reason="shared_email")


def row_of(rows: list[AccountRow], username: str) -> int:
    return next(n for n, row in enumerate(rows) if row.username == username)


def test_a_revoke_rereads_only_the_changed_accounts_and_announces_their_rows(
    qtbot: QtBot,
    check_model: CheckModel,
    database: Database,
    make_model: MakeModel,
    staff_hash: str,  # noqa: F811
) -> None:
    add_clinic_accounts(database)
    source = CountedReads(database)
    model = loaded(qtbot, make_model(source, window_size=4))
    before = every_row(qtbot, model)
    assert model.cached_window_count == 4
    changes = revoke(database, staff_hash, "dthompson", before)
    ken, dennis = row_of(before, "kthompson"), row_of(before, "dthompson")
    assert changes.accounts == {before[ken].account_id, before[dennis].account_id}
    source.calls.clear()
    announced = announced_rows(model)

    model.reread_accounts(changes.accounts)
    qtbot.waitUntil(lambda: not model.is_loading, timeout=5000)

    assert source.calls == [("rows_by_id", changes.accounts)]  # no count, no window
    assert sorted(announced) == sorted({ken, dennis})
    after = every_row(qtbot, model)
    assert source.calls == [("rows_by_id", changes.accounts)]
    assert after[dennis].state is AccountState.REVOKED and not after[dennis].shared_email
    assert not after[ken].shared_email  # unblocked: Ken's address is his alone now
    assert [r for n, r in enumerate(after) if n not in (ken, dennis)] == [
        r for n, r in enumerate(before) if n not in (ken, dennis)
    ]
    shown = [
        (r.username, STATE_LABELS[r.state], "Shared" if r.shared_email else "") for r in before
    ]
    shown[dennis] = ("dthompson", "Revoked", "")
    shown[ken] = ("kthompson", STATE_LABELS[before[ken].state], "")
    columns = [AccountColumn.USERNAME, AccountColumn.STATE, AccountColumn.SHARED_EMAIL]
    check_model(model, shown, columns=columns)


def test_only_rows_in_memory_are_read_again(
    qtbot: QtBot,
    database: Database,
    make_model: MakeModel,
    staff_hash: str,  # noqa: F811
) -> None:
    add_clinic_accounts(database)
    source = CountedReads(database)
    model = loaded(qtbot, make_model(source, window_size=4))
    everything = CountedReads(database).window(AccountFilter(), model.account_sort, 0, 100)
    assert row_of(everything, "dthompson") >= 4 and row_of(everything, "kthompson") >= 4
    assert model.cached_window_count == 1  # the first window only: the Thompsons are not in it
    changes = revoke(database, staff_hash, "dthompson", everything)
    source.calls.clear()
    announced = announced_rows(model)

    model.reread_accounts(changes.accounts)

    assert not model.is_loading and source.calls == [] and announced == []
    # Their window, read when it is shown, is read after the change.
    assert every_row(qtbot, model)[row_of(everything, "dthompson")].state is AccountState.REVOKED


def test_a_changed_row_stays_in_place_until_the_next_search(
    qtbot: QtBot,
    check_model: CheckModel,
    database: Database,
    make_model: MakeModel,
    staff_hash: str,  # noqa: F811
) -> None:
    """Under "Shared e-mail only", the Thompsons no longer share once one is revoked: both
    rows stay, showing that, so staff see what they did; the next refresh leaves them out."""
    add_clinic_accounts(database)
    model = make_model(CountedReads(database), window_size=4)
    with qtbot.waitSignal(model.row_count_changed, timeout=5000):
        model.set_filter(AccountFilter(shared_only=True))
    before = every_row(qtbot, model)
    assert len(before) == 5
    changes = revoke(database, staff_hash, "dthompson", before)

    with qtbot.waitSignal(model.dataChanged, timeout=5000):
        model.reread_accounts(changes.accounts)
    qtbot.waitUntil(lambda: not model.is_loading, timeout=5000)

    after = every_row(qtbot, model)
    assert [row.username for row in after] == [row.username for row in before]
    assert [row.shared_email for row in after] == [
        row.username not in ("dthompson", "kthompson") for row in after
    ]
    check_model(
        model,
        [
            ("ahopper", "Shared"),
            ("ghopper", "Shared"),
            ("whopper", "Shared"),
            ("dthompson", ""),
            ("kthompson", ""),
        ],
        columns=[AccountColumn.USERNAME, AccountColumn.SHARED_EMAIL],
    )
    with qtbot.waitSignal(model.row_count_changed, timeout=5000):
        model.refresh()
    assert sorted(row.username for row in every_row(qtbot, model)) == [
        "ahopper",
        "ghopper",
        "whopper",
    ]


def test_a_window_read_under_way_during_a_change_is_read_again(
    qtbot: QtBot, make_model: MakeModel
) -> None:
    """Its read may have started before the action was committed: it is shown, stale, and
    read again rather than trusted."""
    gate = threading.Event()
    gate.set()
    source = FakeAccounts(30, gate)
    model = loaded(qtbot, make_model(source, window_size=10))
    gate.clear()
    assert model.account_row(25) is None  # window 2 is being read
    model.reread_accounts({26})  # not in memory yet: nothing to read by id
    gate.set()
    qtbot.waitUntil(lambda: model.account_row(25) is not None, timeout=5000)
    qtbot.waitUntil(lambda: not model.is_loading, timeout=5000)
    assert source.reads.count(("window", 20)) == 2
    assert not [read for read in source.reads if read[0] == "rows_by_id"]


def test_a_locked_model_reads_nothing_again(qtbot: QtBot, make_model: MakeModel) -> None:
    source = FakeAccounts(30)
    model = loaded(qtbot, make_model(source, window_size=10))
    model.lock()
    model.reread_accounts({1, 2})
    assert not model.is_loading and ("rows_by_id", 2) not in source.reads
