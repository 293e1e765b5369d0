"""The e-mails' contents: both parts, the headers, the links, the clinic's details and
nothing about the patient."""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from importlib.resources import files
from string import Template

import pytest

from console.models.states import OutboxKind
from console.services.errors import InvalidSetting
from console.services.mail.templates import (
    Branding,
    branding_from,
    compose,
    expiry_words,
    portal_link,
)
from console.services.settings.values import ConsoleSettings

SENT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
EXPIRES = dt.datetime(2026, 3, 9, 9, 0, tzinfo=dt.UTC)
MESSAGE_ID = "<0f1e2d3c4b5a69788796a5b4c3d2e1f0@portal-console>"
BRANDING = Branding(
    clinic_name="Riverside Family Clinic",
    portal_name="Riverside Portal",
    portal_base_url="https://portal.riverside.example",
    clinic_phone="(555) 010-2040",
    sender="no-reply@riverside.example",
)
RESET_LINK = "https://portal.riverside.example/reset-password?token=abc123"
INVITE_LINK = "https://portal.riverside.example/accept-invitation?token=xyz789"


class _Anchors(HTMLParser):
    """Every <a>: its href and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href") or ""
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.anchors.append((self._href, " ".join("".join(self._text).split())))
            self._href = None


def anchors(html: str) -> list[tuple[str, str]]:
    parser = _Anchors()
    parser.feed(html)
    return parser.anchors


def parts(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and the HTML part, checking they are the two alternatives in order."""
    assert message.get_content_type() == "multipart/alternative"
    plain, rich = message.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert rich.get_content_type() == "text/html"
    assert isinstance(plain, EmailMessage) and isinstance(rich, EmailMessage)
    return plain.get_content(), rich.get_content()


def reset_email(branding: Branding = BRANDING, link: str = RESET_LINK) -> EmailMessage:
    return compose(
        OutboxKind.PASSWORD_RESET,
        to_email="pat@example.org",
        message_id=MESSAGE_ID,
        branding=branding,
        sent_at=SENT,
        link=link,
    )


def invitation_email(branding: Branding = BRANDING) -> EmailMessage:
    return compose(
        OutboxKind.INVITATION,
        to_email="new.address@example.org",
        message_id=MESSAGE_ID,
        branding=branding,
        sent_at=SENT,
        link=INVITE_LINK,
        expires_at=EXPIRES,
    )


def revoked_email(branding: Branding = BRANDING) -> EmailMessage:
    return compose(
        OutboxKind.ACCESS_REVOKED,
        to_email="shared@example.org",
        message_id=MESSAGE_ID,
        branding=branding,
        sent_at=SENT,
    )


ALL_KINDS = [reset_email, invitation_email, revoked_email]


def test_headers_name_the_clinic_and_keep_the_message_id() -> None:
    message = reset_email()

    assert message["From"].addresses[0].display_name == "Riverside Family Clinic"
    assert message["From"].addresses[0].addr_spec == "no-reply@riverside.example"
    assert str(message["To"]) == "pat@example.org"
    assert str(message["Subject"]) == "Reset your Riverside Portal password"
    assert parsedate_to_datetime(str(message["Date"])) == SENT
    assert str(message["Message-ID"]) == MESSAGE_ID
    assert str(invitation_email()["Subject"]) == "Your invitation to Riverside Portal"
    assert str(revoked_email()["Subject"]) == "Your Riverside Portal access has ended"


@pytest.mark.parametrize("make", ALL_KINDS)
def test_every_email_has_both_parts_and_the_clinics_details(
    make: Callable[[], EmailMessage],
) -> None:
    message = make()
    for part in parts(message):
        assert "Riverside Family Clinic" in part
        assert "Riverside Portal" in part
        assert "(555) 010-2040" in part
        assert "$" not in part  # every placeholder filled in
    # The message survives the trip to bytes and back (what a server receives).
    assert bytes(message).count(b"Content-Type: text/") == 2


def test_the_reset_email_has_a_reset_password_button_and_the_plain_link() -> None:
    plain, rich = parts(reset_email())

    assert (RESET_LINK, "Reset Password") in anchors(rich)
    assert (RESET_LINK, RESET_LINK) in anchors(rich)  # the address to copy, should a button fail
    assert RESET_LINK in plain
    assert "Reset Password" in plain


def test_the_invitation_has_the_link_the_expiry_and_says_where_the_pin_comes_from() -> None:
    plain, rich = parts(invitation_email())

    assert INVITE_LINK in plain
    assert INVITE_LINK in [href for href, _ in anchors(rich)]
    words = expiry_words(EXPIRES)
    local = EXPIRES.astimezone()
    assert words.startswith(f"{local:%A} {local.day} {local:%B %Y}")
    for part in (plain, " ".join(rich.split())):
        assert words in part
        assert "by phone or on a printed handout, never by e-mail" in " ".join(part.split())


def test_the_revoked_notice_explains_what_happens_next_and_has_no_link() -> None:
    plain, rich = parts(revoked_email())

    assert anchors(rich) == []
    assert "http" not in plain
    for part in (plain, rich):
        flat = " ".join(part.split())
        assert "access of this login has ended" in flat
        assert "new invitation to the patient's own e-mail" in flat.replace("&#x27;", "'")
        assert "guardian" in flat


