"""The tables of SPEC §2.

Every row staff can change carries a ``version`` column that SQLAlchemy uses for optimistic
locking, so a change made from another workstation in the meantime is detected instead of
silently overwritten. Every timestamp is stored and returned as an aware UTC datetime.
The schema itself is created and upgraded only by the Alembic migrations beside this module;
a test checks that the migrations and these classes agree.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, validates

from console.models.email_key import email_key
from console.models.states import (
    AccessRelation,
    AccountState,
    InvitationState,
    OutboxKind,
    OutboxState,
    StaffRole,
)

EMAIL_LENGTH = 320
NAME_LENGTH = 100
#: Room for the identifiers EHRs use as MRNs (Synthea and others: a 36-character UUID).
MRN_LENGTH = 64
SORT_NAME_LENGTH = 2 * NAME_LENGTH + 1
USERNAME_LENGTH = 150


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(value: str) -> str:
    """``value`` as SQLite's ``lower()`` gives it (without the ICU extension): only the ASCII
    letters lower-cased. Its ``LIKE`` ignores the case of those letters only, too."""
    return value.translate(_ASCII_LOWER)


def sort_name(first_name: str, last_name: str) -> str:
    """``PortalAccount.sort_name`` of an account held by ``first_name last_name``, as the
    database computes it on SQLite (lower-cased last name, a unit separator, lower-cased first
    name). A bulk loader that passes it spares the database correcting every new row."""
    return f"{ascii_lower(last_name)}\x1f{ascii_lower(first_name)}"


def utc_now() -> dt.datetime:
    """The current time as an aware UTC datetime (the default for ``created_at`` columns)."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that is always UTC: naive values are refused when written, and values read
    back are aware, on SQLite (which stores text) as on PostgreSQL (``timestamptz``)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must carry a time zone")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # pragma: no cover - SQLite hands back datetimes already
            value = dt.datetime.fromisoformat(value)
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _in(column: str, values: tuple[str, ...] | type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so every constraint has a stable name that
    migrations can refer to on SQLite and PostgreSQL alike."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {dt.datetime: UTCDateTime()}


class Versioned:
    """Optimistic locking: an UPDATE that finds another version raises StaleDataError."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    __mapper_args__ = {"version_id_col": version}


class Patient(Versioned, Base):
    """The clinic's record of a person (their chart)."""

    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    mrn: Mapped[str] = mapped_column(String(MRN_LENGTH), unique=True)
    first_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    last_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    contact_email: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    mobile_phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utc_now, onupdate=utc_now)

    __table_args__ = (Index(None, "last_name", "first_name", "id"),)


class PortalAccount(Versioned, Base):
    """A patient-portal login. ``shared_email`` and ``sort_name`` are maintained by database
    triggers (see the migrations) so they are right after every change, whoever makes it."""

    __tablename__ = "portal_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The chart of the person who holds this login.
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    username: Mapped[str] = mapped_column(String(USERNAME_LENGTH))
    username_key: Mapped[str] = mapped_column(String(USERNAME_LENGTH), unique=True)
    login_email: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    email_key: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH), index=True)
    shared_email: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    state: Mapped[str] = mapped_column(String(20), default=AccountState.LEGACY, index=True)
    password_hash: Mapped[str | None] = mapped_column(String(100))
    security_stamp: Mapped[str] = mapped_column(String(64))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None]
    last_login_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    intake_form_count: Mapped[int] = mapped_column(Integer, default=0)
    revoked_at: Mapped[dt.datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(String(40))
    revoke_note: Mapped[str | None] = mapped_column(Text)
    #: The SHA-256 of the link in the newest reset e-mail sent, and when that link expires.
    reset_token_hash: Mapped[str | None] = mapped_column(String(64), index=True, unique=True)
    reset_token_expires_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utc_now, onupdate=utc_now)
    #: The holder's name as the account list sorts it: lower-cased last name, a unit
    #: separator, lower-cased first name. Written by the database from the chart (migration
    #: 0002), also when the chart is renamed; a loaded account sees it after a commit.
    sort_name: Mapped[str] = mapped_column(
        String(SORT_NAME_LENGTH), server_default=text("''"), server_onupdate=FetchedValue()
    )

    __table_args__ = (
        CheckConstraint(_in("state", AccountState), name="state"),
        CheckConstraint("failed_logins >= 0", name="failed_logins"),
        CheckConstraint("message_count >= 0 AND intake_form_count >= 0", name="held_counts"),
        # The shared-e-mail clusters, from the index alone.
        Index(None, "shared_email", "email_key", "username"),
        # Windows of the list, read from an index alone (console.models.account_list).
        Index(None, "sort_name", "id"),
        Index(None, "state", "sort_name", "id"),
        Index(None, "shared_email", "sort_name", "id"),
        Index(None, "shared_email", "id"),
    )

    @validates("login_email")
    def _keep_email_key(self, _key: str, value: str | None) -> str | None:
        self.email_key = email_key(value)
        return value

    @validates("username")
    def _keep_username_key(self, _key: str, value: str) -> str:
        self.username_key = value.strip().casefold()
        return value


