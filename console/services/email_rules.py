"""The e-mail rules of SPEC §5: a real validator, one owner per address, and a warning for
addresses that are probably the same mailbox.

"The same address" is decided by the comparison key (``console.models.email_key``), which is
stored in an indexed column of accounts and invitations, so "who holds this address" is one
index look-up however many accounts there are.

Same-mailbox variants (``jane.doe@gmail.com`` and ``janedoe+portal@googlemail.com``) are a
different question: they are different keys, so they do not share an account, but a message
to either reaches one person. They are found by a *mailbox key* (dots and ``+tag`` dropped
where the provider ignores them) computed here, and looked up through a few narrow prefix
ranges of the email_key index. The ranges rely on the index ordering strings by code point
(SQLite always; PostgreSQL with the C collation, as the test server uses); with another
collation a variant may be missed, which only loses a warning. A stored, indexed mailbox key
would make this one equality look-up on any collation (proposed to the lead).
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import email_validator
from sqlalchemy import ColumnElement, Connection, and_, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from console.models.email_key import email_key
from console.models.schema import EMAIL_LENGTH, Invitation, Patient, PortalAccount
from console.models.states import ACTIVE_STATES, InvitationState
from console.services.errors import EmailTaken, InvalidEmail, is_storable

#: Providers that deliver ``a.b.c@`` and ``abc@`` to one mailbox, and ignore ``+tag``.
DOT_BLIND_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
#: Providers that deliver ``name+tag@`` to ``name@``.
PLUS_TAG_DOMAINS = frozenset(
    {
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "fastmail.com",
        "fastmail.fm",
        "proton.me",
        "protonmail.com",
        "pm.me",
        "zoho.com",
    }
)
#: How many characters of a Gmail mailbox are used to narrow the index ranges. Gmail names
#: have at least 6, and a dot may sit between any two, hence up to 2**5 ranges.
_DOT_PREFIX_CHARS = 6
#: Safety bound on the rows one variant look-up reads (a one-letter mailbox would match
#: every address starting with that letter); only the warning is at stake.
_VARIANT_SCAN_LIMIT = 1000
_HOLDERS_SHOWN = 5

#: The connections the rules can read through: a Core connection or an ORM session.
Reader = Connection | Session


class HolderKind(StrEnum):
    """What an address belongs to."""

    ACCOUNT = "account"
    INVITATION = "invitation"


@dataclass(frozen=True)
class Holder:
    """An active portal account or a pending, unexpired invitation that holds an address."""

    kind: HolderKind
    id: int
    address: str
    patient_id: int
    #: The account's username (accounts only).
    username: str | None = None
    #: The invited chart's MRN and the invitation's expiry (invitations only).
    mrn: str | None = None
    expires_at: dt.datetime | None = None

    def describe(self) -> str:
        """The holder as staff know it: "the active portal account 'jdoe'"."""
        if self.kind is HolderKind.ACCOUNT:
            return f"the active portal account '{self.username}'"
        until = f", valid until {self.expires_at.date().isoformat()}" if self.expires_at else ""
        return f"a pending invitation for chart {self.mrn}{until}"


@dataclass(frozen=True)
class NewAddress:
    """An address that may be given to a new account or invitation: its display form, its
    comparison key, and any holders of what is probably the same mailbox."""

    address: str
    key: str
    variants: tuple[Holder, ...] = ()

    @property
    def warning(self) -> str | None:
        """A sentence for staff when the address looks like another holder's mailbox."""
        if not self.variants:
            return None
        others = _and([f"{h.address} ({h.describe()})" for h in self.variants])
        return (
            f"This is probably the same mailbox as {others}: the provider ignores dots or "
            "a +tag in the name. Check with the patient that the address is their own."
        )


def validate_email(text: str) -> str:
    """The address in ``text`` in its normalised display form (domain in lower case and
    Unicode), checked for syntax only (no network look-up). Raises ``InvalidEmail`` with a
    message for the front desk, and nothing else, whatever the text."""
    stripped = text.strip()
    if not stripped:
        raise InvalidEmail("Enter an e-mail address.")
    if "@" not in stripped:
        raise InvalidEmail("An e-mail address needs an @, as in name@example.org.")
    if len(stripped) > EMAIL_LENGTH:
        raise InvalidEmail(f"An e-mail address cannot be longer than {EMAIL_LENGTH} characters.")
    try:
        result = email_validator.validate_email(stripped, check_deliverability=False)
    except email_validator.EmailNotValidError as error:
        raise InvalidEmail(str(error)) from None
    except Exception:  # a validator bug must not crash a form: it is still "not valid"
        raise InvalidEmail("This is not a valid e-mail address.") from None
    return str(result.normalized)


