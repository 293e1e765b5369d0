"""How the audit log is chained (SPEC §7): what an event's chain hash covers and how the
head row's checkpoint is sealed. One place, so that the trail that appends and the verifier
that checks can never compute it differently.

Each event's ``chain_hash`` is HMAC-SHA-256(key, previous hash ‖ canonical content), the
canonical content being sorted, compact JSON of ``seq``, ``occurred_at`` (UTC) and every other
column but the id. The first event chains from a value derived from the database's own id.
None of this is secret; the key is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row

from console.models.schema import AuditChainHead, AuditEvent

#: The columns chained besides ``seq`` and ``occurred_at``: all but the id and the hash.
CHAINED = (
    "staff_user_id",
    "staff_username",
    "workstation",
    "action",
    "target_type",
    "target_id",
    "outcome",
    "details",
)


def canonical_json(value: object) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


def utc_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def content(seq: int, occurred_at: dt.datetime, values: Mapping[Any, object]) -> str:
    """The canonical content of an event: what its chain hash covers."""
    fields = {name: values[name] for name in CHAINED}
    return canonical_json(fields | {"seq": seq, "occurred_at": utc_text(occurred_at)})


def event_content(event: AuditEvent) -> str:
    return content(event.seq, event.occurred_at, {n: getattr(event, n) for n in CHAINED})


def _mac(secret: bytes, purpose: bytes, *parts: str) -> str:
    message = purpose + b"\x00" + "".join(parts).encode("utf-8")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def genesis(secret: bytes, database_id: str) -> str:
    """What the first event chains from: bound to the database, so that events cannot be
    moved into another database kept with the same key."""
    return _mac(secret, b"portal-console audit genesis", database_id)


def link(secret: bytes, previous: str, content: str) -> str:
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
    return _mac(secret, b"portal-console audit checkpoint", canonical_json(fields))


def head_mac(secret: bytes, head: AuditChainHead | Row[Any]) -> str:
    return _checkpoint_mac(
        secret, head.database_id, head.last_seq, head.last_event_id, head.last_hash
    )


__all__ = [
    "CHAINED",
    "canonical_json",
    "content",
    "event_content",
    "genesis",
    "head_mac",
    "link",
    "utc_text",
]
