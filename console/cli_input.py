"""What the command line accepts, checked before a database is opened: whole numbers within
the range a command can use, a search no longer than anything it could find, text that a
keyboard types, and no secret in an argument.

A secret is never an argument because other users of the computer see every command line
in the process list, and the shell keeps it in its history: passwords, an invitation's
token and PIN are read from standard input (``console.cli_workstation``), and a database
password in ``--db`` is refused (PGPASSWORD, ``~/.pgpass`` or ``PORTAL_CONSOLE_DB`` hold
it instead).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from console.cli_workstation import CommandRefused
from console.services.errors import is_storable

#: The longest search the account list answers: longer than any name, e-mail address (254)
#: or MRN, and far inside what the database can search for (SQLite refuses a LIKE pattern
#: of 50,000 bytes, or a thousand words, half-way through the answer).
SEARCH_MOST_CHARACTERS = 256
#: The most rows a list may be limited to: more than any clinic has.
LIMIT_MOST = 1_000_000_000
#: The largest demo clinic: ten times the benchmark's million accounts.
DEMO_PATIENTS_MOST = 10_000_000
#: The longest pause between two rounds of the mail relay: a day.
INTERVAL_MOST_SECONDS = 86_400.0


def whole_number(least: int | None = None, most: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from ``least`` to ``most`` (either may be open)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:  # also: more digits than Python converts (4,300)
            raise argparse.ArgumentTypeError(f"'{_shown(text)}' is not a whole number") from None
        if least is not None and value < least:
            raise argparse.ArgumentTypeError(f"must be at least {least:,}")
        if most is not None and value > most:
            raise argparse.ArgumentTypeError(f"must be at most {most:,}")
        return value

    return parse


def seconds(text: str) -> float:
    """An argparse type: a pause in seconds, more than 0 and at most a day."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{_shown(text)}' is not a number of seconds") from None
    if not math.isfinite(value) or not 0 < value <= INTERVAL_MOST_SECONDS:
        raise argparse.ArgumentTypeError(
            f"must be more than 0 and at most {INTERVAL_MOST_SECONDS:,.0f} seconds"
        )
    return value


def search_text(text: str) -> str:
    """An argparse type: the words of a search, at most ``SEARCH_MOST_CHARACTERS`` long."""
    if len(text) > SEARCH_MOST_CHARACTERS:
        raise argparse.ArgumentTypeError(
            f"a search may be at most {SEARCH_MOST_CHARACTERS} characters long"
        )
    return text


def check_arguments(args: argparse.Namespace) -> None:
    """Refuse text no keyboard types and a database password given as an argument, before
    anything is opened."""
    for name, value in vars(args).items():
        # A NUL, or a lone surrogate from a badly encoded argument: a database would fail
        # on it half-way.
        if isinstance(value, str) and not is_storable(value):
            raise CommandRefused(
                f"The {name.replace('_', ' ')} given contains characters that cannot be used."
            )
    if _has_password(getattr(args, "db", None)):
        raise CommandRefused(
            "Leave the password out of --db: other users of this computer can see a command "
            "line. Give it in PGPASSWORD or ~/.pgpass, or in PORTAL_CONSOLE_DB."
        )


def _has_password(db: str | None) -> bool:
    if not db or "://" not in db:
        return False
    try:
        return make_url(db).password is not None
    except (ArgumentError, ValueError):  # not a URL: opening it will say so
        return False


def _shown(text: str) -> str:
    """``text`` as a refusal quotes it: cut short when long (a refusal stays one line a
    person can read)."""
    return text if len(text) <= 40 else text[:40] + "…"


__all__ = [
    "DEMO_PATIENTS_MOST",
    "LIMIT_MOST",
    "SEARCH_MOST_CHARACTERS",
    "check_arguments",
    "search_text",
    "seconds",
    "whole_number",
]