def test_html_escapes_every_value() -> None:
    branding = Branding(
        clinic_name="A&B <Clinic>",
        portal_name='My "Portal"',
        portal_base_url="https://portal.example",
        clinic_phone="555 0100",
        sender="desk@ab.example",
    )
    for make in ALL_KINDS:
        message = make(branding)
        plain, rich = parts(message)
        assert "A&amp;B &lt;Clinic&gt;" in rich
        assert "<Clinic>" not in rich
        assert "My &quot;Portal&quot;" in rich
        assert "A&B <Clinic>" in plain  # the plain part is not HTML
        assert message["From"].addresses[0].display_name == "A&B <Clinic>"
    tricky = 'https://portal.example/reset-password?token=a&b="<x>'
    _, rich = parts(reset_email(branding, link=tricky))
    assert (tricky, "Reset Password") in anchors(rich)  # the parser unescapes the href
    assert '"<x>' not in rich


def test_no_email_can_carry_patient_details() -> None:
    """Only these values reach a template, and compose takes nothing about the patient."""
    allowed = {"subject", "clinic_name", "portal_name", "clinic_phone", "link", "expires"}
    for kind in OutboxKind:
        for suffix in ("txt", "html"):
            text = (files("console.resources") / "mail" / f"{kind.value}.{suffix}").read_text()
            assert set(Template(text).get_identifiers()) <= allowed, (kind, suffix)
    assert set(inspect.signature(compose).parameters) == {
        "kind", "to_email", "message_id", "branding", "sent_at", "link", "expires_at",
    }  # fmt: skip
    for make in ALL_KINDS:
        text = bytes(make()).decode("ascii", "replace").lower()
        assert "birth" not in text or make is invitation_email  # the patient proves it there
        assert "pin:" not in text


def test_the_developers_notes_stay_out_of_the_email() -> None:
    _, rich = parts(reset_email())
    assert "<!--" not in rich


@pytest.mark.parametrize(
    ("kind", "link", "expires_at"),
    [
        (OutboxKind.PASSWORD_RESET, None, None),
        (OutboxKind.INVITATION, INVITE_LINK, None),
        (OutboxKind.INVITATION, None, EXPIRES),
        (OutboxKind.ACCESS_REVOKED, RESET_LINK, None),
        (OutboxKind.PASSWORD_RESET, RESET_LINK, EXPIRES),
    ],
)
def test_a_missing_or_unexpected_link_or_expiry_is_a_programming_error(
    kind: OutboxKind, link: str | None, expires_at: dt.datetime | None
) -> None:
    with pytest.raises(ValueError):
        compose(
            kind,
            to_email="pat@example.org",
            message_id=MESSAGE_ID,
            branding=BRANDING,
            sent_at=SENT,
            link=link,
            expires_at=expires_at,
        )


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        compose(
            OutboxKind.ACCESS_REVOKED,
            to_email="pat@example.org",
            message_id=MESSAGE_ID,
            branding=BRANDING,
            sent_at=SENT.replace(tzinfo=None),
        )


def test_portal_links() -> None:
    base = "https://portal.example/clinic/"
    assert (
        portal_link(base, OutboxKind.PASSWORD_RESET, "abc")
        == "https://portal.example/clinic/reset-password?token=abc"
    )
    assert (
        portal_link("https://portal.example", OutboxKind.INVITATION, "a+b/c=d&e")
        == "https://portal.example/accept-invitation?token=a%2Bb%2Fc%3Dd%26e"
    )
    with pytest.raises(ValueError):
        portal_link(base, OutboxKind.ACCESS_REVOKED, "abc")
    with pytest.raises(ValueError):
        portal_link(base, OutboxKind.PASSWORD_RESET, "")


@pytest.mark.parametrize("base", ["", "   ", "/"])
def test_a_missing_portal_address_is_refused_in_the_clinics_words(base: str) -> None:
    with pytest.raises(InvalidSetting, match="Set the portal's web address in Settings"):
        portal_link(base, OutboxKind.INVITATION, "abc")


def test_branding_from_settings() -> None:
    settings = ConsoleSettings(
        portal_name="Riverside Portal",
        portal_base_url="https://portal.riverside.example",
        clinic_name="Riverside Family Clinic",
        clinic_phone="(555) 010-2040",
        smtp_sender="no-reply@riverside.example",
    )
    assert branding_from(settings) == BRANDING


def test_branding_needs_the_clinics_name_phone_and_sender() -> None:
    with pytest.raises(InvalidSetting) as refused:
        branding_from(ConsoleSettings())
    assert str(refused.value) == (
        "Set the clinic's name, the clinic's phone number and the sender address of e-mails "
        "in Settings before e-mails can be sent."
    )
    with pytest.raises(InvalidSetting, match="Set the clinic's phone number in Settings"):
        branding_from(
            ConsoleSettings(clinic_name="Riverside", smtp_sender="no-reply@riverside.example")
        )
