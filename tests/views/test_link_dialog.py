"""The link dialog: its search and presenter driven directly (a stand-in view, calls run
inline or held), then the real dialog offscreen over a real SQLite file and a real JobRunner."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models.database import Database
from console.models.schema import Access, PortalAccount
from console.models.states import AccountState, StaffRole
from console.services.accounts.chart_actions import LinkedChart
from console.services.accounts.lookup import AccountChoice, find_family_accounts
from console.services.desk import StaffDesk
from console.services.errors import STALE_RECORD_MESSAGE
from console.services.permissions import Actor, NotAllowed
from console.services.workstation import Changes, Workstation
from console.views.link_dialog import LinkDialog
from console.views.link_presenter import (
    CHOOSE_ACCOUNT,
    NOTHING_FOUND,
    TYPE_TO_SEARCH,
    LinkForm,
    LinkPresenter,
    adult_warning,
)
from console.workers.job_runner import JobRunner
from tests.factories import add_account, add_patient, change_row
from tests.runners import HeldRunner, InlineRunner
from tests.services.conftest import add_staff, desk, staff_hash  # noqa: F401
from tests.views.dialog_helpers import FakeDialogView


@dataclass
class Family:
    """A mother's account and her children's charts, all on one address."""

    mother_account: int
    child_chart: int
    adult_son_chart: int
    revoked_account: int


def add_family(database: Database) -> Family:
    with Session(database.writer) as session, session.begin():
        mother = add_patient(
            session, mrn="M1001", first_name="Maria", last_name="Lopez",
            birth_date=dt.date(1984, 6, 2),
        )  # fmt: skip
        child = add_patient(
            session, mrn="M1002", first_name="Sofia", last_name="Lopez",
            birth_date=dt.date(2016, 9, 14),
        )  # fmt: skip
        son = add_patient(
            session, mrn="M1003", first_name="Diego", last_name="Lopez",
            birth_date=dt.date(2006, 1, 20),
        )  # fmt: skip
        account = add_account(
            session, "lopez.family@example.org", patient=mother, username="mlopez"
        )
        add_account(session, "lopez.family@example.org", patient=child, username="sofia.l")
        gone = add_account(
            session, "old.lopez@example.org", AccountState.REVOKED, username="mlopez.old"
        )
        return Family(account.id, child.id, son.id, gone.id)


class FakeLinkView(FakeDialogView[LinkForm]):
    def __init__(self) -> None:
        super().__init__()
        self.choices: tuple[AccountChoice, ...] = ()
        self.problem = ""
        self.linked: list[LinkedChart] = []

    def show_results(self, choices: tuple[AccountChoice, ...], chosen: int | None) -> None:
        self.choices = choices

    def show_problem(self, text: str) -> None:
        self.problem = text

    def chart_linked(self, linked: LinkedChart) -> None:
        self.linked.append(linked)


@pytest.fixture
def front_desk(desk: Workstation, staff_hash: str) -> Actor:  # noqa: F811
    return add_staff(desk.database, StaffRole.FRONT_DESK, staff_hash, "frank")


@pytest.fixture
def family(desk: Workstation) -> Family:  # noqa: F811
    return add_family(desk.database)


def links(database: Database, patient_id: int) -> list[tuple[int, str, bool]]:
    with Session(database.engine) as session:
        rows = session.execute(
            select(Access.account_id, Access.relation, Access.needs_review).where(
                Access.patient_id == patient_id, Access.relation != "self"
            )
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def presenter_for(
    desk: Workstation,  # noqa: F811
    actor: Actor,
    patient_id: int,
    runner: InlineRunner | HeldRunner | None = None,
    birth_date: dt.date = dt.date(2016, 9, 14),
) -> tuple[LinkPresenter, FakeLinkView]:
    view = FakeLinkView()
    presenter = LinkPresenter(
        StaffDesk(desk, actor),
        runner or InlineRunner(),
        patient_id,
        view,
        mrn="M1002",
        birth_date=birth_date,
    )
    return presenter, view


# --- the search -------------------------------------------------------------------------------


def test_search_finds_active_accounts_by_name_email_username_or_mrn(
    desk: Workstation,  # noqa: F811
    family: Family,
    front_desk: Actor,
) -> None:
    actor = front_desk
    for text in ("maria", "lopez.family@", "mlopez", "M1001"):
        found = find_family_accounts(desk, actor, text, exclude_mrn="M1002")
        assert [c.username for c in found] == ["mlopez"], text
    assert found[0].login_email == "lopez.family@example.org"
    assert found[0].summary == "mlopez — Maria Lopez — lopez.family@example.org"
    # The chart's own account and revoked accounts are not offered.
    assert [
        c.username for c in find_family_accounts(desk, actor, "lopez", exclude_mrn="M1002")
    ] == ["mlopez"]
    assert find_family_accounts(desk, actor, "  ") == ()


def test_search_returns_at_most_twenty(desk: Workstation, front_desk: Actor) -> None:  # noqa: F811
    with Session(desk.database.writer) as session, session.begin():
        for n in range(25):
            add_account(session, f"p{n}@example.org", username=f"parent{n:02d}")
    assert len(find_family_accounts(desk, front_desk, "parent")) == 20


def test_adult_warning_from_eighteen() -> None:
    today = dt.date(2026, 3, 2)
    assert adult_warning(dt.date(2008, 3, 3), today) == ""
    assert "an adult's records are normally theirs alone; the link will be flagged for review" in (
        adult_warning(dt.date(2008, 3, 2), today)
    )


# --- the presenter ----------------------------------------------------------------------------


def test_presenter_links_a_childs_chart_to_the_chosen_account(
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    family: Family,
) -> None:
    presenter, view = presenter_for(desk, front_desk, family.child_chart)
    assert presenter.age_warning == ""
    assert not view.choices
    presenter.search("maria")
    assert [c.account_id for c in view.choices] == [family.mother_account]
    assert view.current.still_needed == CHOOSE_ACCOUNT and not view.current.accept_enabled
    presenter.choose(family.mother_account)
    assert view.current.accept_enabled
    presenter.link()
    assert [linked.review_warning for linked in view.linked] == [None]
    assert view.linked[0].changes == Changes(
        accounts=frozenset({family.mother_account}), patients=frozenset({family.child_chart})
    )
    assert links(desk.database, family.child_chart) == [(family.mother_account, "guardian", False)]
    assert not view.current.editable and not view.current.accept_enabled


def test_presenter_says_when_nothing_matches(
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    family: Family,
) -> None:
    presenter, view = presenter_for(desk, front_desk, family.child_chart)
    presenter.form  # noqa: B018 - nothing searched yet
    assert presenter.form.status == TYPE_TO_SEARCH
    presenter.search("nobody-like-this")
    assert view.current.status == NOTHING_FOUND


def test_presenter_shows_only_the_newest_search(
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    family: Family,
) -> None:
    runner = HeldRunner()
    presenter, view = presenter_for(desk, front_desk, family.child_chart, runner)
    presenter.search("zzz")
    presenter.search("mlopez")
    assert view.current.searching
    runner.run_all()
    assert [c.username for c in view.choices] == ["mlopez"]


def test_presenter_stale_account_is_searched_again_and_stays_chosen(
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    family: Family,
) -> None:
    presenter, view = presenter_for(desk, front_desk, family.child_chart)
    presenter.search("mlopez")
    presenter.choose(family.mother_account)
    change_row(desk.database, PortalAccount, family.mother_account, failed_logins=2)
    presenter.link()
    assert view.problem == STALE_RECORD_MESSAGE and view.reloads == 1
    assert presenter.chosen is not None and view.current.accept_enabled
    presenter.link()
    assert len(view.linked) == 1


# --- the dialog -------------------------------------------------------------------------------


def open_dialog(
    qtbot: QtBot,
    desk: Workstation,  # noqa: F811
    actor: Actor,
    runner: JobRunner,
    patient_id: int,
    *,
    name: str = "Sofia Lopez",
    birth_date: dt.date = dt.date(2016, 9, 14),
) -> LinkDialog:
    dialog = LinkDialog(
        StaffDesk(desk, actor),
        runner,
        patient_id,
        patient_name=name,
        mrn="M1002",
        birth_date=birth_date,
    )
    qtbot.addWidget(dialog)
    dialog.open()
    return dialog


def test_dialog_links_a_child_to_the_guardian_end_to_end(
    qtbot: QtBot,
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    family: Family,
    runner: JobRunner,
) -> None:
    dialog = open_dialog(qtbot, desk, front_desk, runner, family.child_chart)
    assert not dialog.age_frame.isVisibleTo(dialog)
    assert not dialog.link_button.isEnabled()
    qtbot.keyClicks(dialog.search, "maria lo")
    qtbot.waitUntil(lambda: dialog.results.topLevelItemCount() == 1, timeout=5000)
    item = dialog.results.topLevelItem(0)
    assert item is not None
    assert [item.text(i) for i in range(3)] == ["mlopez", "Maria Lopez", "lopez.family@example.org"]
    dialog.results.setCurrentItem(item)
    assert dialog.link_button.isEnabled()
    dialog.relation_buttons[dialog.presenter.relation].setChecked(True)
    with qtbot.waitSignal(dialog.changed, timeout=5000) as changed:
        qtbot.mouseClick(dialog.link_button, Qt.MouseButton.LeftButton)
    assert changed.args == [
        Changes(
            accounts=frozenset({family.mother_account}), patients=frozenset({family.child_chart})
        )
    ]
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert links(desk.database, family.child_chart) == [(family.mother_account, "guardian", False)]


def test_dialog_warns_before_linking_an_adult_and_shows_the_review_warning(
    qtbot: QtBot,
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    family: Family,
    runner: JobRunner,
) -> None:
    dialog = open_dialog(
        qtbot, desk, front_desk, runner, family.adult_son_chart,
        name="Diego Lopez", birth_date=dt.date(2006, 1, 20),
    )  # fmt: skip
    assert dialog.age_frame.isVisibleTo(dialog)
    assert "This patient is 20: an adult's records are normally theirs alone" in (
        dialog.age_warning.text()
    )
    qtbot.keyClicks(dialog.search, "mlopez")
    qtbot.waitUntil(lambda: dialog.results.topLevelItemCount() == 1, timeout=5000)
    dialog.results.setCurrentItem(dialog.results.topLevelItem(0))
    dialog.relation_buttons[list(dialog.relation_buttons)[1]].setChecked(True)  # proxy
    with qtbot.waitSignal(dialog.changed, timeout=5000):
        dialog.link_button.click()
    assert dialog.isVisible() and dialog.review_frame.isVisibleTo(dialog)
    assert "flagged for review" in dialog.review_warning.text()
    assert dialog.cancel_button.text() == "&Close" and not dialog.link_button.isVisibleTo(dialog)
    assert links(desk.database, family.adult_son_chart) == [(family.mother_account, "proxy", True)]
    dialog.cancel_button.click()
    assert dialog.result() == QDialog.DialogCode.Rejected


def test_dialog_escape_cancels_except_while_linking(
    qtbot: QtBot,
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    family: Family,
) -> None:
    held = HeldRunner()
    dialog = LinkDialog(
        StaffDesk(desk, front_desk), held, family.child_chart,
        patient_name="Sofia Lopez", mrn="M1002", birth_date=dt.date(2016, 9, 14),
    )  # fmt: skip
    qtbot.addWidget(dialog)
    dialog.open()
    dialog.presenter.search("mlopez")
    held.run_all()
    dialog.results.setCurrentItem(dialog.results.topLevelItem(0))
    dialog.link_button.click()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.isVisible() and not dialog.cancel_button.isEnabled()
    held.run_all()
    assert not dialog.isVisible()  # linked, no review needed: closed


def test_dialog_needs_the_link_permission(desk: Workstation, family: Family) -> None:  # noqa: F811
    nobody = Actor(999, "ghost", "no-such-role")
    with pytest.raises(NotAllowed):
        LinkDialog(
            StaffDesk(desk, nobody), InlineRunner(), family.child_chart,
            patient_name="Sofia Lopez", mrn="M1002", birth_date=dt.date(2016, 9, 14),
        )  # fmt: skip


def test_dialog_controls_have_accessible_names(
    qtbot: QtBot,
    desk: Workstation,  # noqa: F811
    front_desk: Actor,
    family: Family,
    runner: JobRunner,
) -> None:
    dialog = open_dialog(qtbot, desk, front_desk, runner, family.child_chart)
    for control in (
        dialog.search,
        dialog.results,
        *dialog.relation_buttons.values(),
        dialog.link_button,
        dialog.cancel_button,
        dialog.problem,
        dialog.status,
    ):
        assert control.accessibleName(), control.objectName()