def address_holders(
    reader: Reader, address: str, *, now: dt.datetime, limit: int = _HOLDERS_SHOWN
) -> tuple[Holder, ...]:
    """The active accounts and pending, unexpired invitations whose comparison key is the
    key of ``address`` (accounts first, oldest first, at most ``limit``)."""
    key = email_key(address)
    if key is None or not is_storable(key):
        return ()
    accounts = _accounts(reader, key, limit)
    return tuple((accounts + _invitations(reader, Invitation.email_key == key, now))[:limit])


def address_holder(reader: Reader, address: str, *, now: dt.datetime) -> Holder | None:
    """What holds ``address``: an active account, else a pending invitation, else None."""
    holders = address_holders(reader, address, now=now, limit=1)
    return holders[0] if holders else None


def check_new_address(
    reader: Reader,
    text: str,
    *,
    now: dt.datetime,
    except_account_id: int | None = None,
    except_patient_id: int | None = None,
) -> NewAddress:
    """Validate an address for a new account or invitation and make sure nobody holds it.

    Raises ``InvalidEmail``, or ``EmailTaken`` naming what holds it. An account that is
    getting the address itself (``except_account_id``) and the pending invitations of a
    chart that are about to be replaced (``except_patient_id``) do not count. Likely
    same-mailbox variants come back in ``variants``: a warning, not a refusal.
    """
    address = validate_email(text)
    key = email_key(address)
    assert key is not None  # a valid address always has one
    holders = [
        holder
        for holder in address_holders(reader, address, now=now)
        if not _excepted(holder, except_account_id, except_patient_id)
    ]
    if holders:
        raise EmailTaken(
            f"This e-mail address is already in use by {_describe_all(holders)}. "
            "Each portal account needs its own address.",
            tuple(holders),
        )
    variants = [
        holder
        for holder in mailbox_variants(reader, address, now=now)
        if not _excepted(holder, except_account_id, except_patient_id)
    ]
    return NewAddress(address, key, tuple(variants))


def mailbox_key(address: str | None) -> str | None:
    """The mailbox an address delivers to, where the provider is known to ignore parts of
    it: ``J.Doe+x@GoogleMail.com`` → ``jdoe@gmail.com``, ``jane+x@outlook.com`` →
    ``jane@outlook.com``. None for other providers (no variants are looked for)."""
    key = email_key(address)
    if key is None:
        return None
    local, at, domain = key.rpartition("@")
    if not at or not local:
        return None
    if domain in DOT_BLIND_DOMAINS:
        name = local.partition("+")[0].replace(".", "")
        return f"{name}@gmail.com" if name else None
    if domain in PLUS_TAG_DOMAINS:
        name = local.partition("+")[0]
        return f"{name}@{domain}" if name else None
    return None


def mailbox_variants(
    reader: Reader, address: str, *, now: dt.datetime, limit: int = _HOLDERS_SHOWN
) -> tuple[Holder, ...]:
    """Active accounts and pending invitations whose address is a different key but
    probably the same mailbox as ``address`` (see ``mailbox_key``)."""
    mailbox = mailbox_key(address)
    key = email_key(address)
    if mailbox is None or key is None or not is_storable(mailbox):
        return ()
    prefixes = _variant_prefixes(mailbox)
    domain = mailbox.rpartition("@")[2]
    domains = DOT_BLIND_DOMAINS if domain in DOT_BLIND_DOMAINS else {domain}

    def in_ranges(column: InstrumentedAttribute[str] | InstrumentedAttribute[str | None]) -> Any:
        # The domain test reads no index; it keeps other providers' addresses that share
        # the prefix from counting against the scan limit.
        return and_(
            or_(*(and_(column >= p, column < _just_after(p)) for p in prefixes)),
            or_(*(column.endswith(f"@{d}", autoescape=True) for d in sorted(domains))),
        )

    candidates = _accounts_in(reader, in_ranges(PortalAccount.email_key)) + _invitations(
        reader, in_ranges(Invitation.email_key), now, _VARIANT_SCAN_LIMIT
    )
    found = [
        holder
        for holder in candidates
        if email_key(holder.address) != key and mailbox_key(holder.address) == mailbox
    ]
    return tuple(found[:limit])


