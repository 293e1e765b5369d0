"""What the account details panel says, decided without a display: the banner, the fields,
the lists, and whether a change concerns the account shown."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy.orm import Session

from console.models.database import Database
from console.models.states import AccountState, StaffRole
from console.services.accounts.details import AccountDetails, account_details
from console.services.clock import ManualClock
from console.services.permissions import Actor
from console.services.workstation import Changes, Workstation
from console.views.account_details_presenter import (
    ACCOUNT_FIELDS,
    CHART_FIELDS,
    details_page,
    reload_needed,
)
from tests.factories import add_account, add_patient
from tests.services.conftest import NOW, add_staff, make_workstation

SHARED = "lee.family@example.org"


@pytest.fixture
def desk(database: Database) -> Workstation:
    return make_workstation(database, ManualClock(NOW))


@pytest.fixture
def actor(desk: Workstation, staff_hash: str) -> Actor:
    return add_staff(desk.database, StaffRole.FRONT_DESK, staff_hash)


def details_of(desk: Workstation, actor: Actor, username: str) -> AccountDetails:
    with Session(desk.database.writer) as session, session.begin():
        mary = add_patient(session, first_name="Mary", last_name="Lee", mrn="L100")
        tom = add_patient(session, first_name="Tom", last_name="Lee", mrn="L101")
        ids = {
            "marylee": add_account(
                session, SHARED, AccountState.LEGACY, mary, username="marylee"
            ).id,
            "tomlee": add_account(session, SHARED, AccountState.LEGACY, tom, username="tomlee").id,
        }
    return account_details(desk, actor, ids[username])


def test_a_shared_account_in_the_front_desks_words(desk: Workstation, actor: Actor) -> None:
    page = details_of(desk, actor, "marylee")
    shown = details_page(page)
    assert shown.name == "Mary Lee" and shown.subtitle == "MRN L100  ·  marylee"
    assert (shown.tag, shown.tone) == ("!  Shared e-mail", "warn")
    assert shown.message.startswith("“Please ask your healthcare provider")
    assert shown.fix  # the banner says what fixes it
    assert tuple(shown.chart) == CHART_FIELDS and tuple(shown.account) == ACCOUNT_FIELDS
    assert shown.account["Shared e-mail"] == "Yes — also used by tomlee"
    assert shown.account["State"] == "Legacy — not reset yet"
    assert shown.account["Holds"] == "0 messages  ·  0 intake forms"
    assert shown.invitations.rows == ()
    assert shown.invitations.note == "No invitations sent from this chart."


def test_only_changes_naming_the_account_or_its_chart_reload_it(
    desk: Workstation, actor: Actor
) -> None:
    page = details_of(desk, actor, "marylee")
    account, chart = page.account_id, page.chart.patient_id
    assert reload_needed(Changes(accounts=frozenset({account})), account, page, False)
    assert reload_needed(Changes(patients=frozenset({chart})), account, page, False)
    assert not reload_needed(Changes(accounts=frozenset({account + 99})), account, page, False)
    assert not reload_needed(Changes(patients=frozenset({chart})), None, None, False)
    # Still being opened: its chart is not known yet, so a chart change reloads it.
    assert reload_needed(Changes(patients=frozenset({chart + 5})), account, None, True)
    assert not reload_needed(Changes(patients=frozenset({chart + 5})), account, None, False)


def test_a_signed_in_account_has_no_quotes_and_no_fix(desk: Workstation, actor: Actor) -> None:
    page = details_of(desk, actor, "tomlee")
    view = dataclasses.replace(page.patient_view, signed_in=True, suggested_fix=None)
    shown = details_page(dataclasses.replace(page, patient_view=view))
    assert not shown.message.startswith("“") and shown.fix == ""
