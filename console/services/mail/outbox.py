"""The outbox: e-mails are written in the same transaction as the action that causes them, and
sent later by the relay (issue 7), so a rolled-back action never sends one."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import ColumnElement, update
from sqlalchemy.orm import Session

from console.models.schema import OutboxMessage
from console.models.states import OutboxKind, OutboxState

MESSAGE_ID_DOMAIN = "portal-console"


def new_message_id() -> str:
    """A unique, unguessable Message-ID for an outbox e-mail."""
    return f"<{secrets.token_hex(16)}@{MESSAGE_ID_DOMAIN}>"


def queue_email(
    session: Session,
    kind: OutboxKind,
    to_email: str,
    *,
    now: dt.datetime,
    account_id: int | None = None,
    invitation_id: int | None = None,
) -> OutboxMessage:
    """Queue one e-mail in the session's transaction, due at once; its row has an id."""
    message = OutboxMessage(
        kind=kind.value,
        to_email=to_email,
        account_id=account_id,
        invitation_id=invitation_id,
        state=OutboxState.QUEUED.value,
        attempts=0,
        next_attempt_at=now,
        message_id=new_message_id(),
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message


def cancel_queued(session: Session, *which: ColumnElement[bool]) -> frozenset[int]:
    """Cancel the e-mails still queued that match ``which``, in the session's transaction;
    the ids cancelled (an e-mail being sent or sent already is left alone)."""
    cancelled = session.scalars(
        update(OutboxMessage)
        .where(*which, OutboxMessage.state == OutboxState.QUEUED)
        .values(state=OutboxState.CANCELLED.value, version=OutboxMessage.version + 1)
        .returning(OutboxMessage.id)
    )
    return frozenset(cancelled)


__all__ = ["cancel_queued", "new_message_id", "queue_email"]
