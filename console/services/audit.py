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

Where the key comes from, in order: the operating system's keyring (a secure one only), the
``PORTAL_CONSOLE_AUDIT_KEY`` environment variable, the owner-only key file named in the
settings, and, in a demo database only, the demo key stored in the database itself. Nothing
found is ``AuditKeyMissing``: the action is refused, never written unchained or under a new key.
No key material is ever logged, shown or put in an error message.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import socket
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keyring
from keyring.backends import chainer, fail, null
from sqlalchemy import Connection, Result, Row, String, select, type_coerce, update
from sqlalchemy.orm import Session

from console.models.database import APP_NAME, Database
from console.models.schema import AuditChainHead, AuditEvent
from console.services.clock import Clock
from console.services.errors import DomainError
from console.services.permissions import Actor

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

KEY_ENV_VAR = "PORTAL_CONSOLE_AUDIT_KEY"
KEYRING_SERVICE = APP_NAME
KEY_BYTES = 32
DEMO_SOURCE = "demo database"
DEMO_LABEL = "demo — not tamper-proof"
#: Rows fetched at a time by the verifier: memory stays flat for millions of events.
_VERIFY_BATCH = 2000
_HEAD_ID = 1
_LEAST_DISTINCT_BYTES = 16
_NEW_KEY_HINT = (
    "An administrator sets one up in the console's settings; on a server or CI, put the "
    'output of  python -c "import secrets; print(secrets.token_hex(32))"  in '
    f"{KEY_ENV_VAR} or in an owner-only key file (chmod 600) named in the settings."
)


class AuditKeyMissing(DomainError):
    """No usable audit key for this database: audited actions are refused until one is set
    up. The subclasses say more precisely what is wrong."""


class AuditKeyInvalid(AuditKeyMissing):
    """A key was found but cannot be used (malformed, too short, or a key file others can
    read)."""


class NoSecureKeyring(AuditKeyMissing):
    """A key was to be kept in the keyring, but this computer has no secure keyring."""


class AuditKeyMismatch(AuditKeyMissing):
    """The key does not fit the audit log's checkpoint: it is another database's key, or
    the checkpoint was tampered with. Nothing is appended."""


class AuditLogDamaged(DomainError):
    """The audit log's head row is gone: nothing can be appended until it is restored."""


@dataclass(frozen=True)
class AuditKey:
    """The secret that chains this database's audit log, and where it came from. The secret
    never appears in ``repr``/``str`` (and so in no log line or traceback)."""

    secret: bytes = field(repr=False)
    source: str

    def __post_init__(self) -> None:
        if len(self.secret) < KEY_BYTES:
            raise ValueError(f"an audit key has at least {KEY_BYTES} bytes")

    @property
    def tamper_proof(self) -> bool:
        """False only for a demo key, which sits in the database it protects."""
        return self.source != DEMO_SOURCE

    @property
    def label(self) -> str:
        """Where the key came from, to show wherever integrity is reported."""
        if not self.tamper_proof:
            return DEMO_LABEL
        return "key from the keyring" if self.source == "keyring" else f"key from {self.source}"


def keyring_entry(database_id: str) -> str:
    """The keyring entry (user name under the service ``portal-console``) that holds the audit
    key of the database with ``database_id``."""
    return f"audit-key:{database_id}"


def is_secure_keyring(backend: KeyringBackend) -> bool:
    """Whether ``backend`` keeps secrets safely: keyring's own "recommended" level (priority 1
    or more), and never the fail, null or keyrings.alt (plain or password-file) backends. A
    chain of backends is secure only when every backend in it is."""
    if isinstance(backend, chainer.ChainerBackend):
        members = list(backend.backends)
        return bool(members) and all(is_secure_keyring(member) for member in members)
    if isinstance(backend, fail.Keyring | null.Keyring):
        return False
    if type(backend).__module__.startswith("keyrings.alt"):
        return False
    try:
        return float(backend.priority) >= 1
    except Exception:  # a backend reports "not usable here" by raising from priority
        return False


