"""The e-mail rules (SPEC §5): a real validator, one holder per address, and a warning for
likely same-mailbox variants; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from console.models.database import Database, open_database
from console.models.schema import Invitation, Patient
from console.models.states import AccountState, InvitationState
from console.services.email_rules import (
    Holder,
    HolderKind,
    address_holder,
    address_holders,
    check_new_address,
    mailbox_key,
    mailbox_variants,
    validate_email,
)
from console.services.errors import DomainError, EmailTaken, InvalidEmail
from tests.factories import add_account, add_patient

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def any_database(any_db_url: str) -> Iterator[Database]:
    """A migrated database: a SQLite file, then a PostgreSQL database."""
    database = open_database(any_db_url)
    yield database
    database.dispose()


def add_invitation(
    session: Session,
    address: str,
    patient: Patient | None = None,
    state: InvitationState = InvitationState.PENDING,
    expires_at: dt.datetime = NOW + dt.timedelta(days=7),
) -> Invitation:
    invitation = Invitation(
        patient_id=(patient or add_patient(session)).id,
        target_email=address,
        pin_hash="not-a-real-pin-hash",
        state=state.value,
        expires_at=expires_at,
        created_at=NOW - dt.timedelta(days=1),
    )
    session.add(invitation)
    session.flush()
    return invitation


# --- Validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "display"),
    [
        ("jane.doe@example.org", "jane.doe@example.org"),
        ("  Jane.Doe@Example.ORG\t", "Jane.Doe@example.org"),
        ("x@XN--BCHER-KVA.example", "x@bücher.example"),
        ("x@BÜCHER.example", "x@bücher.example"),
        ("e\u0301mile@example.org", "\u00e9mile@example.org"),
    ],
)
def test_a_valid_address_comes_back_in_display_form(typed: str, display: str) -> None:
    assert validate_email(typed) == display


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        pytest.param("", "Enter an e-mail address", id="empty"),
        pytest.param("  \t", "Enter an e-mail address", id="blank"),
        pytest.param("jane.example.org", "needs an @", id="no-at"),
        pytest.param("jane@localhost", "after the @-sign is not valid", id="no-dot"),
        pytest.param("jane@exa mple.org", "after the @-sign contains invalid characters", id="sp"),
        pytest.param("jane doe@example.org", "before the @-sign", id="space-in-name"),
        pytest.param("jane@@example.org", "invalid characters", id="two-ats"),
        pytest.param("jane@example.invalid", "special-use or reserved", id="reserved"),
        pytest.param("j@" + "x" * 250 + ".org", "too long", id="long-domain"),
        pytest.param("j" * 400 + "@example.org", "cannot be longer than 320", id="very-long"),
        pytest.param("\ud800@example.org", "unsafe characters", id="surrogate"),
        pytest.param("ja\x00ne@example.org", "invalid characters", id="nul"),
    ],
)
def test_an_invalid_address_is_refused_with_a_reason(typed: str, words: str) -> None:
    with pytest.raises(InvalidEmail, match=words) as refused:
        validate_email(typed)
    assert isinstance(refused.value, DomainError)


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec=None), max_size=80) | st.emails())
@example("a@" + ".".join(["label"] * 60))
@example("a@xn--")
@example("@")
def test_validation_only_ever_refuses_clearly(text: str) -> None:
    try:
        address = validate_email(text)
    except InvalidEmail as refused:
        assert str(refused)
    else:
        assert "@" in address and address == address.strip()
        assert validate_email(address) == address


# --- Who holds an address -----------------------------------------------------------------------


def test_a_free_address_has_no_holder(any_database: Database) -> None:
    with Session(any_database.engine) as session:
        assert address_holder(session, "nobody@example.org", now=NOW) is None
        assert check_new_address(session, "nobody@example.org", now=NOW).variants == ()


def test_an_active_account_holds_its_address_by_comparison_key(any_database: Database) -> None:
    with Session(any_database.writer, expire_on_commit=False) as session, session.begin():
        account = add_account(session, "Jane@Example.org", AccountState.MIGRATED, username="jdoe")
        add_account(session, "gone@example.org", AccountState.REVOKED)
        add_account(session, "closed@example.org", AccountState.DEACTIVATED)
    with any_database.engine.connect() as connection:
        holder = address_holder(connection, "  JANE@example.ORG ", now=NOW)
        assert holder == Holder(
            HolderKind.ACCOUNT, account.id, "Jane@Example.org", account.patient_id, "jdoe"
        )
        assert address_holder(connection, "gone@example.org", now=NOW) is None
        assert address_holder(connection, "closed@example.org", now=NOW) is None
        with pytest.raises(EmailTaken) as refused:
            check_new_address(connection, "jane@example.org", now=NOW)
    assert str(refused.value) == (
        "This e-mail address is already in use by the active portal account 'jdoe'. "
        "Each portal account needs its own address."
    )
    assert refused.value.holders == (holder,)


def test_a_pending_invitation_holds_its_address_until_it_expires(any_database: Database) -> None:
    with Session(any_database.writer, expire_on_commit=False) as session, session.begin():
        patient = add_patient(session, mrn="M0001234")
        invitation = add_invitation(session, "kid@bücher.example", patient)
        add_invitation(session, "done@example.org", state=InvitationState.ACCEPTED)
        add_invitation(session, "off@example.org", state=InvitationState.CANCELLED)
        add_invitation(session, "old@example.org", expires_at=NOW)
    with Session(any_database.engine) as session:
        holder = address_holder(session, "KID@xn--bcher-kva.example", now=NOW)
        assert holder is not None
        assert (holder.kind, holder.id, holder.mrn) == (
            HolderKind.INVITATION,
            invitation.id,
            "M0001234",
        )
        for free in ("done@example.org", "off@example.org", "old@example.org"):
            assert address_holder(session, free, now=NOW) is None
        with pytest.raises(EmailTaken) as refused:
            check_new_address(session, "kid@bücher.example", now=NOW)
        assert str(refused.value) == (
            "This e-mail address is already in use by a pending invitation for chart M0001234, "
            "valid until 2026-03-09. Each portal account needs its own address."
        )
        # A day later than its expiry, the address is free again.
        later = NOW + dt.timedelta(days=8)
        assert address_holder(session, "kid@bücher.example", now=later) is None


def test_every_holder_of_a_shared_address_is_named(any_database: Database) -> None:
    with Session(any_database.writer, expire_on_commit=False) as session, session.begin():
        add_account(session, "family@example.org", username="mum")
        add_account(session, "family@example.org", username="kid")
        add_invitation(session, "family@example.org", add_patient(session, mrn="K0000001"))
    with Session(any_database.engine) as session:
        assert len(address_holders(session, "family@example.org", now=NOW)) == 3
        with pytest.raises(EmailTaken) as refused:
            check_new_address(session, "family@example.org", now=NOW)
    assert str(refused.value) == (
        "This e-mail address is already in use by the active portal accounts 'mum' and 'kid', "
        "and by a pending invitation for chart K0000001, valid until 2026-03-09. "
        "Each portal account needs its own address."
    )


def test_what_is_being_replaced_does_not_count(database: Database) -> None:
    with Session(database.writer, expire_on_commit=False) as session, session.begin():
        patient = add_patient(session)
        add_invitation(session, "new@example.org", patient)
        account = add_account(session, "own@example.org")
    with Session(database.engine) as session:
        # Re-issuing to the chart cancels its earlier invitation; an account keeps its own.
        assert check_new_address(session, "new@example.org", now=NOW, except_patient_id=patient.id)
        assert check_new_address(session, "own@example.org", now=NOW, except_account_id=account.id)
        with pytest.raises(EmailTaken):
            check_new_address(session, "new@example.org", now=NOW, except_patient_id=patient.id + 1)


def test_a_new_address_is_validated_first(database: Database) -> None:
    with Session(database.engine) as session:
        with pytest.raises(InvalidEmail):
            check_new_address(session, "not an address", now=NOW)
        checked = check_new_address(session, " Jane@Example.ORG ", now=NOW)
    assert (checked.address, checked.key, checked.warning) == (
        "Jane@example.org",
        "jane@example.org",
        None,
    )


# The empty database is only read, so one for every example is right.
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(st.characters(codec=None), max_size=40))
@example("\x00@example.org")
@example("\ud800@gmail.com")
@example("+@gmail.com")
def test_looking_up_any_text_never_crashes(database: Database, text: str) -> None:
    with database.engine.connect() as connection:
        assert address_holders(connection, text, now=NOW) == ()
        assert mailbox_variants(connection, text, now=NOW) == ()


# --- Same-mailbox variants ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "mailbox"),
    [
        ("jane.doe@gmail.com", "janedoe@gmail.com"),
        ("J.A.N.E.D.O.E+portal@GMAIL.com", "janedoe@gmail.com"),
        ("janedoe@googlemail.com", "janedoe@gmail.com"),
        ("jane.doe+x@outlook.com", "jane.doe@outlook.com"),
        ("jane+clinic@icloud.com", "jane@icloud.com"),
        ("jane.doe+x@example.org", None),  # an unknown provider may treat both as significant
        ("+only-a-tag@gmail.com", None),
        ("no-at-sign", None),
        (None, None),
    ],
)
def test_the_mailbox_key(address: str | None, mailbox: str | None) -> None:
    assert mailbox_key(address) == mailbox


def test_gmail_style_variants_are_a_warning_not_a_refusal(any_database: Database) -> None:
    with Session(any_database.writer, expire_on_commit=False) as session, session.begin():
        dotted = add_account(session, "Jane.Doe@gmail.com", AccountState.MIGRATED, username="jd")
        add_account(session, "janedoe2@gmail.com", username="other")  # another mailbox
        add_account(session, "jane.doe@example.org", username="elsewhere")  # another provider
        add_account(session, "j.anedoe@gmail.com", AccountState.REVOKED)  # holds nothing
        invited = add_invitation(session, "jane.doe+kids@gmail.com", add_patient(session, mrn="K1"))
        add_invitation(session, "janedoe+old@gmail.com", expires_at=NOW)  # expired
    with Session(any_database.engine) as session:
        checked = check_new_address(session, "JaneDoe+portal@googlemail.com", now=NOW)
    assert [(h.kind, h.id) for h in checked.variants] == [
        (HolderKind.ACCOUNT, dotted.id),
        (HolderKind.INVITATION, invited.id),
    ]
    assert checked.warning == (
        "This is probably the same mailbox as Jane.Doe@gmail.com (the active portal account "
        "'jd') and jane.doe+kids@gmail.com (a pending invitation for chart K1, valid until "
        "2026-03-09): the provider ignores dots or a +tag in the name. Check with the patient "
        "that the address is their own."
    )


def test_plus_tag_variants_of_other_providers(any_database: Database) -> None:
    with Session(any_database.writer, expire_on_commit=False) as session, session.begin():
        plain = add_account(session, "jane@outlook.com")
        tagged = add_account(session, "jane+old@outlook.com")
        add_account(session, "j.ane@outlook.com")  # dots count at Outlook
        add_account(session, "jane@hotmail.com")  # another provider
    with any_database.engine.connect() as connection:
        variants = mailbox_variants(connection, "Jane+New@Outlook.com", now=NOW)
        assert [h.id for h in variants] == [plain.id, tagged.id]
        # The address itself is a holder, not a variant.
        assert [h.id for h in mailbox_variants(connection, "jane@outlook.com", now=NOW)] == [
            tagged.id
        ]


def test_short_gmail_names_are_still_found(database: Database) -> None:
    with Session(database.writer, expire_on_commit=False) as session, session.begin():
        variant = add_account(session, "a.b@gmail.com")
        add_account(session, "abc@gmail.com")
        add_account(session, "ab@example.org")
    with database.engine.connect() as connection:
        assert [h.id for h in mailbox_variants(connection, "ab+x@gmail.com", now=NOW)] == [
            variant.id
        ]
