"""The outbox table model: Qt's conformance checker, the texts and roles of a row in each
state, and a retried message replaced in place without a reset (issue 7)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from PySide6.QtCore import QModelIndex, Qt
from pytestqt.qtbot import QtBot

from console.adapters.local_time import when
from console.adapters.outbox_table import (
    OutboxColumn,
    OutboxRoles,
    OutboxTableModel,
    reason_shown,
)
from console.models.outbox_list import OutboxRow
from console.models.states import OutboxKind, OutboxState
from tests.adapters.model_check import CheckModel

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
REFUSED = "smtp://mail.example.org:587 (STARTTLS) answered 550 5.1.1 No such\n mailbox here"


def message(
    n: int,
    state: OutboxState,
    kind: OutboxKind = OutboxKind.INVITATION,
    *,
    attempts: int = 0,
    last_error: str | None = None,
) -> OutboxRow:
    created = NOW - dt.timedelta(hours=n)
    return OutboxRow(
        message_id=n,
        kind=kind,
        to_email=f"patient{n}@example.org",
        state=state,
        attempts=attempts,
        created_at=created,
        next_attempt_at=created + dt.timedelta(minutes=5) if state is OutboxState.QUEUED else None,
        sent_at=created + dt.timedelta(minutes=1) if state is OutboxState.SENT else None,
        last_error=last_error,
        version=2,
    )


@pytest.fixture
def rows() -> list[OutboxRow]:
    return [
        message(1, OutboxState.QUEUED, attempts=2, last_error="451 4.3.0 Try again later"),
        message(2, OutboxState.SENT, OutboxKind.PASSWORD_RESET, attempts=1),
        message(3, OutboxState.FAILED, OutboxKind.ACCESS_REVOKED, attempts=1, last_error=REFUSED),
        message(4, OutboxState.CANCELLED),
    ]


@pytest.fixture
def model(check_model: CheckModel, rows: list[OutboxRow]) -> OutboxTableModel:
    """A model over ``rows``, showing each as the clinic reads it, that passed Qt's model
    tester (which keeps watching it)."""
    table = OutboxTableModel()
    table.load(rows)
    queued, sent, _failed, _cancelled = rows
    check_model(
        table,
        [
            (
                when(NOW - dt.timedelta(hours=1)),
                "Invitation",
                "patient1@example.org",
                "Queued",
                "2",
                when(queued.next_attempt_at or NOW),
                "451 4.3.0 Try again later",
            ),
            (
                when(NOW - dt.timedelta(hours=2)),
                "Password reset",
                "patient2@example.org",
                "Sent",
                "1",
                when(sent.sent_at or NOW),
                "",
            ),
            (
                when(NOW - dt.timedelta(hours=3)),
                "Access ended",
                "patient3@example.org",
                "Failed",
                "1",
                "—",
                "550 5.1.1 No such mailbox here",  # the server's reply, on one line
            ),
            (
                when(NOW - dt.timedelta(hours=4)),
                "Invitation",
                "patient4@example.org",
                "Cancelled",
                "0",
                "—",
                "",
            ),
        ],
    )
    return table


def test_headers_tooltips_and_roles(model: OutboxTableModel, rows: list[OutboxRow]) -> None:
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["Created", "Kind", "To", "State", "Attempts", "Next try / Sent", "Reason"]
    failed = model.index(2, OutboxColumn.REASON)
    assert failed.data(Qt.ItemDataRole.ToolTipRole) == REFUSED
    assert failed.data(OutboxRoles.MESSAGE_ID) == 3
    assert failed.data(OutboxRoles.STATE) == "failed"
    assert failed.data(OutboxRoles.VERSION) == 2
    assert model.index(2, 0).data(OutboxRoles.ROW) == rows[2]
    assert model.index(0, OutboxColumn.NEXT_OR_SENT).data(Qt.ItemDataRole.ToolTipRole)
    assert model.flags(failed) & Qt.ItemFlag.ItemNeverHasChildren
    assert not model.flags(failed) & Qt.ItemFlag.ItemIsEditable
    assert model.rowCount(model.index(0, 0)) == 0
    assert model.data(QModelIndex()) is None


def test_a_reason_without_a_reply_is_shown_whole() -> None:
    assert reason_shown(None) == ""
    unreachable = "smtp://mail.example.org:587 (STARTTLS) refused the connection: is it up?"
    assert reason_shown(unreachable) == unreachable
    assert reason_shown("x answered nothing useful") == "x answered nothing useful"


def test_replace_changes_one_row_without_a_reset(
    qtbot: QtBot, check_model: CheckModel, model: OutboxTableModel, rows: list[OutboxRow]
) -> None:
    resets: list[None] = []
    model.modelReset.connect(lambda: resets.append(None))
    retried = dataclasses.replace(
        rows[2], state=OutboxState.QUEUED, attempts=0, last_error=None, next_attempt_at=NOW
    )
    with qtbot.waitSignal(model.dataChanged) as changed:
        assert model.replace(retried)
    assert changed.args[0].row() == 2 and changed.args[1].row() == 2
    assert not resets
    check_model(
        model,
        [
            ("Queued", when(rows[0].next_attempt_at or NOW), "451 4.3.0 Try again later"),
            ("Sent", when(rows[1].sent_at or NOW), ""),
            ("Queued", when(NOW), ""),
            ("Cancelled", "—", ""),
        ],
        columns=[OutboxColumn.STATE, OutboxColumn.NEXT_OR_SENT, OutboxColumn.REASON],
    )
    assert model.row_of(3) == 2 and model.row_of(99) is None
    model.load([])
    assert model.rowCount() == 0