def load_audit_key(
    database: Database,
    *,
    environ: Mapping[str, str],
    key_file: Path | None = None,
    keyring_backend: KeyringBackend | None = None,
) -> AuditKey:
    """The audit key of ``database``: from the keyring (secure backends only; entry
    ``keyring_entry(database id)``), else ``PORTAL_CONSOLE_AUDIT_KEY`` in ``environ`` (hex or
    base64 of at least 32 bytes), else ``key_file`` (owner-only), else the demo key of a demo
    database. Never creates a key.

    Raises ``AuditKeyInvalid`` for a key that is found but unusable and ``AuditKeyMissing``
    when there is none; the message says where the console looked and how to set one up.
    """
    with database.engine.connect() as connection:
        head = _read_head(connection)
    backend = keyring_backend if keyring_backend is not None else keyring.get_keyring()
    entry = keyring_entry(head.database_id)
    if is_secure_keyring(backend):
        looked = f"in the system keyring under '{KEYRING_SERVICE}' / '{entry}'"
        try:
            stored = backend.get_password(KEYRING_SERVICE, entry)
        except Exception as error:  # a locked keyring, a D-Bus failure: say so, look further
            stored = None
            looked += f" (it could not be read: {type(error).__name__})"
        if stored is not None:
            return AuditKey(_decode_key(stored, "The audit key in the keyring"), "keyring")
    else:
        looked = f"not in this computer's keyring ({_backend_name(backend)}: not a secure one)"

    value = environ.get(KEY_ENV_VAR, "").strip()
    if value:
        return AuditKey(_decode_key(value, KEY_ENV_VAR), KEY_ENV_VAR)

    if key_file is not None:
        return AuditKey(_read_key_file(key_file), f"key file {key_file}")

    if head.demo_key is not None:
        return AuditKey(_decode_key(head.demo_key, "The demo audit key"), DEMO_SOURCE)

    raise AuditKeyMissing(
        "No audit key is set up for this database, so actions that must be audited are "
        f"refused. The console looked {looked} and in the {KEY_ENV_VAR} environment "
        f"variable; no key file is named in the settings. {_NEW_KEY_HINT}"
    )


def create_audit_key(
    database: Database,
    *,
    key_file: Path | None = None,
    keyring_backend: KeyringBackend | None = None,
) -> AuditKey:
    """Set up a new audit key for ``database`` (first run, settings): 32 random bytes, kept in
    ``key_file`` (created owner-only, never over an existing file) when one is named, else in
    the keyring (a secure one only: ``NoSecureKeyring`` otherwise).

    Refused when the database's audit log is already chained with a key (a new key would not
    fit it: restore the old one instead) or the keyring already holds one for it.
    """
    with database.engine.connect() as connection:
        head = _read_head(connection)
    if head.head_mac is not None:
        raise AuditKeyInvalid(
            "This database's audit log is already kept with a key; a new key would not fit "
            "it. Restore the original key (keyring, key file or "
            f"{KEY_ENV_VAR}) instead."
        )
    secret = secrets.token_bytes(KEY_BYTES)
    if key_file is not None:
        _write_key_file(key_file, secret)
        return AuditKey(secret, f"key file {key_file}")

    backend = keyring_backend if keyring_backend is not None else keyring.get_keyring()
    if not is_secure_keyring(backend):
        raise NoSecureKeyring(
            f"This computer has no secure keyring ({_backend_name(backend)}), so the audit "
            f"key cannot be kept there. Name an owner-only key file in the settings or set "
            f"{KEY_ENV_VAR} instead."
        )
    entry = keyring_entry(head.database_id)
    try:
        if backend.get_password(KEYRING_SERVICE, entry) is not None:
            raise AuditKeyInvalid(
                "The keyring already holds an audit key for this database; it was kept."
            )
        backend.set_password(KEYRING_SERVICE, entry, secret.hex())
    except AuditKeyInvalid:
        raise
    except Exception as error:
        raise NoSecureKeyring(
            f"The audit key could not be stored in the keyring ({type(error).__name__})."
        ) from None
    return AuditKey(secret, "keyring")


def install_demo_key(connection: Connection) -> bool:
    """Store a random demo key inside a new demo database (the demo loader does this in its
    own transaction). False, and nothing changed, when the audit log already has events."""
    result = connection.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == _HEAD_ID, AuditChainHead.last_seq == 0)
        .where(AuditChainHead.head_mac.is_(None))
        .values(demo_key=secrets.token_hex(KEY_BYTES))
    )
    return result.rowcount == 1


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
        head = session.get(AuditChainHead, _HEAD_ID, with_for_update=True, populate_existing=True)
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
            return report(None, None)
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
    return connection.execute(select(head).where(head.c.id == _HEAD_ID)).first()


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


