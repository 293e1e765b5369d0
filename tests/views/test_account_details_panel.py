"""The account details panel: loading in the background, dropping stale answers, and
leaving no patient data behind when cleared (issue 6, point 2)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session

from console.models.states import AccountState
from console.services.accounts.details import AccountDetails
from console.services.desk import StaffDesk
from console.services.permissions import Actor
from console.services.workstation import Changes, Workstation
from console.views.account_details_panel import AccountDetailsPanel
from console.views.account_details_presenter import EMPTY_TEXT
from console.workers.job_runner import JobRunner
from tests.factories import add_account, add_patient
from tests.runners import HeldRunner, InlineRunner

SHARED = "lee.family@example.org"


@pytest.fixture
def accounts(desk: Workstation) -> dict[str, int]:
    """Two accounts sharing one address and one that signs in."""
    with Session(desk.database.writer) as session, session.begin():
        made = {}
        for username, first, email, state in (
            ("marylee", "Mary", SHARED, AccountState.LEGACY),
            ("tomlee", "Tom", SHARED, AccountState.LEGACY),
            ("annaberg", "Anna", "anna.berg@example.net", AccountState.MIGRATED),
        ):
            chart = add_patient(session, first_name=first, last_name=f"{username[-3:]}son")
            made[username] = add_account(session, email, state, chart, username=username).id
        return made


def make_panel(
    qtbot: QtBot, desk: Workstation, actor: Actor, runner: object
) -> AccountDetailsPanel:
    panel = AccountDetailsPanel(StaffDesk(desk, actor), runner)  # type: ignore[arg-type]
    qtbot.addWidget(panel)
    panel.resize(380, 700)
    return panel


def label_texts(panel: AccountDetailsPanel) -> list[str]:
    return [label.text() for label in panel.findChildren(QLabel)]


def shown(panel: AccountDetailsPanel) -> str:
    return "\n".join(label_texts(panel))


def test_empty_until_an_account_is_chosen(qtbot: QtBot, desk: Workstation, actor: Actor) -> None:
    panel = make_panel(qtbot, desk, actor, InlineRunner())
    assert EMPTY_TEXT in label_texts(panel)
    assert panel.details is None and panel.account_id is None


def test_shows_a_shared_account_and_what_the_patient_sees(
    qtbot: QtBot, desk: Workstation, actor: Actor, accounts: dict[str, int]
) -> None:
    panel = make_panel(qtbot, desk, actor, InlineRunner())
    with qtbot.waitSignal(panel.loaded) as loaded:
        panel.show_account(accounts["marylee"])
    details = loaded.args[0]
    assert isinstance(details, AccountDetails) and details.account_id == accounts["marylee"]
    text = shown(panel)
    assert (
        "“Please ask your healthcare provider to create a new Patient Portal account for you”"
        in text
    )
    assert "!  Shared e-mail" in text  # the situation in words, not only in amber
    assert "Shares its e-mail with 1 other account — re-invite" in text
    assert "Yes — also used by tomlee" in text
    assert details.chart.mrn in text and SHARED in text
    labels = panel.findChildren(QLabel)
    assert all(label.accessibleName() for label in labels)
    assert not panel.busy


def test_an_account_that_signs_in_is_calm(
    qtbot: QtBot, desk: Workstation, actor: Actor, accounts: dict[str, int]
) -> None:
    panel = make_panel(qtbot, desk, actor, InlineRunner())
    panel.show_account(accounts["annaberg"])
    text = shown(panel)
    assert "(signed in)" in text and "✓  Signs in" in text
    assert "WHAT FIXES IT" not in text


def test_a_stale_answer_is_dropped(
    qtbot: QtBot, desk: Workstation, actor: Actor, accounts: dict[str, int]
) -> None:
    runner = HeldRunner()
    panel = make_panel(qtbot, desk, actor, runner)
    panel.show_account(accounts["marylee"])
    assert panel.busy
    panel.show_account(accounts["annaberg"])
    received: list[AccountDetails] = []
    panel.loaded.connect(received.append)
    runner.run_all()  # Mary's answer arrives first, then Anna's
    assert [d.account_id for d in received] == [accounts["annaberg"]]
    assert "marylee" not in shown(panel) and "annaberg" in shown(panel)
    assert not panel.busy


def test_clear_leaves_no_patient_data(
    qtbot: QtBot, desk: Workstation, actor: Actor, accounts: dict[str, int]
) -> None:
    panel = make_panel(qtbot, desk, actor, InlineRunner())
    panel.show_account(accounts["marylee"])
    details = panel.details
    assert details is not None
    panel.clear()
    patient_words = [
        details.chart.mrn,
        details.chart.first_name,
        details.chart.last_name,
        details.account.username,
        SHARED,
        "tomlee",
        "Please ask",
    ]
    for text in label_texts(panel):
        assert not any(word in text for word in patient_words), text
    assert EMPTY_TEXT in label_texts(panel)
    assert panel.details is None and panel.account_id is None


def test_an_answer_arriving_after_clear_is_dropped(
    qtbot: QtBot, desk: Workstation, actor: Actor, accounts: dict[str, int]
) -> None:
    runner = HeldRunner()
    panel = make_panel(qtbot, desk, actor, runner)
    panel.show_account(accounts["marylee"])
    panel.clear()
    runner.run_all()
    assert panel.details is None and "marylee" not in shown(panel)


def test_a_missing_account_says_so(qtbot: QtBot, desk: Workstation, actor: Actor) -> None:
    panel = make_panel(qtbot, desk, actor, InlineRunner())
    panel.show_account(4242)
    assert any("no longer exists" in text for text in label_texts(panel))
    assert panel.details is None


def test_loads_off_the_gui_thread(
    qtbot: QtBot, desk: Workstation, actor: Actor, accounts: dict[str, int], runner: JobRunner
) -> None:
    panel = make_panel(qtbot, desk, actor, runner)
    with qtbot.waitSignal(panel.loaded, timeout=5000):
        panel.show_account(accounts["tomlee"])
        assert panel.busy
    assert "tomlee" in shown(panel)
    panel.show_account(accounts["tomlee"])  # a reload keeps the account on screen meanwhile
    assert "tomlee" in shown(panel)
    with qtbot.waitSignal(panel.loaded, timeout=5000):
        pass


def test_details_changed_follows_what_is_on_screen(
    qtbot: QtBot, desk: Workstation, actor: Actor, accounts: dict[str, int]
) -> None:
    """What the window's account actions wait for: the details, and None as soon as they are
    gone (another account opening, a refusal, the lock screen)."""
    runner = HeldRunner()
    panel = make_panel(qtbot, desk, actor, runner)
    seen: list[int | None] = []
    panel.details_changed.connect(lambda d: seen.append(d.account_id if d else None))
    panel.show_account(accounts["marylee"])
    runner.run_all()
    panel.show_account(accounts["marylee"])  # read again: the details stay meanwhile
    assert seen == [accounts["marylee"]]
    runner.run_all()
    panel.show_account(4242)
    runner.run_all()
    panel.show_account(accounts["tomlee"])
    runner.run_all()
    panel.clear()
    assert seen == [accounts["marylee"], accounts["marylee"], None, accounts["tomlee"], None]


def test_changes_reload_the_account_only_when_they_name_it_or_its_chart(
    qtbot: QtBot, desk: Workstation, actor: Actor, accounts: dict[str, int]
) -> None:
    runner = InlineRunner()
    panel = make_panel(qtbot, desk, actor, runner)
    panel.apply_changes(Changes(accounts=frozenset({accounts["marylee"]})))  # nothing shown
    panel.show_account(accounts["marylee"])
    details = panel.details
    assert details is not None and runner.calls == 1
    panel.apply_changes(Changes(accounts=frozenset({accounts["tomlee"]}), patients=frozenset()))
    assert runner.calls == 1
    panel.apply_changes(Changes(patients=frozenset({details.chart.patient_id})))
    panel.apply_changes(Changes(accounts=frozenset({details.account_id})))
    assert runner.calls == 3
