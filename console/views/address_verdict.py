"""Where a typed e-mail address stands for a new invitation, without Qt: empty, being
checked, not valid, taken, only a likely variant of another, free — and the words the
re-issue dialog shows for each."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from console.services.email_rules import NewAddress
from console.services.errors import DomainError, EmailTaken, InvalidEmail


class AddressState(Enum):
    """Where the typed address stands."""

    EMPTY = "empty"
    CHECKING = "checking"
    INVALID = "invalid"
    TAKEN = "taken"
    WARNING = "warning"
    FREE = "free"
    #: The check itself failed (not allowed, database unreachable).
    UNCHECKED = "unchecked"


#: The states in which an invitation may be issued.
ISSUABLE = frozenset({AddressState.FREE, AddressState.WARNING})


@dataclass(frozen=True)
class AddressVerdict:
    """What to show next to the e-mail field: the state and its words. ``detail`` is the
    service's whole sentence (a tooltip)."""

    state: AddressState
    words: str
    detail: str = ""


def taken_words(error: EmailTaken) -> str:
    """ "Taken by the active portal account 'jdoe'" (and how many others)."""
    if not error.holders:
        return error.message
    first = error.holders[0].describe()
    more = len(error.holders) - 1
    return f"Taken by {first}" + (f" and {more} more" if more else "")


def verdict_for(address: NewAddress) -> AddressVerdict:
    """The verdict on an address the service accepted."""
    if address.warning is None:
        return AddressVerdict(
            AddressState.FREE, "Free — no account or invitation uses this address."
        )
    others = ", ".join(f"{h.address} ({h.describe()})" for h in address.variants)
    return AddressVerdict(
        AddressState.WARNING,
        f"Probably the same mailbox as {others}. Check with the patient; you may still issue.",
        address.warning,
    )


def refused_verdict(error: DomainError) -> AddressVerdict:
    """The verdict on an address the service refused (or could not check)."""
    if isinstance(error, InvalidEmail):
        return AddressVerdict(
            AddressState.INVALID, f"Not a valid address: {error.message}", error.message
        )
    if isinstance(error, EmailTaken):
        return AddressVerdict(AddressState.TAKEN, taken_words(error), error.message)
    return AddressVerdict(
        AddressState.UNCHECKED, f"Could not check: {error.message}", error.message
    )


__all__ = [
    "ISSUABLE",
    "AddressState",
    "AddressVerdict",
    "refused_verdict",
    "taken_words",
    "verdict_for",
]
