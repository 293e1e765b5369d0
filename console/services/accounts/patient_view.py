"""What the patient sees at login (SPEC §4) for any account, and what it means for staff.

The one decision (``situation_at``) behind both the real portal login and the console's
"what the patient sees" banner, so the two cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from console.models.states import ACTIVE_STATES, AccountState
from console.services.clock import SystemClock
from console.services.email_rules import validate_email
from console.services.errors import InvalidEmail

DEFAULT_PORTAL_NAME = "Patient Portal"
INCORRECT = "Incorrect email or password"
ASK_FOR_NEW_ACCOUNT = "Please ask your healthcare provider to create a new {portal} account for you"
RESET_EMAIL_SENT = (
    "A password reset email has been sent to the email address linked to your {portal} account"
)
ASK_FOR_ACCESS = "Please ask your healthcare provider to provide access to your health records"
#: Not a message: the patient is simply in. Shown to staff as it reads in SPEC §4.
SIGNED_IN = "(signed in)"


class LoginSituation(StrEnum):
    """Why a login ended as it did. For the audit log, tests and staff: never shown to the
    patient, who gets only the message."""

    SIGNED_IN = "signed_in"
    UNKNOWN_LOGIN = "unknown_login"
    WRONG_PASSWORD = "wrong_password"  # noqa: S105 - an outcome, not a secret
    #: This failure reached the limit and locked the account.
    LOCKED_OUT = "locked_out"
    #: The account was locked already (right or wrong password).
    LOCKED = "locked"
    DEACTIVATED = "deactivated"
    REVOKED = "revoked"
    SHARED_EMAIL = "shared_email"
    RESET_SENT = "reset_sent"
    #: The reset message again, but a reset e-mail was queued too recently to queue another.
    RESET_RECENTLY_SENT = "reset_recently_sent"
    #: A legacy account whose login e-mail is missing or unusable: no reset can be sent.
    NO_RESET_ADDRESS = "no_reset_address"


_MESSAGES = {
    LoginSituation.SIGNED_IN: SIGNED_IN,
    LoginSituation.UNKNOWN_LOGIN: INCORRECT,
    LoginSituation.WRONG_PASSWORD: INCORRECT,
    LoginSituation.LOCKED_OUT: INCORRECT,
    LoginSituation.LOCKED: INCORRECT,
    LoginSituation.DEACTIVATED: INCORRECT,
    LoginSituation.REVOKED: ASK_FOR_ACCESS,
    LoginSituation.SHARED_EMAIL: ASK_FOR_NEW_ACCOUNT,
    LoginSituation.RESET_SENT: RESET_EMAIL_SENT,
    LoginSituation.RESET_RECENTLY_SENT: RESET_EMAIL_SENT,
    LoginSituation.NO_RESET_ADDRESS: ASK_FOR_NEW_ACCOUNT,
}


def patient_message(situation: LoginSituation, portal_name: str = DEFAULT_PORTAL_NAME) -> str:
    """The exact words the patient sees in ``situation`` (SPEC §4)."""
    return _MESSAGES[situation].format(portal=portal_name)


class AccountFacts(Protocol):
    """What the answer to a login depends on: a ``PortalAccount``, or any row read for a
    table that carries these columns."""

    @property
    def state(self) -> str: ...
    @property
    def shared_email(self) -> bool: ...
    @property
    def locked_until(self) -> dt.datetime | None: ...
    @property
    def login_email(self) -> str | None: ...


@dataclass(frozen=True)
class PatientView:
    """What the patient sees when they log in with the right password, and what it means
    for staff."""

    situation: LoginSituation
    message: str
    signed_in: bool
    #: For staff: why the patient sees this.
    explanation: str
    #: For staff: what fixes it, when something needs fixing.
    suggested_fix: str | None


def what_patient_sees(
    account: AccountFacts,
    *,
    portal_name: str = DEFAULT_PORTAL_NAME,
    now: dt.datetime | None = None,
) -> PatientView:
    """What the patient would see logging in to ``account`` with the right password at
    ``now`` (default: the current time), with an explanation and a suggested fix for staff."""
    when = now if now is not None else SystemClock().now()
    situation = situation_at(account, when)
    explanation, fix = _for_staff(situation, account)
    return PatientView(
        situation,
        patient_message(situation, portal_name),
        situation is LoginSituation.SIGNED_IN,
        explanation,
        fix,
    )


def reset_address(account: AccountFacts) -> str | None:
    """Where a reset e-mail for ``account`` would go: its login e-mail in display form, or
    None when it has none or only one no mail could be sent to (legacy data)."""
    if not account.login_email:
        return None
    try:
        return validate_email(account.login_email)
    except InvalidEmail:
        return None


def situation_at(account: AccountFacts, now: dt.datetime) -> LoginSituation:
    """The answer for the right password (SPEC §4); the order of the checks is the rule."""
    if account.locked_until is not None and account.locked_until > now:
        return LoginSituation.LOCKED
    state = account.state
    if state == AccountState.REVOKED:
        return LoginSituation.REVOKED
    if state not in ACTIVE_STATES:
        return LoginSituation.DEACTIVATED
    if account.shared_email:
        return LoginSituation.SHARED_EMAIL
    if state == AccountState.MIGRATED:
        return LoginSituation.SIGNED_IN
    if reset_address(account) is None:
        return LoginSituation.NO_RESET_ADDRESS
    return LoginSituation.RESET_SENT


# --- For staff --------------------------------------------------------------------------------


def _for_staff(situation: LoginSituation, account: AccountFacts) -> tuple[str, str | None]:
    """Explanation and suggested fix of ``what_patient_sees``."""
    if situation is LoginSituation.LOCKED:
        until = account.locked_until
        assert until is not None
        return (
            "Too many wrong passwords: the login is locked until "
            f"{until:%Y-%m-%d %H:%M} UTC. Until then the patient is told the e-mail or "
            "password is incorrect, even with the right password.",
            "Ask the patient to try again after that time.",
        )
    if situation is LoginSituation.SHARED_EMAIL:
        return (
            "Another active portal account logs in with the same e-mail address, so neither "
            "can sign in or move to the new login system.",
            "Revoke the extra account (reason: shared e-mail — re-inviting) and send a new "
            "invitation from its chart to a different, unused e-mail address. For a family "
            "sharing one address, keep the guardian's account and link the children's charts "
            "to it instead.",
        )
    if situation is LoginSituation.RESET_SENT and account.state == AccountState.RESET_PENDING:
        return (
            "A password reset e-mail was sent; the patient has not set a new password yet. "
            "Logging in again sends another (at most one every few minutes).",
            "Ask the patient to look for the e-mail, also in spam, or resend the reset e-mail.",
        )
    return _STAFF_TEXTS[situation]


_STAFF_TEXTS: dict[LoginSituation, tuple[str, str | None]] = {
    LoginSituation.SIGNED_IN: (
        "The patient has set a password under the new rules and can sign in.",
        None,
    ),
    LoginSituation.DEACTIVATED: (
        "The account was closed at the patient's request; the patient is told the e-mail or "
        "password is incorrect.",
        "If the patient wants portal access again, send a new invitation from their chart.",
    ),
    LoginSituation.REVOKED: (
        "Staff ended this account's access.",
        "If the patient should have access, send a new invitation from the chart to an "
        "e-mail address of their own, or link the chart to a guardian's account.",
    ),
    LoginSituation.RESET_SENT: (
        "The patient has not been through the password reset yet. Logging in with the old "
        "password sends a reset e-mail to the login e-mail address.",
        None,
    ),
    LoginSituation.NO_RESET_ADDRESS: (
        "The account has no usable login e-mail address, so no reset e-mail can be sent and "
        "it cannot move to the new login system.",
        "Revoke this account, then send a new invitation from the chart to the patient's own "
        "e-mail address.",
    ),
}
