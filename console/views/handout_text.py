"""What the printed invitation handout says (SPEC §5), without Qt: the words, the PIN as
read aloud, the expiry as a person reads it, and the page's HTML. ``console.views.handout``
lays the HTML out and prints it; the re-issue presenter words the same values without Qt.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from importlib.resources import files
from string import Template

#: The default portal password policy (SPEC §5), as the patient reads it.
DEFAULT_POLICY_WORDS = (
    "at least 8 characters, with at least one capital letter, one small letter and one digit."
)


@dataclass(frozen=True)
class HandoutText:
    """What a handout says. ``pin`` is the six digits as issued."""

    clinic_name: str
    portal_name: str
    patient_name: str
    pin: str
    expires_at: dt.datetime
    portal_url: str = ""
    address: str = ""
    password_rule: str = DEFAULT_POLICY_WORDS
    clinic_phone: str = ""


def password_rule_words(min_length: int, require_symbol: bool) -> str:
    """The portal's password policy as the patient reads it on the handout."""
    if min_length == 8 and not require_symbol:
        return DEFAULT_POLICY_WORDS
    symbol = ", one digit and one symbol." if require_symbol else " and one digit."
    return (
        f"at least {min_length} characters, with at least one capital letter, "
        f"one small letter{symbol}"
    )


def spaced_pin(pin: str) -> str:
    """The PIN in two groups of three, as read aloud: ``246810`` → ``246 810``."""
    digits = pin.strip()
    return f"{digits[:3]} {digits[3:]}" if len(digits) == 6 else digits


def expiry_words(expires_at: dt.datetime) -> str:
    """The expiry as a person reads it, in the workstation's time zone:
    "Monday 9 March 2026, 10:00"."""
    local = expires_at.astimezone()
    return f"{local:%A} {local.day} {local:%B %Y}, {local:%H:%M}"


def handout_html(text: HandoutText) -> str:
    """The handout's HTML, every value escaped."""
    template = Template((files("console.resources") / "handout.html").read_text("utf-8"))

    def e(value: str) -> str:
        return html.escape(value, quote=True)

    portal_line = (
        f" It opens {e(text.portal_name)} at <b>{e(text.portal_url)}</b>."
        if text.portal_url
        else ""
    )
    clinic = text.clinic_name or "your clinic"
    contact = f"Call {e(clinic)} on {e(text.clinic_phone)}." if text.clinic_phone else ""
    return template.substitute(
        clinic_name=e(text.clinic_name),
        portal_name=e(text.portal_name),
        patient_name=e(text.patient_name),
        pin=e(spaced_pin(text.pin)),
        expires=e(expiry_words(text.expires_at)),
        address=e(text.address) if text.address else "your e-mail address",
        portal_line=portal_line,
        password_rule=e(text.password_rule),
        contact_line=contact or f"Ask {e(clinic)}.",
    )


__all__ = ["DEFAULT_POLICY_WORDS", "HandoutText", "expiry_words", "handout_html", "spaced_pin"]
