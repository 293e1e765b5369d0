"""The outbox relay (issue 7): sends the queued e-mails, one relay per message at a time.

Each message goes through three steps, each its own short transaction or none:

1. **Claim** — the next due message is claimed for ``RelayPolicy.lease`` (another relay takes
   it over only once that has passed, e.g. after a crash), its attempt is counted, and the
   invitation or reset link is minted: the raw token exists only in the e-mail, its hash on
   the invitation or account, and a new one retires the old link.
2. **Send** — outside any transaction, through a ``Transport``.
3. **Mark** — sent; queued again after a back-off for a transient failure (until
   ``max_attempts``); failed with the server's reason for a permanent one. Only the relay
   that holds the claim (the version it wrote) may mark.

So a crash after an action commits and before sending leaves the message queued (sent
later); a crash after sending and before marking sends it again once the claim lapses, with a
new link (at most two e-mails, only the newest link works); a rolled-back action never
queued anything. Every change of state is audited, by the relay (no staff user) or by the
staff user who retried or cancelled the message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from console.models.schema import Invitation, OutboxMessage
from console.models.states import OutboxKind, OutboxState
from console.services.accounts.password_reset import mint_reset_token
from console.services.errors import DomainError
from console.services.invitations.issuing import mint_invitation_token
from console.services.mail.templates import Branding, compose, portal_link
from console.services.mail.transport import DeliveryFailure, PermanentFailure, Transport
from console.services.permissions import Actor, Permission
from console.services.workstation import Changes, Workstation, lock_row, writing

#: How much of a server's reason is kept (and shown) for a failed attempt.
MAX_REASON = 500


@dataclass(frozen=True)
class RelayPolicy:
    """How often and how long the relay tries: 1, 2, 4 … minutes between attempts, at most
    an hour, eight attempts in all (about four hours), a claim lasting five minutes."""

    max_attempts: int = 8
    first_delay: dt.timedelta = dt.timedelta(minutes=1)
    max_delay: dt.timedelta = dt.timedelta(hours=1)
    lease: dt.timedelta = dt.timedelta(minutes=5)

    def delay_after(self, attempts: int) -> dt.timedelta:
        """The wait before the next attempt, after ``attempts`` have failed."""
        delay: dt.timedelta = self.first_delay * (2 ** max(attempts - 1, 0))
        return min(delay, self.max_delay)


@dataclass(frozen=True)
class RelayReport:
    """What one run of the relay did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    #: Messages no longer to be sent (the invitation was cancelled or the account closed).
    dropped: int = 0

    @property
    def handled(self) -> int:
        """Every message this run took."""
        return self.sent + self.retrying + self.failed + self.dropped


class OutboxRefused(DomainError):
    """A staff action on a message that cannot be done (already sent, say)."""


@dataclass(frozen=True)
class _Claim:
    id: int
    version: int
    attempts: int
    email: EmailMessage | None  # None: dropped


Progress = Callable[[int, int], None]


def due_count(workstation: Workstation) -> int:
    """How many queued messages are due now (for a progress bar)."""
    with Session(workstation.database.engine) as session:
        return (
            session.scalar(
                select(func.count(OutboxMessage.id)).where(_due(workstation.clock.now()))
            )
            or 0
        )


def send_due(
    workstation: Workstation,
    transport: Transport,
    branding: Branding,
    *,
    policy: RelayPolicy | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
) -> RelayReport:
    """Send every message due now (at most ``limit``), one after another over ``transport``,
    and report what happened. ``progress(done, total)`` after each message."""
    policy = policy or RelayPolicy()
    total = due_count(workstation) if progress is not None else 0
    counts = {"sent": 0, "retrying": 0, "failed": 0, "dropped": 0}
    while limit is None or sum(counts.values()) < limit:
        claim = _claim_next(workstation, branding, policy)
        if claim is None:
            break
        if claim.email is None:
            counts["dropped"] += 1
        else:
            try:
                transport.send(claim.email)
            except DeliveryFailure as failure:
                counts[_mark_failed(workstation, claim, failure, policy)] += 1
            else:
                _mark_sent(workstation, claim)
                counts["sent"] += 1
        if progress is not None:
            done = sum(counts.values())
            progress(done, max(total, done))
    return RelayReport(**counts)


def _due(now: dt.datetime) -> ColumnElement[bool]:
    return and_(
        OutboxMessage.state == OutboxState.QUEUED,
        or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= now),
    )