class Access(Versioned, Base):
    """An account's right to see a chart, and who granted or ended it."""

    __tablename__ = "access"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("portal_accounts.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    relation: Mapped[str] = mapped_column(String(10))
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    granted_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    revoked_at: Mapped[dt.datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    revoke_reason: Mapped[str | None] = mapped_column(String(40))

    __table_args__ = (CheckConstraint(_in("relation", AccessRelation), name="relation"),)


class Invitation(Versioned, Base):
    """An offer to a chart to create a new account. Only hashes of the token and PIN are
    kept; the token hash is filled in when the invitation e-mail is actually sent."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    target_email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    email_key: Mapped[str] = mapped_column(String(EMAIL_LENGTH), index=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    pin_hash: Mapped[str] = mapped_column(String(100))
    pin_failures: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(20), default=InvitationState.PENDING, index=True)
    expires_at: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    accepted_at: Mapped[dt.datetime | None]
    accepted_account_id: Mapped[int | None] = mapped_column(ForeignKey("portal_accounts.id"))
    cancelled_at: Mapped[dt.datetime | None]
    #: The guardian and proxy links of the account this invitation replaces, as JSON
    #: ``[{"patient_id": 7, "relation": "guardian"}]``: accepting restores them.
    carried_links: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (CheckConstraint(_in("state", InvitationState), name="state"),)

    @validates("target_email")
    def _keep_email_key(self, _key: str, value: str) -> str:
        self.email_key = email_key(value) or ""
        return value


class StaffUser(Versioned, Base):
    """A person who signs in to the console."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(150))
    username_key: Mapped[str] = mapped_column(String(150), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(100))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None]
    last_login_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)

    __table_args__ = (CheckConstraint(_in("role", StaffRole), name="role"),)

    @validates("username")
    def _keep_username_key(self, _key: str, value: str) -> str:
        self.username_key = value.strip().casefold()
        return value


class AuditEvent(Base):
    """One staff action or security event. Append-only: nothing in the application updates
    or deletes these rows, so they carry no version.

    Rows are written only by ``console.services.audit.trail.AuditTrail``: ``seq`` numbers them
    1, 2, 3 … in the order they were chained, and ``chain_hash`` is the keyed hash (HMAC-SHA-256)
    of the previous row's hash and this row's content, so that an edit, a removal or a
    reordering is found by ``verify_chain``. The key is never stored here.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(default=utc_now, index=True)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    staff_username: Mapped[str | None] = mapped_column(String(150))
    workstation: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(20))
    details: Mapped[str] = mapped_column(Text, default="{}")
    chain_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index(None, "target_type", "target_id"),)


class AuditChainHead(Base):
    """The one row (``id`` 1) that says where the audit chain ends: its last ``seq``, the id
    and hash of that event, and ``head_mac``, a keyed checkpoint over them, so that removing
    the last events is found too. Appenders lock this row, so two writers never fork the chain.

    ``database_id`` names this database's audit key in the keyring. ``demo_key`` (hex) is set
    only in demo databases, whose audit log is therefore not tamper-proof; a real database
    never holds its own key. Created by migration 0003.
    """

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    database_id: Mapped[str] = mapped_column(String(32))
    last_seq: Mapped[int] = mapped_column(Integer)
    last_event_id: Mapped[int | None] = mapped_column(Integer)
    last_hash: Mapped[str | None] = mapped_column(String(64))
    head_mac: Mapped[str | None] = mapped_column(String(64))
    demo_key: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("last_seq >= 0", name="last_seq"),
    )


class OutboxMessage(Versioned, Base):
    """An e-mail written in the same transaction as the action that caused it."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    to_email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("portal_accounts.id"), index=True)
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default=OutboxState.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    sent_at: Mapped[dt.datetime | None]
    #: A relay is sending it until then; after that another relay may take it over.
    claimed_until: Mapped[dt.datetime | None]

    __table_args__ = (
        CheckConstraint(_in("kind", OutboxKind), name="kind"),
        CheckConstraint(_in("state", OutboxState), name="state"),
        Index(None, "state", "next_attempt_at"),
    )


__all__ = [
    "USERNAME_LENGTH",
    "Access",
    "AuditChainHead",
    "AuditEvent",
    "Base",
    "Invitation",
    "OutboxMessage",
    "Patient",
    "PortalAccount",
    "StaffUser",
    "ascii_lower",
    "sort_name",
    "utc_now",
]
