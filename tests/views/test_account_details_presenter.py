"""What the account details panel says, decided without a display: the banner, the fields,
the lists, and whether a change concerns the account shown. The first tests read a real
account; the later ones build the details from plain values, one text at a time."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy.orm import Session

from console.models.states import AccountState
from console.services.accounts.details import (
    AccountDetails,
    AccountSummary,
    ChartSummary,
    HistoryEntry,
    InvitationSummary,
    VisibleChart,
    account_details,
)
from console.services.accounts.patient_view import LoginSituation, PatientView, patient_message
from console.services.permissions import Actor
from console.services.workstation import Changes, Workstation
from console.views.account_details_presenter import (
    ACCOUNT_FIELDS,
    CHART_FIELDS,
    ListRow,
    details_page,
    reload_needed,
    when,
)
from tests.factories import add_account, add_patient

SHARED = "lee.family@example.org"


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


def test_records_changed_by_the_thousand_reload_the_account_shown(
    desk: Workstation, actor: Actor
) -> None:
    """An import names no account: it may have changed any of them."""
    page = details_of(desk, actor, "marylee")
    assert reload_needed(Changes(bulk=True), page.account_id, page, False)
    assert reload_needed(Changes(bulk=True), page.account_id, None, False)
    assert not reload_needed(Changes(bulk=True), None, None, False)  # nothing shown


def test_a_signed_in_account_has_no_quotes_and_no_fix(desk: Workstation, actor: Actor) -> None:
    page = details_of(desk, actor, "tomlee")
    view = dataclasses.replace(page.patient_view, signed_in=True, suggested_fix=None)
    shown = details_page(dataclasses.replace(page, patient_view=view))
    assert not shown.message.startswith("“") and shown.fix == ""


# --- from plain values: every text the panel shows, without a database ----------------------

SENT = dt.datetime(2024, 3, 1, 9, 30, tzinfo=dt.UTC)


def plain_details(**account: object) -> AccountDetails:
    """Mary Lee's legacy account as plain values; ``account`` overrides its fields."""
    summary = AccountSummary(
        account_id=7,
        username="marylee",
        login_email="mary@example.org",
        state="legacy",
        shared_email=False,
        shares_email_with=(),
        last_login_at=None,
        failed_logins=0,
        locked_until=None,
        message_count=1,
        intake_form_count=2,
        version=1,
    )
    return AccountDetails(
        chart=ChartSummary(
            patient_id=3,
            mrn="L100",
            first_name="Mary",
            last_name="Lee",
            birth_date=dt.date(1980, 5, 4),
            age=43,
            contact_email=None,
            mobile_phone=None,
            version=1,
        ),
        account=dataclasses.replace(summary, **account),
        can_see=(),
        invitations=(),
        history=(),
        patient_view=PatientView(
            LoginSituation.RESET_SENT,
            patient_message(LoginSituation.RESET_SENT),
            signed_in=False,
            explanation="A reset e-mail went out.",
            suggested_fix="Resend it.",
        ),
        read_at=SENT,
    )


@pytest.mark.parametrize(
    ("situation", "tag", "tone"),
    [
        (LoginSituation.SIGNED_IN, "✓  Signs in", "ok"),
        (LoginSituation.RESET_RECENTLY_SENT, "!  Reset needed", "warn"),
        (LoginSituation.LOCKED_OUT, "!  Locked", "warn"),
        (LoginSituation.REVOKED, "✕  Revoked", "stop"),
        (LoginSituation.NO_RESET_ADDRESS, "✕  No usable e-mail", "stop"),
    ],
)
def test_the_banner_says_in_words_what_its_colour_means(
    situation: LoginSituation, tag: str, tone: str
) -> None:
    details = plain_details()
    view = dataclasses.replace(details.patient_view, situation=situation)
    shown = details_page(dataclasses.replace(details, patient_view=view))
    assert (shown.tag, shown.tone) == (tag, tone)


def test_missing_values_are_said_not_left_blank() -> None:
    shown = details_page(plain_details(login_email=None, message_count=1, intake_form_count=2))
    assert shown.chart["Contact e-mail"] == shown.chart["Mobile phone"] == "—"
    assert shown.chart["Born"] == "04 May 1980  (age 43)"
    assert shown.account["Login e-mail"] == "— none —"
    assert shown.account["Last login"] == "Never"
    assert shown.account["Locked until"] == "Not locked"
    assert shown.account["Holds"] == "1 message  ·  2 intake forms"
    assert shown.fix == "Resend it." and shown.message.startswith("“")
    assert shown.can_see.note == "No charts — this account sees nothing in the portal."
    assert shown.history.note == "Nothing recorded yet."


def test_the_lists_in_the_front_desks_words() -> None:
    details = dataclasses.replace(
        plain_details(locked_until=SENT, state="reset_pending"),
        can_see=(
            VisibleChart(1, 3, "self", "L100", "Mary Lee", 43, needs_review=False, ended=False),
            VisibleChart(2, 4, "guardian", "L102", "Ann Lee", 19, needs_review=True, ended=True),
        ),
        invitations=(
            InvitationSummary(5, "pending", "ann@example.org", SENT, SENT, lapsed=True),
            InvitationSummary(6, "pending", "mary@example.org", SENT, SENT, lapsed=False),
        ),
        history=(
            HistoryEntry(8, SENT, None, "merge_charts", "refused", "patient"),
            HistoryEntry(9, SENT, "frontdesk", "revoke_access", "ok", "account"),
        ),
    )
    shown = details_page(details)
    at = when(SENT)
    assert shown.account["State"] == "Reset e-mail sent"
    assert shown.account["Locked until"] == at
    assert shown.can_see.note == ""
    assert shown.can_see.rows == (
        ListRow("Self", "Mary Lee", "MRN L100  ·  age 43"),
        ListRow(
            "Guardian",
            "Ann Lee",
            "MRN L102  ·  age 19  ·  needs review (adult)  ·  access ended",
            "muted",
        ),
    )
    assert [(row.pill, row.tone) for row in shown.invitations.rows] == [
        ("Expired", "muted"),
        ("Pending", ""),
    ]
    assert shown.invitations.rows[1].detail == f"Sent {at}  ·  expires {at}"
    assert [(row.text, row.detail) for row in shown.history.rows] == [
        ("Merge charts (refused)", f"{at}  ·  system  ·  chart"),
        ("Access revoked", f"{at}  ·  frontdesk  ·  account"),
    ]
