"""The e-mails the outbox relay sends (issue 7): a password reset, an invitation, a notice
that access ended — each a plain-text part and an HTML part, from the templates in
``console/resources/mail``.

The e-mails name the clinic, the portal and the clinic's phone, and nothing about the
patient: no name, no date of birth, nothing clinical (an address can be shared, forwarded or
read over a shoulder). The invitation's PIN is never in an e-mail either: the clinic gives it
by phone or on the printed handout. Links point only at the portal's address from the
settings, so a link in an e-mail from this console cannot lead anywhere else.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from importlib.resources import files
from string import Template
from urllib.parse import quote

from console.models.states import OutboxKind
from console.services.errors import InvalidSetting
from console.services.settings.values import ConsoleSettings

#: Where each kind's link leads on the portal; kinds not listed carry no link.
LINK_PATHS: dict[OutboxKind, str] = {
    OutboxKind.PASSWORD_RESET: "reset-password",
    OutboxKind.INVITATION: "accept-invitation",
}
#: The printed handout tells the patient to look for "Your invitation to {portal}".
_SUBJECTS: dict[OutboxKind, str] = {
    OutboxKind.PASSWORD_RESET: "Reset your {portal} password",
    OutboxKind.INVITATION: "Your invitation to {portal}",
    OutboxKind.ACCESS_REVOKED: "Your {portal} access has ended",
}
_COMMENT = re.compile(r"<!--.*?-->\s*", re.DOTALL)


@dataclass(frozen=True)
class Branding:
    """Who an e-mail is from and where its links lead, from the settings."""

    clinic_name: str
    portal_name: str
    portal_base_url: str
    clinic_phone: str
    #: The From address.
    sender: str


def branding_from(settings: ConsoleSettings) -> Branding:
    """The branding of the clinic's e-mails. ``InvalidSetting`` names every setting an
    e-mail cannot do without (the clinic's name, phone and sender address): a patient should
    never get an e-mail that does not say who it is from or whom to call."""
    missing = [
        words
        for value, words in (
            (settings.clinic_name, "the clinic's name"),
            (settings.clinic_phone, "the clinic's phone number"),
            (settings.smtp_sender, "the sender address of e-mails"),
        )
        if not value.strip()
    ]
    if missing:
        listed = ", ".join(missing[:-1]) + (" and " if len(missing) > 1 else "") + missing[-1]
        raise InvalidSetting(f"Set {listed} in Settings before e-mails can be sent.")
    return Branding(
        clinic_name=settings.clinic_name.strip(),
        portal_name=settings.portal_name.strip(),
        portal_base_url=settings.portal_base_url.strip(),
        clinic_phone=settings.clinic_phone.strip(),
        sender=settings.smtp_sender.strip(),
    )


def portal_link(base_url: str, kind: OutboxKind, token: str) -> str:
    """The link a ``kind`` e-mail carries: ``{base_url}/reset-password?token=…`` or
    ``{base_url}/accept-invitation?token=…``, the token URL-quoted. ``InvalidSetting`` when
    the portal's address is not set; ``ValueError`` for a kind without a link or no token."""
    base = base_url.strip().rstrip("/")
    if not base:
        raise InvalidSetting("Set the portal's web address in Settings before e-mails can be sent.")
    if kind not in LINK_PATHS:
        raise ValueError(f"{kind} e-mails carry no link")
    if not token:
        raise ValueError("a link needs a token")
    return f"{base}/{LINK_PATHS[kind]}?token={quote(token, safe='')}"


def compose(
    kind: OutboxKind,
    *,
    to_email: str,
    message_id: str,
    branding: Branding,
    sent_at: dt.datetime,
    link: str | None = None,
    expires_at: dt.datetime | None = None,
) -> EmailMessage:
    """The ``kind`` e-mail to ``to_email``: multipart/alternative, plain text then HTML,
    with From (the clinic's name and the sender address), To, Subject, Date (``sent_at``,
    which must be aware) and Message-ID (``message_id`` as given, so that a re-sent message
    keeps it).

    A password reset and an invitation need ``link`` (from ``portal_link``); an invitation
    also needs ``expires_at``. Giving what a kind does not use, or leaving out what it needs,
    is a programming error (``ValueError``)."""
    kind = OutboxKind(kind)
    if (link is not None) != (kind in LINK_PATHS):
        raise ValueError(f"{kind} e-mails need a link" if link is None else f"{kind} has no link")
    if (expires_at is not None) != (kind is OutboxKind.INVITATION):
        raise ValueError("only invitation e-mails carry an expiry, and they must")
    if sent_at.tzinfo is None or (expires_at is not None and expires_at.tzinfo is None):
        raise ValueError("sent_at and expires_at must be aware datetimes")
    subject = _SUBJECTS[kind].format(portal=branding.portal_name)
    values = {
        "subject": subject,
        "clinic_name": branding.clinic_name,
        "portal_name": branding.portal_name,
        "clinic_phone": branding.clinic_phone,
        "link": link or "",
        "expires": expiry_words(expires_at) if expires_at is not None else "",
    }
    escaped = {name: html.escape(value, quote=True) for name, value in values.items()}

    message = EmailMessage()
    message["From"] = Address(display_name=branding.clinic_name, addr_spec=branding.sender)
    message["To"] = to_email
    message["Subject"] = subject
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = message_id
    message.set_content(_template(kind.value, "txt").substitute(values))
    content = _template(kind.value, "html").substitute(escaped)
    frame = _template("frame", "html")  # the clinic's name on top, its phone at the foot
    message.add_alternative(frame.substitute(escaped, content=content), subtype="html")
    return message


def expiry_words(expires_at: dt.datetime) -> str:
    """An expiry as a person reads it, in the workstation's time zone (as on the printed
    handout): "Monday 9 March 2026, 10:00"."""
    local = expires_at.astimezone()
    return f"{local:%A} {local.day} {local:%B %Y}, {local:%H:%M}"


def _template(name: str, suffix: str) -> Template:
    """The template ``name`` (an e-mail kind, or "frame") of one part, without the notes for
    developers at its top."""
    text = (files("console.resources") / "mail" / f"{name}.{suffix}").read_text("utf-8")
    return Template(_COMMENT.sub("", text) if suffix == "html" else text)


__all__ = [
    "LINK_PATHS",
    "Branding",
    "branding_from",
    "compose",
    "expiry_words",
    "portal_link",
]
