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
The key comes from ``console.services.audit.key``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Result, Row, String, select, type_coerce
from sqlalchemy.orm import Session

from console.models.database import Database
from console.models.schema import AuditChainHead, AuditEvent, StaffUser
from console.services.audit.key import (
    DEMO_LABEL,
    HEAD_ID,
    AuditKey,
    AuditKeyMissing,
    AuditLogDamaged,
)
from console.services.clock import Clock
from console.services.permissions import Actor

#: Rows fetched at a time by the verifier: memory stays flat for millions of events.
_VERIFY_BATCH = 2000


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
        no secret. Raises ``AuditKeyMismatch`` when the key does not fit this log."""
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
            head.head_mac, _head_mac(self.key.secret, head)
        ):
            raise AuditKeyMismatch(
                f"The audit key ({self.key.label}) does not fit this database's audit log: it "
                "belongs to another database, or the log was tampered with. Nothing was saved; "
                "ask an administrator to run 'portal-console audit verify'."
            )
        event.seq = head.last_seq + 1
        previous = head.last_hash or _genesis(self.key.secret, head.database_id)
        event.chain_hash = _link(self.key.secret, previous, _event_content(event))
        session.add(event)
        session.flush()  # the event's id, for the checkpoint
        head.last_seq, head.last_event_id, head.last_hash = event.seq, event.id, event.chain_hash
        head.head_mac = _head_mac(self.key.secret, head)
        session.flush()
        return event


@dataclass(frozen=True)
class ChainReport:
    """What ``verify_chain`` found. ``events`` counts the events found good (all of them when
    ``ok``); ``first_bad_id`` is the id of the first bad event, None when the problem is with
    the checkpoint rather than a row."""

    ok: bool
    events: int
    first_bad_id: int | None
    problem: str | None
    key_label: str
    tamper_proof: bool = True

    def summary(self) -> str:
        """One line: ``OK 123 events`` or ``event 57: what is wrong``, marked when the key is
        a demo key."""
        if self.ok:
            line = f"OK {self.events} events"
        elif self.first_bad_id is not None:
            line = f"event {self.first_bad_id}: {self.problem}"
        else:
            line = f"checkpoint: {self.problem}"
        return line if self.tamper_proof else f"{line} ({DEMO_LABEL})"


def verify_chain(database_or_connection: Database | Connection, key: AuditKey) -> ChainReport:
    """Walk the audit log in chain order, recomputing every link, and report the first
    event that was edited, removed or reordered, or a chain shorter than (or not matching)
    its last recorded checkpoint. Streams the rows: memory stays flat for millions."""
    if isinstance(database_or_connection, Database):
        with database_or_connection.engine.connect() as connection:
            return _verify(connection, key)
    return _verify(database_or_connection, key)


def canonical_details(details: Mapping[str, object]) -> str:
    """``details`` as the canonical JSON text that is stored and chained (sorted keys, no
    spaces). ``ValueError`` for anything JSON cannot hold as it is: objects such as dates or
    sets, NaN and infinities, keys that are not strings."""
    _check_plain_json(details, "details")
    try:
        return _canonical_json(dict(details))
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


# --- the chain ---------------------------------------------------------------------------

#: The columns chained besides ``seq`` and ``occurred_at``: all but the id and the hash.
_CHAINED = (
    "staff_user_id",
    "staff_username",
    "workstation",
    "action",
    "target_type",
    "target_id",
    "outcome",
    "details",
)


def _canonical_json(value: object) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


def _utc_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _content(seq: int, occurred_at: dt.datetime, values: Mapping[Any, object]) -> str:
    """The canonical content of an event: what its chain hash covers."""
    fields = {name: values[name] for name in _CHAINED}
    return _canonical_json(fields | {"seq": seq, "occurred_at": _utc_text(occurred_at)})


def _event_content(event: AuditEvent) -> str:
    return _content(event.seq, event.occurred_at, {n: getattr(event, n) for n in _CHAINED})


def _mac(secret: bytes, purpose: bytes, *parts: str) -> str:
    message = purpose + b"\x00" + "".join(parts).encode("utf-8")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _genesis(secret: bytes, database_id: str) -> str:
    """What the first event chains from: bound to the database, so that events cannot be
    moved into another database kept with the same key."""
    return _mac(secret, b"portal-console audit genesis", database_id)


def _link(secret: bytes, previous: str, content: str) -> str:
    return _mac(secret, b"portal-console audit event", previous, "\n", content)


def _checkpoint_mac(
    secret: bytes, database_id: str, last_seq: int, last_event_id: int | None, last_hash: str | None
) -> str:
    fields = {
        "database_id": database_id,
        "last_event_id": last_event_id,
        "last_hash": last_hash,
        "last_seq": last_seq,
    }
    return _mac(secret, b"portal-console audit checkpoint", _canonical_json(fields))


def _head_mac(secret: bytes, head: AuditChainHead | Row[Any]) -> str:
    return _checkpoint_mac(
        secret, head.database_id, head.last_seq, head.last_event_id, head.last_hash
    )


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


# --- the verifier ------------------------------------------------------------------------


class _Bad(Exception):
    def __init__(self, event_id: int | None, problem: str) -> None:
        super().__init__(problem)
        self.event_id, self.problem = event_id, problem


def _verify(connection: Connection, key: AuditKey) -> ChainReport:
    good = 0

    def report(event_id: int | None, problem: str | None) -> ChainReport:
        return ChainReport(
            ok=problem is None,
            events=good,
            first_bad_id=event_id,
            problem=problem,
            key_label=key.label,
            tamper_proof=key.tamper_proof,
        )

    # The head first: events appended while the walk runs are then simply more events.
    # The walk goes in id order: in a sound chain it is the seq order (appenders draw both
    # under the head's lock), and an event whose seq was altered is then named itself.
    head = _head_row(connection)
    if head is None:
        return report(None, "the audit log's head row is missing (deleted)")
    sealed = head.head_mac is not None and hmac.compare_digest(
        str(head.head_mac), _head_mac(key.secret, head)
    )
    previous = _genesis(key.secret, head.database_id)
    previous_id: int | None = None
    try:
        for row in _rows(connection):
            _check_row(row, good + 1, previous, previous_id, key.secret)
            if sealed and row.seq == head.last_seq and row.chain_hash != head.last_hash:
                raise _Bad(row.id, "it is not the event that the checkpoint recorded")
            good += 1
            previous, previous_id = row.chain_hash, row.id
    except _Bad as bad:
        return report(bad.event_id, bad.problem)

    if head.head_mac is None:
        if head.last_seq == 0 and good == 0:
            # Empty is right only for a database nobody has used yet: adding a staff user
            # is always recorded, so an empty log beside staff users was emptied.
            if connection.scalar(select(StaffUser.id).limit(1)) is None:
                return report(None, None)
            return report(
                None,
                "the log is empty although staff users exist (adding each of them was "
                "recorded): its events and checkpoint were removed",
            )
        return report(None, "the checkpoint was removed (the head row has no seal)")
    if not sealed:
        return report(None, "the checkpoint was edited (or this is not the log's key)")
    if good < head.last_seq:
        return report(
            None,
            "the chain is shorter than its last recorded checkpoint: it ends "
            + (f"at event {previous_id} (no. {good})" if previous_id is not None else "empty")
            + f", but the checkpoint records {head.last_seq} events, the last being event "
            f"{head.last_event_id}: the events after "
            + (f"event {previous_id}" if previous_id is not None else "the start")
            + " were removed",
        )
    return report(None, None)


def _head_row(connection: Connection) -> Row[Any] | None:
    head = AuditChainHead.__table__
    return connection.execute(select(head).where(head.c.id == HEAD_ID)).first()


def _rows(connection: Connection) -> Iterator[Row[Any]]:
    table = AuditEvent.__table__
    occurred_at: Any = table.c.occurred_at
    if connection.dialect.name == "sqlite":
        # The stored text, parsed in _check_row: an edited, unparseable time is then a bad
        # row to report, not an exception half-way through the walk.
        occurred_at = type_coerce(occurred_at, String)
    query = select(
        table.c.id,
        table.c.seq,
        occurred_at.label("occurred_at"),
        *(table.c[name] for name in _CHAINED),
        table.c.chain_hash,
    ).order_by(table.c.id)
    rows: Result[Any] = connection.execution_options(yield_per=_VERIFY_BATCH).execute(query)
    yield from rows


def _check_row(
    row: Row[Any], expected_seq: int, previous: str, previous_id: int | None, secret: bytes
) -> None:
    """Raise ``_Bad`` unless ``row`` is the next link of the chain."""
    seq = row.seq
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise _Bad(row.id, "its sequence number was overwritten")
    if seq != expected_seq:
        after = f"after event {previous_id}" if previous_id is not None else "first"
        raise _Bad(
            row.id,
            f"it is numbered {seq} in the chain, but no. {expected_seq} comes {after}: "
            + (
                "events before it were removed, or it was renumbered or moved"
                if seq > expected_seq
                else "it was renumbered or moved"
            ),
        )
    if not row.chain_hash:
        raise _Bad(row.id, "it has no chain hash (written before the log was chained)")
    try:
        occurred_at = row.occurred_at
        if isinstance(occurred_at, str):
            occurred_at = dt.datetime.fromisoformat(occurred_at)
            if occurred_at.tzinfo is None:
                occurred_at = occurred_at.replace(tzinfo=dt.UTC)
        expected = _link(secret, previous, _content(seq, occurred_at, row._mapping))
    except (TypeError, ValueError, AttributeError):
        raise _Bad(row.id, "its content is unreadable (it was overwritten)") from None
    if not hmac.compare_digest(str(row.chain_hash), expected):
        raise _Bad(
            row.id,
            "its content does not match its chain hash: it was edited, or the chain is "
            "checked with another key",
        )


__all__ = [
    "AuditKeyMismatch",
    "AuditTrail",
    "ChainReport",
    "canonical_details",
    "verify_chain",
    "workstation_name",
]
