"""Checking the audit log (SPEC §7): walk the chain, recompute every link, and name the
first event that was edited, removed or reordered, or a chain that does not end where its
sealed checkpoint says. ``portal-console audit verify`` prints the summary.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Result, Row, String, select, type_coerce

from console.models.database import Database
from console.models.schema import AuditChainHead, AuditEvent, StaffUser
from console.services.audit.chain import CHAINED, content, genesis, head_mac, link
from console.services.audit.key import DEMO_LABEL, HEAD_ID, AuditKey

#: Rows fetched at a time by the verifier: memory stays flat for millions of events.
_VERIFY_BATCH = 2000


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
    its last recorded checkpoint, or — checked with a real key — a head row holding a demo
    key. Streams the rows: memory stays flat for millions."""
    if isinstance(database_or_connection, Database):
        with database_or_connection.engine.connect() as connection:
            return _verify(connection, key)
    return _verify(database_or_connection, key)


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
        str(head.head_mac), head_mac(key.secret, head)
    )
    previous = genesis(key.secret, head.database_id)
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

    if key.tamper_proof and head.demo_key is not None:
        # Only a demo database keeps its key inside itself; one kept with a real key never.
        return report(
            None,
            "the head row holds a demo key, which a clinic database never has: someone who "
            "can write to the database put it there, to pass its log off as a demo's",
        )
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
        *(table.c[name] for name in CHAINED),
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
        expected = link(secret, previous, content(seq, occurred_at, row._mapping))
    except (TypeError, ValueError, AttributeError):
        raise _Bad(row.id, "its content is unreadable (it was overwritten)") from None
    if not hmac.compare_digest(str(row.chain_hash), expected):
        raise _Bad(
            row.id,
            "its content does not match its chain hash: it was edited, or the chain is "
            "checked with another key",
        )


__all__ = ["ChainReport", "verify_chain"]
