"""The tamper-evident audit log (SPEC §7): every staff action and security event is one row,
chained to the one before it by a keyed hash, with the key kept outside the database.

Each event gets the next ``seq`` (1, 2, 3 …) and ``chain_hash`` = HMAC-SHA-256(key, previous
hash ‖ canonical content), where the canonical content is sorted, compact JSON of ``seq`` and
every column but the id. The first event chains from a value derived from the database's own
id, so events cannot be moved from one database into another that shares the key. The head
row (``AuditChainHead``) holds the last seq, event id and hash, sealed by a keyed checkpoint;
appenders lock it first, so two writers never fork the chain, and the verifier compares the
chain with it, so removing the last events is found too. (Someone who can write to the
database and kept an old copy of the head row can still cut the log back to that copy: only
a checkpoint kept outside the database, such as a printed ``audit verify``, would show that.)
How the chain is computed is ``console.services.audit.chain``, the verifier is
``console.services.audit.verifier`` and the key comes from ``console.services.audit.key``.
"""

from __future__ import annotations

import datetime as dt
import hmac
import socket
from collections.abc import Mapping

from sqlalchemy.orm import Session

from console.models.schema import AuditChainHead, AuditEvent
from console.services.audit.chain import canonical_json, event_content, genesis, head_mac, link
from console.services.audit.key import (
    HEAD_ID,
    AuditKey,
    AuditKeyMissing,
    AuditLogDamaged,
    DemoKeyInClinicDatabase,
)
from console.services.clock import Clock
from console.services.permissions import Actor


class AuditKeyMismatch(AuditKeyMissing):
    """The key does not fit the audit log's checkpoint: it is another database's key, or
    the checkpoint was tampered with. Nothing is appended."""


def workstation_name() -> str:
    """This computer's name as the audit log records it: printable characters only, at most
    255 of them."""
    name = "".join(c for c in socket.gethostname() if c.isprintable()).strip()
    return name[:255] or "unknown workstation"


class AuditTrail:
    """Appends chained events: one per database + key + workstation + clock. Safe to share
    between threads (it holds no state that changes)."""

    def __init__(self, key: AuditKey, *, workstation: str, clock: Clock) -> None:
        self.key = key
        self.workstation = workstation
        self.clock = clock

    def record(
        self,
        session: Session,
        action: str,
        *,
        actor: Actor | None,
        outcome: str = "ok",
        target_type: str | None = None,
        target_id: int | str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> AuditEvent:
        """Append one event in the caller's transaction (``session`` is inside
        ``session.begin()`` on ``database.writer``), so it is kept exactly when the action
        is. ``details`` must be JSON-serialisable (``ValueError`` otherwise) and must hold
        no secret. Raises ``AuditKeyMismatch`` when the key does not fit this log, and
        ``DemoKeyInClinicDatabase`` when a real key finds a demo key planted in its head."""
        event = AuditEvent(
            occurred_at=self.clock.now().astimezone(dt.UTC),
            staff_user_id=actor.id if actor is not None else None,
            staff_username=actor.username if actor is not None else None,
            workstation=self.workstation,
            action=action,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id),
            outcome=outcome,
            details=canonical_details(details or {}),
        )
        _check_lengths(event)
        # Lock the head first: a second writer waits here (PostgreSQL FOR UPDATE; SQLite
        # writers are already one at a time) and then chains onto this writer's event.
        head = session.get(AuditChainHead, HEAD_ID, with_for_update=True, populate_existing=True)
        if head is None:
            raise AuditLogDamaged(
                "The audit log's head row is missing, so nothing can be recorded. Ask an "
                "administrator to restore the database from a backup."
            )
        if head.head_mac is not None and not hmac.compare_digest(
            head.head_mac, head_mac(self.key.secret, head)
        ):
            raise AuditKeyMismatch(
                f"The audit key ({self.key.label}) does not fit this database's audit log: it "
                "belongs to another database, or the log was tampered with. Nothing was saved; "
                "ask an administrator to run 'portal-console audit verify'."
            )
        if head.demo_key is not None and self.key.tamper_proof:
            raise DemoKeyInClinicDatabase(
                f"This database's audit log is kept with a real key ({self.key.label}), yet its "
                "head row holds a demo key, which only a demo database has: someone who can "
                "write to the database put it there. Nothing was saved; ask an administrator "
                "to run 'portal-console audit verify'."
            )
        event.seq = head.last_seq + 1
        previous = head.last_hash or genesis(self.key.secret, head.database_id)
        event.chain_hash = link(self.key.secret, previous, event_content(event))
        session.add(event)
        session.flush()  # the event's id, for the checkpoint
        head.last_seq, head.last_event_id, head.last_hash = event.seq, event.id, event.chain_hash
        head.head_mac = head_mac(self.key.secret, head)
        session.flush()
        return event


def canonical_details(details: Mapping[str, object]) -> str:
    """``details`` as the canonical JSON text that is stored and chained (sorted keys, no
    spaces). ``ValueError`` for anything JSON cannot hold as it is: objects such as dates or
    sets, NaN and infinities, keys that are not strings."""
    _check_plain_json(details, "details")
    try:
        return canonical_json(dict(details))
    except (TypeError, ValueError, RecursionError) as error:
        raise ValueError(f"audit details must be plain JSON: {error}") from None


def _check_plain_json(value: object, where: str, depth: int = 0) -> None:
    if depth > 20:
        raise ValueError(f"audit details must be plain JSON: {where} is nested too deeply")
    if isinstance(value, Mapping):
        for name, item in value.items():
            if not isinstance(name, str):
                raise ValueError(f"audit details must be plain JSON: a key of {where} is not text")
            _check_plain_json(item, f"{where}.{name}", depth + 1)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_plain_json(item, f"{where}[{index}]", depth + 1)
    elif not (value is None or isinstance(value, str | int | float)):
        raise ValueError(f"audit details must be plain JSON: {where} is a {type(value).__name__}")


def _check_lengths(event: AuditEvent) -> None:
    # PostgreSQL refuses an over-long value and SQLite keeps it: refuse it the same way on both.
    if not event.action or not event.outcome:
        raise ValueError("an audit event needs an action and an outcome")
    columns = AuditEvent.__table__.c
    for name in ("workstation", "action", "target_type", "target_id", "outcome"):
        value = getattr(event, name)
        limit: int = getattr(columns[name].type, "length")  # noqa: B009 - typed as TypeEngine
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            raise ValueError(f"audit {name} must be text of at most {limit} characters")


__all__ = ["AuditKeyMismatch", "AuditTrail", "canonical_details", "workstation_name"]
