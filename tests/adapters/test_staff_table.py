"""The staff table model over ``list_staff`` rows from a real SQLite file: conformance,
cell texts, roles, and reloads that announce only what changed."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot
from sqlalchemy import update
from sqlalchemy.orm import Session

from console.adapters.local_time import when
from console.adapters.staff_table import (
    StaffColumn,
    StaffRoles,
    StaffStatus,
    StaffTableModel,
    staff_status,
    status_of,
)
from console.models.database import Database
from console.models.schema import StaffUser
from console.models.staff_list import StaffMember
from console.models.states import StaffRole
from console.services.clock import ManualClock
from console.services.permissions import Actor
from console.services.staff.admin import disable_staff, list_staff
from console.services.workstation import Workstation
from tests.adapters.model_check import CheckModel
from tests.services.conftest import NOW, add_staff, make_workstation, staff_hash  # noqa: F401


@pytest.fixture
def desk(database: Database) -> Workstation:
    return make_workstation(database, ManualClock(NOW))


@pytest.fixture
def admin(desk: Workstation, staff_hash: str) -> Actor:  # noqa: F811
    admin = add_staff(desk.database, StaffRole.ADMIN, staff_hash, "ada")
    add_staff(desk.database, StaffRole.ADMIN, staff_hash, "grace")
    add_staff(desk.database, StaffRole.FRONT_DESK, staff_hash, "frank")
    add_staff(desk.database, StaffRole.MANAGER, staff_hash, "maria")
    return admin


def set_user(database: Database, username: str, **values: object) -> None:
    with Session(database.writer) as session, session.begin():
        session.execute(update(StaffUser).where(StaffUser.username == username).values(**values))


#: The columns that tell one person from another, and their status.
WHO_AND_STATUS = [StaffColumn.USERNAME, StaffColumn.STATUS]


def test_model_keeps_qt_rules_empty_loaded_and_reloaded(
    check_model: CheckModel, desk: Workstation, admin: Actor
) -> None:
    model = StaffTableModel(status_marks={status: QColor("#2f9e44") for status in StaffStatus})
    check_model(model, [])
    model.update(list_staff(desk, admin))
    check_model(
        model,
        [
            ("ada", "ada", "Administrator", "Active", "Never"),
            ("frank", "frank", "Front desk", "Active", "Never"),
            ("grace", "grace", "Administrator", "Active", "Never"),
            ("maria", "maria", "Manager", "Active", "Never"),
        ],
    )
    set_user(desk.database, "frank", disabled=True)
    model.update(list_staff(desk, admin))
    check_model(
        model,
        [("ada", "Active"), ("frank", "Disabled"), ("grace", "Active"), ("maria", "Active")],
        columns=WHO_AND_STATUS,
    )


def test_rows_show_each_user_as_the_clinic_says_it(
    check_model: CheckModel, desk: Workstation, admin: Actor
) -> None:
    last = NOW - dt.timedelta(hours=3)
    set_user(desk.database, "grace", last_login_at=last)
    set_user(desk.database, "frank", locked_until=NOW + dt.timedelta(minutes=10))
    set_user(desk.database, "maria", must_change_password=True)
    model = StaffTableModel()
    model.update(list_staff(desk, admin))

    assert model.columnCount() == 5
    headers = [
        model.headerData(c, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
        for c in StaffColumn
    ]
    assert headers == ["Username", "Name", "Role", "Status", "Last sign-in"]
    check_model(
        model,
        [
            ("ada", "ada", "Administrator", "Active", "Never"),
            (
                "frank",
                "frank",
                "Front desk",
                f"Locked until {when(NOW + dt.timedelta(minutes=10))}",
                "Never",
            ),
            ("grace", "grace", "Administrator", "Active", when(last)),
            ("maria", "maria", "Manager", "Must change password", "Never"),
        ],
    )
    status = model.index(1, StaffColumn.STATUS)
    assert "failed sign-ins" in status.data(Qt.ItemDataRole.ToolTipRole)
    member = model.index(0, StaffColumn.NAME).data(StaffRoles.STAFF_MEMBER)
    assert isinstance(member, StaffMember)
    assert member.username == "ada"
    assert model.index(0, StaffColumn.NAME).data(StaffRoles.STAFF_ID) == admin.id
    assert model.row_number(99) is None
    assert model.row_of(member.id) == 0
    assert model.rowCount(model.index(0, 0)) == 0  # a table: no children


def test_disabled_outranks_locked_and_must_change(desk: Workstation, admin: Actor) -> None:
    set_user(
        desk.database,
        "frank",
        disabled=True,
        must_change_password=True,
        locked_until=NOW + dt.timedelta(minutes=5),
    )
    frank = next(m for m in list_staff(desk, admin) if m.username == "frank")
    assert staff_status(frank) == "Disabled"
    assert status_of(frank) is StaffStatus.DISABLED


def test_a_lock_out_that_has_expired_shows_as_active(desk: Workstation, admin: Actor) -> None:
    set_user(desk.database, "frank", locked_until=NOW - dt.timedelta(minutes=1))
    frank = next(m for m in list_staff(desk, admin) if m.username == "frank")
    assert staff_status(frank) == "Active"
    assert status_of(frank) is StaffStatus.ACTIVE


def test_a_status_cell_shows_the_mark_the_view_gave_for_it_beside_its_words(
    check_model: CheckModel, desk: Workstation, admin: Actor
) -> None:
    set_user(desk.database, "frank", disabled=True)
    marks = {StaffStatus.ACTIVE: QColor("#2f9e44"), StaffStatus.DISABLED: QColor("#8a94a3")}
    model = StaffTableModel(status_marks=marks)
    model.update(list_staff(desk, admin))
    decoration = Qt.ItemDataRole.DecorationRole
    check_model(
        model,
        [("ada", "Active"), ("frank", "Disabled"), ("grace", "Active"), ("maria", "Active")],
        columns=WHO_AND_STATUS,
    )  # the status in words: never the colour alone
    assert model.index(0, StaffColumn.STATUS).data(decoration) == marks[StaffStatus.ACTIVE]
    assert model.index(1, StaffColumn.STATUS).data(decoration) == marks[StaffStatus.DISABLED]
    assert model.index(1, StaffColumn.NAME).data(decoration) is None
    assert StaffTableModel().index(0, StaffColumn.STATUS).data(decoration) is None


def test_a_reload_of_the_same_people_announces_only_the_changed_row(
    qtbot: QtBot, check_model: CheckModel, desk: Workstation, admin: Actor
) -> None:
    model = StaffTableModel()
    model.update(list_staff(desk, admin))
    check_model(
        model,
        [("ada", "Active"), ("frank", "Active"), ("grace", "Active"), ("maria", "Active")],
        columns=WHO_AND_STATUS,
    )
    frank = model.row_number(1)
    assert frank is not None
    disable_staff(desk, admin, frank.id)
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(
        lambda first, last, _roles=(): changed.append((first.row(), last.row()))
    )
    with qtbot.assertNotEmitted(model.modelReset):
        model.update(list_staff(desk, admin))
    assert changed == [(1, 1)]
    check_model(
        model,
        [("ada", "Active"), ("frank", "Disabled"), ("grace", "Active"), ("maria", "Active")],
        columns=WHO_AND_STATUS,
    )


def test_a_new_person_resets_the_model(
    qtbot: QtBot, check_model: CheckModel, desk: Workstation, admin: Actor
) -> None:
    model = StaffTableModel()
    model.update(list_staff(desk, admin)[:2])
    check_model(model, [("ada",), ("frank",)], columns=[StaffColumn.USERNAME])
    with qtbot.waitSignal(model.modelReset, timeout=1000):
        model.update(list_staff(desk, admin))
    check_model(
        model, [("ada",), ("frank",), ("grace",), ("maria",)], columns=[StaffColumn.USERNAME]
    )
    assert model.data(QModelIndex()) is None
