"""The outbox list's query: queued, sent, failed and cancelled e-mails, newest first, with
the server's reason for a failure. Who may read it is ``services.mail.outbox_list``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from console.models.schema import OutboxMessage
from console.models.states import OutboxKind, OutboxState

DEFAULT_LIMIT = 500

KIND_LABELS = {
    OutboxKind.PASSWORD_RESET: "Password reset",
    OutboxKind.INVITATION: "Invitation",
    OutboxKind.ACCESS_REVOKED: "Access ended",
}


@dataclass(frozen=True)
class OutboxRow:
    """One e-mail of the outbox."""

    message_id: int
    kind: OutboxKind
    to_email: str
    state: OutboxState
    attempts: int
    created_at: dt.datetime
    #: When the relay tries next (queued); None once sent, failed or cancelled.
    next_attempt_at: dt.datetime | None
    sent_at: dt.datetime | None
    #: The last failure, as the mail server gave it.
    last_error: str | None
    version: int


@dataclass(frozen=True)
class OutboxPage:
    """The first ``limit`` e-mails of a filter, and how many the filter matches."""

    rows: tuple[OutboxRow, ...]
    total: int


def read_outbox(
    session: Session, *, state: OutboxState | None = None, limit: int = DEFAULT_LIMIT
) -> OutboxPage:
    """The newest ``limit`` e-mails in ``state`` (None: all) and the filter's total."""
    conditions = [] if state is None else [OutboxMessage.state == state.value]
    page = (
        select(OutboxMessage)
        .where(*conditions)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(max(limit, 0))
    )
    count = select(func.count(OutboxMessage.id)).where(*conditions)
    total = int(session.scalar(count) or 0)
    rows = tuple(
        OutboxRow(
            message_id=message.id,
            kind=OutboxKind(message.kind),
            to_email=message.to_email,
            state=OutboxState(message.state),
            attempts=message.attempts,
            created_at=message.created_at,
            next_attempt_at=(
                message.next_attempt_at if message.state == OutboxState.QUEUED else None
            ),
            sent_at=message.sent_at,
            last_error=message.last_error,
            version=message.version,
        )
        for message in session.scalars(page)
    )
    return OutboxPage(rows, total)


__all__ = ["DEFAULT_LIMIT", "KIND_LABELS", "OutboxPage", "OutboxRow", "read_outbox"]