def _claim_next(workstation: Workstation, branding: Branding, policy: RelayPolicy) -> _Claim | None:
    now = workstation.clock.now()
    with writing(workstation) as session:
        # SKIP LOCKED: two relays on PostgreSQL take different messages instead of waiting.
        message = session.scalars(
            select(OutboxMessage)
            .where(_due(now))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if message is None:
            return None
        link, expires_at = _mint_link(session, message, branding, now)
        if link is None and message.kind != OutboxKind.ACCESS_REVOKED:
            message.state = OutboxState.CANCELLED.value
            message.claimed_until = None
            message.last_error = "No longer needed: the invitation or the account was closed."
            _audit(workstation, session, message, "email_dropped")
            return _Claim(message.id, message.version, message.attempts, None)
        message.attempts += 1
        message.claimed_until = now + policy.lease
        session.flush()
        email = compose(
            OutboxKind(message.kind),
            to_email=message.to_email,
            message_id=message.message_id,
            branding=branding,
            sent_at=now,
            link=link,
            expires_at=expires_at,
        )
        return _Claim(message.id, message.version, message.attempts, email)


def _mint_link(
    session: Session, message: OutboxMessage, branding: Branding, now: dt.datetime
) -> tuple[str | None, dt.datetime | None]:
    """The message's link (a new token) and, for an invitation, when it expires; (None,
    None) when it has none or may not have one any more."""
    token, expires = None, None
    if message.kind == OutboxKind.INVITATION and message.invitation_id is not None:
        token = mint_invitation_token(session, message.invitation_id, now=now)
        invitation = session.get(Invitation, message.invitation_id)
        expires = invitation.expires_at if invitation is not None else None
    elif message.kind == OutboxKind.PASSWORD_RESET and message.account_id is not None:
        token = mint_reset_token(session, message.account_id, now=now)
    if token is None:
        return None, None
    return portal_link(branding.portal_base_url, OutboxKind(message.kind), token), expires


def _held(session: Session, claim: _Claim) -> OutboxMessage | None:
    """The message, if this relay's claim on it still stands."""
    message = lock_row(session, OutboxMessage, claim.id)
    if message is None or message.version != claim.version:
        return None  # taken over after the claim lapsed, or cancelled by staff meanwhile
    return message


def _mark_sent(workstation: Workstation, claim: _Claim) -> None:
    with writing(workstation) as session:
        message = _held(session, claim)
        if message is None:
            return
        message.state = OutboxState.SENT.value
        message.sent_at = workstation.clock.now()
        message.claimed_until = None
        message.last_error = None
        _audit(workstation, session, message, "email_sent")


def _mark_failed(
    workstation: Workstation, claim: _Claim, failure: DeliveryFailure, policy: RelayPolicy
) -> str:
    """Queue the message again after a back-off, or mark it failed; which, for the report."""
    with writing(workstation) as session:
        message = _held(session, claim)
        final = isinstance(failure, PermanentFailure) or claim.attempts >= policy.max_attempts
        message_state = "failed" if final else "retrying"
        if message is None:
            return message_state
        message.last_error = failure.reason[:MAX_REASON]
        message.claimed_until = None
        if final:
            message.state = OutboxState.FAILED.value
        else:
            message.next_attempt_at = workstation.clock.now() + policy.delay_after(claim.attempts)
        _audit(
            workstation,
            session,
            message,
            "email_failed" if final else "email_retry_scheduled",
            reason=message.last_error,
        )
        return message_state


def _audit(
    workstation: Workstation,
    session: Session,
    message: OutboxMessage,
    action: str,
    *,
    actor: Actor | None = None,
    reason: str | None = None,
) -> None:
    details: dict[str, object] = {"kind": message.kind, "attempts": message.attempts}
    if reason is not None:
        details["reason"] = reason
    session.flush()
    workstation.audit.record(
        session,
        action,
        actor=actor,
        target_type="outbox_message",
        target_id=message.id,
        details=details,
    )


# --- What staff do from the outbox view ------------------------------------------------------


def retry_message(
    workstation: Workstation, actor: Actor, message_id: int, *, expected_version: int | None = None
) -> Changes:
    """Queue a failed message again, due at once, with its attempts counted from nought (e.g.
    after the mail server was fixed); its link is minted anew when it is sent."""
    with writing(workstation, actor, Permission.RESEND_EMAIL) as session:
        message = _staff_lock(session, message_id, expected_version)
        if message.state != OutboxState.FAILED:
            raise OutboxRefused("Only a failed e-mail can be tried again.")
        message.state = OutboxState.QUEUED.value
        message.attempts = 0
        message.next_attempt_at = workstation.clock.now()
        message.last_error = None
        _audit(workstation, session, message, "email_retried", actor=actor)
    return Changes(outbox=frozenset({message_id}), mail_queued=frozenset({message_id}))


def cancel_message(
    workstation: Workstation, actor: Actor, message_id: int, *, expected_version: int | None = None
) -> Changes:
    """Stop a queued or failed message from being sent."""
    with writing(workstation, actor, Permission.RESEND_EMAIL) as session:
        message = _staff_lock(session, message_id, expected_version)
        if message.state not in (OutboxState.QUEUED, OutboxState.FAILED):
            raise OutboxRefused("This e-mail was already sent or cancelled.")
        message.state = OutboxState.CANCELLED.value
        message.claimed_until = None
        _audit(workstation, session, message, "email_cancelled", actor=actor)
    return Changes(outbox=frozenset({message_id}))


def _staff_lock(session: Session, message_id: int, expected_version: int | None) -> OutboxMessage:
    message = lock_row(session, OutboxMessage, message_id, expected_version)
    if message is None:
        raise OutboxRefused("This e-mail is not in the outbox.")
    return message


__all__ = [
    "OutboxRefused",
    "RelayPolicy",
    "RelayReport",
    "cancel_message",
    "due_count",
    "retry_message",
    "send_due",
]
