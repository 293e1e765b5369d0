"""The invitations table model: Qt's conformance checker, the texts and roles of a row, and a
cancelled invitation replaced in place without a reset (issue 6, point 5)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from console.adapters.invitation_table import (
    InvitationColumn,
    InvitationRoles,
    InvitationTableModel,
)
from console.adapters.local_time import when
from console.models.invitation_list import InvitationRow
from console.models.states import InvitationState
from tests.adapters.model_check import CheckModel

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
MARKS = {
    InvitationState.PENDING: QColor("#d98e04"),
    InvitationState.EXPIRED: QColor("#8a94a3"),
    InvitationState.ACCEPTED: QColor("#2f9e44"),
    InvitationState.CANCELLED: QColor("#c92a2a"),
}


def invitation(
    n: int, first: str, state: InvitationState, by: str | None = "desk"
) -> InvitationRow:
    return InvitationRow(
        invitation_id=n,
        state=state,
        target_email=f"{first.lower()}@example.com",
        patient_id=100 + n,
        first_name=first,
        last_name="Hopper",
        mrn=f"M{n:07d}",
        created_at=NOW - dt.timedelta(days=n),
        expires_at=NOW + dt.timedelta(days=14 - n),
        created_by=by,
        version=3,
    )


@pytest.fixture
def rows() -> list[InvitationRow]:
    return [
        invitation(1, "Grace", InvitationState.PENDING),
        invitation(2, "Walter", InvitationState.EXPIRED, by=None),
        invitation(3, "Ruth", InvitationState.ACCEPTED),
        invitation(4, "Alan", InvitationState.CANCELLED),
    ]


@pytest.fixture
def model(check_model: CheckModel, rows: list[InvitationRow]) -> InvitationTableModel:
    """A model over ``rows``, a mark beside each state as a view gives it, showing each row as
    the front desk reads it; it passed Qt's model tester (which keeps watching it)."""
    table = InvitationTableModel(state_marks=MARKS)
    table.load(rows)

    def made_and_expires(n: int) -> tuple[str, str]:
        return when(NOW - dt.timedelta(days=n)), when(NOW + dt.timedelta(days=14 - n))

    check_model(
        table,
        [
            (
                "Grace Hopper",
                "M0000001",
                "grace@example.com",
                "Pending",
                *made_and_expires(1),
                "desk",
            ),
            (
                "Walter Hopper",
                "M0000002",
                "walter@example.com",
                "Expired",
                *made_and_expires(2),
                "—",
            ),
            (
                "Ruth Hopper",
                "M0000003",
                "ruth@example.com",
                "Accepted",
                *made_and_expires(3),
                "desk",
            ),
            (
                "Alan Hopper",
                "M0000004",
                "alan@example.com",
                "Cancelled",
                *made_and_expires(4),
                "desk",
            ),
        ],
    )
    return table


def test_headers_tooltips_and_roles(model: InvitationTableModel) -> None:
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["Patient", "MRN", "E-mail", "State", "Created", "Expires", "By"]
    walter = model.index(1, InvitationColumn.EMAIL)
    assert walter.data(InvitationRoles.INVITATION_ID) == 2
    assert walter.data(InvitationRoles.STATE) == "expired"
    assert walter.data(InvitationRoles.VERSION) == 3
    assert model.index(1, InvitationColumn.EXPIRES).data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(1, 0).data(InvitationRoles.ROW).first_name == "Walter"
    assert model.flags(walter) & Qt.ItemFlag.ItemNeverHasChildren
    assert model.rowCount(model.index(0, 0)) == 0
    assert model.data(QModelIndex()) is None


def test_the_state_has_its_mark_beside_its_words(model: InvitationTableModel) -> None:
    decoration = Qt.ItemDataRole.DecorationRole
    states = [model.index(row, InvitationColumn.STATE) for row in range(model.rowCount())]
    assert [state.data(decoration) for state in states] == list(MARKS.values())
    assert [state.data() for state in states] == ["Pending", "Expired", "Accepted", "Cancelled"]
    assert model.index(0, InvitationColumn.PATIENT).data(decoration) is None
    unmarked = InvitationTableModel()
    unmarked.load([invitation(1, "Grace", InvitationState.PENDING)])
    assert unmarked.index(0, InvitationColumn.STATE).data(decoration) is None


def test_when_is_day_month_year_and_time() -> None:
    text = when(dt.datetime(2026, 3, 2, 9, 5, tzinfo=dt.UTC))
    assert text.split(" ")[1:3] == ["Mar", "2026"]


def test_replace_changes_one_row_without_a_reset(
    qtbot: QtBot, check_model: CheckModel, model: InvitationTableModel, rows: list[InvitationRow]
) -> None:
    resets: list[None] = []
    model.modelReset.connect(lambda: resets.append(None))
    cancelled = dataclasses.replace(rows[0], state=InvitationState.CANCELLED, version=4)
    with qtbot.waitSignal(model.dataChanged) as changed:
        assert model.replace(cancelled)
    assert changed.args[0].row() == 0 and changed.args[1].row() == 0
    assert not resets
    check_model(
        model,
        [("Cancelled",), ("Expired",), ("Accepted",), ("Cancelled",)],
        columns=[InvitationColumn.STATE],
    )
    assert model.index(0, 0).data(InvitationRoles.VERSION) == 4
    assert model.row_of(4) == 3 and model.row_of(99) is None
    assert not model.replace(invitation(99, "Nobody", InvitationState.PENDING))
    model.load([])
    assert model.rowCount() == 0
