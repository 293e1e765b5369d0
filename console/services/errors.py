"""Refusals a person can cause and fix, each with a message written for the front desk.

A view shows ``str(error)`` next to the field it concerns; the CLI prints it on one line.
Messages never name a password, and are not meant for application logs (they may name an
e-mail address or a username the member of staff just typed or is looking at).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

if TYPE_CHECKING:
    from console.services.email_rules import Holder


class DomainError(Exception):
    """A rule said no. ``message`` (also ``str(error)``) is the sentence to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class WeakPassword(DomainError, ValueError):
    """A new password breaks the password policy; ``problems`` lists every unmet rule."""

    def __init__(self, message: str, problems: tuple[str, ...]) -> None:
        super().__init__(message)
        self.problems = problems


class InvalidEmail(DomainError, ValueError):
    """The text is not an e-mail address that mail can be sent to."""


class EmailTaken(DomainError):
    """The address already belongs to an active account or a pending invitation;
    ``holders`` says which."""

    def __init__(self, message: str, holders: tuple[Holder, ...]) -> None:
        super().__init__(message)
        self.holders = holders


class InvalidSetting(DomainError, ValueError):
    """A setting would loosen a rule below what the migration requires, or is out of range."""


STALE_RECORD_MESSAGE = (
    "This record was changed by someone else in the meantime — reload it and try again."
)


class StaleRecord(DomainError):
    """A row changed (or vanished) between reading it and writing it: another workstation
    or another login got there first. Nothing was written."""

    def __init__(self, message: str = STALE_RECORD_MESSAGE) -> None:
        super().__init__(message)


@contextmanager
def changed_elsewhere() -> Iterator[None]:
    """Turn SQLAlchemy's optimistic-locking failure (an UPDATE that found another
    ``version``), and a transaction the database gave up on because another one held what it
    needed (a deadlock, a serialization failure, SQLite still busy after its timeout), into a
    ``StaleRecord``. Use it around the flush or commit of a write."""
    try:
        yield
    except StaleDataError:
        raise StaleRecord() from None
    except OperationalError as error:
        if not _lost_a_race(error):
            raise
        raise StaleRecord() from None


#: PostgreSQL's deadlock_detected and serialization_failure: the database gave up on one of
#: two transactions that waited for each other; retrying after a reload is the answer.
_RACE_SQLSTATES = frozenset({"40P01", "40001"})


def _lost_a_race(error: OperationalError) -> bool:
    code = getattr(error.orig, "sqlstate", None)
    return code in _RACE_SQLSTATES or "database is locked" in str(error.orig)


def is_storable(text: str) -> bool:
    """Whether ``text`` can be bound as a database parameter: no NUL (PostgreSQL refuses
    it) and no lone surrogate (neither driver can encode it)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


__all__ = [
    "STALE_RECORD_MESSAGE",
    "DomainError",
    "EmailTaken",
    "InvalidEmail",
    "InvalidSetting",
    "StaleRecord",
    "WeakPassword",
    "changed_elsewhere",
    "is_storable",
]
