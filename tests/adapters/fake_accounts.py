"""An in-memory account list for the table tests, which can be made slow or failing."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Collection

from pytestqt.qtbot import QtBot

from console.adapters.account_table import AccountTableModel
from console.models.account_list import AccountFilter, AccountRow, AccountSort
from console.models.states import AccountState


def fake_row(n: int) -> AccountRow:
    return AccountRow(
        account_id=n,
        username=f"user{n}",
        login_email=f"user{n}@example.org",
        state=AccountState.LEGACY,
        shared_email=n % 7 == 0,
        mrn=f"M{n:07d}",
        patient_name=f"Patient {n}",
        birth_date=dt.date(1980, 1, 1),
        last_login_at=None,
    )


class FakeAccounts:
    """An in-memory account list; the search word keeps ids whose text contains it. With
    ``gate`` set, every read waits for it (the database being slow)."""

    def __init__(self, size: int, gate: threading.Event | None = None) -> None:
        self.rows = [fake_row(n) for n in range(1, size + 1)]
        self.gate = gate
        self.reads: list[tuple[str, int]] = []
        self.fail = False

    def _matching(self, account_filter: AccountFilter) -> list[AccountRow]:
        if self.gate is not None:
            assert self.gate.wait(5)
        if self.fail:
            raise OSError("disk I/O error")
        return [r for r in self.rows if account_filter.search in str(r.account_id)]

    def count(self, account_filter: AccountFilter) -> int:
        self.reads.append(("count", 0))
        return len(self._matching(account_filter))

    def window(
        self, account_filter: AccountFilter, sort: AccountSort, offset: int, limit: int
    ) -> list[AccountRow]:
        self.reads.append(("window", offset))
        rows = self._matching(account_filter)
        if sort.descending:
            rows = rows[::-1]
        return rows[offset : offset + limit]

    def rows_by_id(self, account_ids: Collection[int]) -> list[AccountRow]:
        self.reads.append(("rows_by_id", len(account_ids)))
        if self.gate is not None:
            assert self.gate.wait(5)
        return [r for r in self.rows if r.account_id in account_ids]


def loaded(qtbot: QtBot, model: AccountTableModel) -> AccountTableModel:
    """``model`` after its first refresh was counted."""
    with qtbot.waitSignal(model.row_count_changed, timeout=5000):
        model.refresh()
    return model
