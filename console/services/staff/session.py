"""How long a sign-in lasts at a shared workstation (issue 5, HIPAA automatic logoff).

A ``StaffSession`` is the signed-in member of staff plus two times: when they signed in and
when they last used the keyboard or mouse. The window touches it on input and asks it,
on a timer, what is due: after ``idle_minutes`` without input the console locks (every
patient-data model is cleared, and only the same user's password opens it again); after
``session_hours`` since signing in, a fresh sign-in is needed whatever happens. Time comes
from the caller (the workstation's injectable clock), so tests move time instead of waiting.

Unlocking checks the password through ``sign_in``, so wrong passwords at the lock screen
count towards the same lock-out, and are audited, like those at the sign-in dialog.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from console.services.errors import DomainError
from console.services.permissions import Actor
from console.services.staff.users import SignedIn, sign_in
from console.services.workstation import Workstation, writing

DEFAULT_IDLE_MINUTES = 10
DEFAULT_SESSION_HOURS = 12


class SessionEnded(DomainError):
    """The session expired or was signed out: only a fresh sign-in continues."""


class SessionDue(StrEnum):
    """What the window must do now."""

    #: Keep going.
    ACTIVE = "active"
    #: Idle too long: lock (clear patient data, show the lock screen).
    LOCK = "lock"
    #: Signed in too long (or already ended): sign out and ask for a fresh sign-in.
    SIGN_OUT = "sign_out"


@dataclass
class StaffSession:
    """One member of staff's time at the console, from sign-in to sign-out. Used from the
    window's thread; ``unlock`` may run in a worker while the lock screen takes no input."""

    signed_in: SignedIn
    started_at: dt.datetime
    last_activity: dt.datetime
    locked: bool = False
    ended: bool = False

    @classmethod
    def begin(cls, signed_in: SignedIn, now: dt.datetime) -> StaffSession:
        """A session that starts now, after a verified sign-in."""
        return cls(signed_in, started_at=now, last_activity=now)

    @property
    def actor(self) -> Actor:
        """The signed-in member of staff."""
        return self.signed_in.actor

    def touch(self, now: dt.datetime) -> None:
        """Note keyboard or mouse input at ``now``. Ignored while locked or ended: input on
        the lock screen is not the signed-in user's until they give the password."""
        if not self.locked and not self.ended and now > self.last_activity:
            self.last_activity = now

    def is_idle(self, now: dt.datetime, idle_minutes: int = DEFAULT_IDLE_MINUTES) -> bool:
        """Whether ``idle_minutes`` have passed since the last input."""
        return now - self.last_activity >= dt.timedelta(minutes=idle_minutes)

    def is_expired(self, now: dt.datetime, session_hours: int = DEFAULT_SESSION_HOURS) -> bool:
        """Whether ``session_hours`` have passed since signing in."""
        return now - self.started_at >= dt.timedelta(hours=session_hours)

    def due(
        self,
        now: dt.datetime,
        *,
        idle_minutes: int = DEFAULT_IDLE_MINUTES,
        session_hours: int = DEFAULT_SESSION_HOURS,
    ) -> SessionDue:
        """What the window's timer must do now: the session limit wins over the idle lock,
        and a locked session only waits (for its password, or for the limit)."""
        if self.ended or self.is_expired(now, session_hours):
            return SessionDue.SIGN_OUT
        if not self.locked and self.is_idle(now, idle_minutes):
            return SessionDue.LOCK
        return SessionDue.ACTIVE

    def lock(self, workstation: Workstation) -> None:
        """Lock the console and audit ``session_locked``. The session is locked before the
        event is written, so that a failure to audit never leaves patient data on show."""
        if self.locked or self.ended:
            return
        self.locked = True
        now = workstation.clock.now()
        self._record(workstation, "session_locked", {"idle_seconds": self._seconds(now)})

    def unlock(
        self,
        workstation: Workstation,
        password: str,
        *,
        session_hours: int = DEFAULT_SESSION_HOURS,
    ) -> SignedIn:
        """Open the lock screen with the signed-in user's own password, checked by
        ``sign_in`` (audited as ``staff_unlock``; failures count towards the lock-out and
        raise ``SignInFailed``). Returns the fresh sign-in: its role is the one the user has
        now, and ``must_change_password`` is set if an administrator reset the password
        meanwhile. ``SessionEnded`` once the session limit has passed."""
        if self.ended or self.is_expired(workstation.clock.now(), session_hours):
            raise SessionEnded("You have been signed in for too long; sign in again to continue.")
        signed_in = sign_in(workstation, self.actor.username, password, purpose="unlock")
        if signed_in.actor.id != self.actor.id:  # usernames never change; this would be a bug
            raise SessionEnded("This console was locked by someone else; sign in again.")
        self.signed_in = signed_in
        self.locked = False
        self.last_activity = max(self.last_activity, workstation.clock.now())
        return signed_in

    def expire(self, workstation: Workstation) -> None:
        """End the session because its time limit passed, auditing ``session_expired``."""
        self._end(workstation, "session_expired")

    def sign_out(self, workstation: Workstation) -> None:
        """End the session at the user's request (or to let another user sign in at the
        lock screen), auditing ``signed_out``."""
        self._end(workstation, "signed_out")

    def _end(self, workstation: Workstation, action: str) -> None:
        # Ended first, audited second: the window clears everything even if auditing fails.
        if self.ended:
            return
        self.ended = True
        self.locked = True
        now = workstation.clock.now()
        session_seconds = int((now - self.started_at).total_seconds())
        self._record(workstation, action, {"session_seconds": session_seconds})

    def _seconds(self, now: dt.datetime) -> int:
        return max(0, int((now - self.last_activity).total_seconds()))

    def _record(self, workstation: Workstation, action: str, details: dict[str, object]) -> None:
        with writing(workstation) as session:
            workstation.audit.record(
                session,
                action,
                actor=self.actor,
                target_type="staff",
                target_id=self.actor.id,
                details=details,
            )


__all__ = [
    "DEFAULT_IDLE_MINUTES",
    "DEFAULT_SESSION_HOURS",
    "SessionDue",
    "SessionEnded",
    "StaffSession",
]