def _variant_prefixes(mailbox: str) -> list[str]:
    """Key prefixes under which every variant of ``mailbox`` sorts."""
    name, _, domain = mailbox.rpartition("@")
    if domain in DOT_BLIND_DOMAINS:
        head = name[:_DOT_PREFIX_CHARS]
        prefixes = []
        for dots in itertools.product(("", "."), repeat=len(head) - 1):
            prefixes.append("".join(c + d for c, d in zip(head, (*dots, ""), strict=True)))
        return prefixes
    return [f"{name}+", f"{name}@"]


def _just_after(prefix: str) -> str:
    """The smallest string greater than every string that starts with ``prefix``."""
    last = ord(prefix[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:  # surrogates cannot be bound; nothing sorts among them
        last = 0xE000
    return prefix[:-1] + chr(min(last, 0x10FFFF))


_ACCOUNT_COLUMNS = (
    PortalAccount.id,
    PortalAccount.login_email,
    PortalAccount.patient_id,
    PortalAccount.username,
    PortalAccount.state,
)


def _accounts(reader: Reader, key: str, limit: int) -> list[Holder]:
    """The active accounts whose comparison key is ``key``, oldest first."""
    rows = reader.execute(
        select(*_ACCOUNT_COLUMNS)
        .where(PortalAccount.email_key == key, PortalAccount.state.in_(ACTIVE_STATES))
        .order_by(PortalAccount.id)
        .limit(limit)
    )
    return [_account_holder(row) for row in rows]


def _accounts_in(reader: Reader, in_ranges: ColumnElement[bool]) -> list[Holder]:
    """Active accounts whose key is in the given ranges of the email_key index.

    Only the ranges go to SQL, with no ORDER BY: that leaves the email_key index as the
    planner's one good choice. (SQLite keeps no statistics here and, given a state condition
    or an ORDER BY id too, searched the state index or walked the primary key instead, reading
    most of the table.) The state is checked here, on the few rows the ranges hold."""
    rows = reader.execute(select(*_ACCOUNT_COLUMNS).where(in_ranges).limit(_VARIANT_SCAN_LIMIT))
    return sorted(
        (_account_holder(row) for row in rows if row.state in ACTIVE_STATES),
        key=lambda holder: holder.id,
    )


def _account_holder(row: Any) -> Holder:
    return Holder(HolderKind.ACCOUNT, row.id, row.login_email or "", row.patient_id, row.username)


def _invitations(
    reader: Reader, condition: ColumnElement[bool], now: dt.datetime, limit: int | None = None
) -> list[Holder]:
    """Pending, unexpired invitations whose key meets ``condition`` (on email_key), oldest
    first. State and expiry are checked here rather than in SQL, for the reason given in
    ``_accounts_in``: an address has had few invitations, so this reads a handful of rows."""
    rows = reader.execute(
        select(
            Invitation.id,
            Invitation.target_email,
            Invitation.patient_id,
            Invitation.expires_at,
            Invitation.state,
            Patient.mrn,
        )
        .join(Patient, Patient.id == Invitation.patient_id)
        .where(condition)
        .limit(limit)
    )
    return sorted(
        (
            Holder(
                HolderKind.INVITATION,
                row.id,
                row.target_email,
                row.patient_id,
                mrn=row.mrn,
                expires_at=row.expires_at,
            )
            for row in rows
            if row.state == InvitationState.PENDING and row.expires_at > now
        ),
        key=lambda holder: holder.id,
    )


def _excepted(holder: Holder, account_id: int | None, patient_id: int | None) -> bool:
    if holder.kind is HolderKind.ACCOUNT:
        return holder.id == account_id
    return holder.patient_id == patient_id


def _describe_all(holders: list[Holder]) -> str:
    """ "the active portal accounts 'mum' and 'kid', and by a pending invitation for …"."""
    usernames = [f"'{h.username}'" for h in holders if h.kind is HolderKind.ACCOUNT]
    parts = [h.describe() for h in holders if h.kind is HolderKind.INVITATION]
    if len(usernames) == 1:
        parts.insert(0, f"the active portal account {usernames[0]}")
    elif usernames:
        parts.insert(0, f"the active portal accounts {_and(usernames)}")
    return ", and by ".join(parts)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


__all__ = [
    "DOT_BLIND_DOMAINS",
    "PLUS_TAG_DOMAINS",
    "Holder",
    "HolderKind",
    "NewAddress",
    "Reader",
    "address_holder",
    "address_holders",
    "check_new_address",
    "mailbox_key",
    "mailbox_variants",
    "validate_email",
]