# --- keys --------------------------------------------------------------------------------


def _read_head(connection: Connection) -> Row[Any]:
    head = _head_row(connection)
    if head is None:
        raise AuditLogDamaged(
            "The audit log's head row is missing, so its key cannot be found. Ask an "
            "administrator to restore the database from a backup."
        )
    return head


def _backend_name(backend: KeyringBackend) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


def _decode_key(text: str, where: str) -> bytes:
    """Hex (64 digits or more) or base64 (standard or URL-safe) of at least 32 bytes. The
    message never repeats the value."""
    value = text.strip()
    decoded: bytes | None = None
    try:
        decoded = bytes.fromhex(value)
    except ValueError:
        padded = value + "=" * (-len(value) % 4)
        for alphabet in (b"+/", b"-_"):
            try:
                decoded = base64.b64decode(padded, altchars=alphabet, validate=True)
                break
            except (binascii.Error, ValueError):
                continue
    if decoded is None:
        raise AuditKeyInvalid(
            f"{where} is not a valid audit key: it must be {2 * KEY_BYTES} hexadecimal digits "
            f"(or base64 of at least {KEY_BYTES} bytes). {_NEW_KEY_HINT}"
        )
    if len(decoded) < KEY_BYTES:
        raise AuditKeyInvalid(
            f"{where} is too short for an audit key: {len(decoded)} bytes, at least "
            f"{KEY_BYTES} are needed. {_NEW_KEY_HINT}"
        )
    # 32 random bytes hold about 30 different values; a placeholder ("000…", "zzz…", a
    # repeated word) holds a handful. The odds of a random key failing this are below 1e-12.
    if len(set(decoded)) < _LEAST_DISTINCT_BYTES:
        raise AuditKeyInvalid(
            f"{where} is not a random key (it looks like a placeholder). {_NEW_KEY_HINT}"
        )
    return decoded


def _read_key_file(path: Path) -> bytes:
    where = f"The audit key file {path}"
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):
            raise AuditKeyInvalid(f"{where} is not a file.")
        if os.name == "posix" and status.st_mode & 0o077:
            raise AuditKeyInvalid(
                f"{where} can be read by other users, so it was not used; make it readable by "
                f"its owner only (chmod 600 {path}) and check that nobody copied it."
            )
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise AuditKeyMissing(
            f"{where} named in the settings does not exist. {_NEW_KEY_HINT}"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise AuditKeyInvalid(f"{where} cannot be read ({type(error).__name__}).") from None
    return _decode_key(text, where)


def _write_key_file(path: Path, secret: bytes) -> None:
    """Write ``secret`` (hex) to a new owner-only file at ``path``: written in full beside it
    and then moved into place, so the file is never seen half-written or readable by others;
    an existing file is never replaced."""
    if path.exists():
        raise AuditKeyInvalid(f"{path} already exists; it was kept and no new key was made.")
    if not path.parent.is_dir():
        raise AuditKeyInvalid(f"The folder {path.parent} does not exist.")
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            if os.name == "posix":
                os.fchmod(file.fileno(), 0o600)
            file.write(secret.hex() + "\n")
            file.flush()
            os.fsync(file.fileno())
        os.link(temporary, path)  # fails, rather than replacing, if the file appeared meanwhile
    except FileExistsError:
        raise AuditKeyInvalid(f"{path} already exists; it was kept.") from None
    finally:
        temporary.unlink(missing_ok=True)


__all__ = [
    "DEMO_LABEL",
    "KEYRING_SERVICE",
    "KEY_ENV_VAR",
    "AuditKey",
    "AuditKeyInvalid",
    "AuditKeyMismatch",
    "AuditKeyMissing",
    "AuditLogDamaged",
    "AuditTrail",
    "ChainReport",
    "NoSecureKeyring",
    "canonical_details",
    "create_audit_key",
    "install_demo_key",
    "is_secure_keyring",
    "keyring_entry",
    "load_audit_key",
    "verify_chain",
    "workstation_name",
]
