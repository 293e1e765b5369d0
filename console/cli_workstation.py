"""Where a headless command acts from, and as whom: the workstation (built by the same
``build_workstation`` as the window's, under the clinic's settings) and the signed-in staff
user, with the same role checks, lock-out and audit events as the window.

The acting staff user's password comes from ``PORTAL_CONSOLE_STAFF_PASSWORD`` or is asked
for without echo on a terminal; a new password (``staff add``, ``accept``) and an
invitation's token and PIN (``accept``) are read from standard input, so that no secret is
ever on a command line, where other users of the computer and the shell's history see it.

A command that must wait for another workstation's write says so on stderr after a second
(``say_waiting``), and gives up with one line after the database's busy timeout.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TypeVar

from console.models.database import Database, resolve_database_url
from console.services.accounts.records_read import may_read, record_read
from console.services.database_key import open_clinic_database
from console.services.permissions import Actor
from console.services.settings.file import settings_path
from console.services.settings.values import ConsoleSettings, load_settings
from console.services.staff.users import sign_in
from console.services.workstation import Workstation
from console.services.workstation_setup import build_workstation

STAFF_PASSWORD_VAR = "PORTAL_CONSOLE_STAFF_PASSWORD"  # noqa: S105 - a variable's name

Adder = Callable[[str, Callable[[argparse.Namespace], int]], argparse.ArgumentParser]
_T = TypeVar("_T")


class CommandRefused(Exception):
    """Input the command cannot use; the message is shown as it is (exit status 2)."""


def command_settings() -> ConsoleSettings:
    """The clinic's settings, from the file the window reads too (``PORTAL_CONSOLE_CONFIG``
    names another)."""
    return load_settings(settings_path())


@contextmanager
def workstation_for(
    args: argparse.Namespace, settings: ConsoleSettings | None = None
) -> Iterator[Workstation]:
    """The workstation a command acts from: the database (``--db``), the clinic's settings
    (``settings``, else the settings file) with the rules they set, the audit key and the
    system clock; the database is closed when the block ends."""
    chosen = settings if settings is not None else command_settings()
    url = resolve_database_url(args.db, os.environ)
    database = open_clinic_database(url, chosen, on_wait=say_waiting)
    warn_if_exposed(database)
    try:
        yield build_workstation(database, chosen)
    finally:
        database.dispose()


def warn_if_exposed(database: Database) -> None:
    """Say once, on standard error, that the database's files can be read by others."""
    if database.exposure:
        print(f"portal-console: warning: {database.exposure}", file=sys.stderr)


def acting(workstation: Workstation, username: str) -> Actor:
    """``username`` signed in (counted, locked out and audited as in the window)."""
    password = os.environ.get(STAFF_PASSWORD_VAR)
    if password is None:
        if not sys.stdin.isatty():
            raise CommandRefused(
                f"Set {STAFF_PASSWORD_VAR} to the password of '{username}', or run the "
                "command on a terminal to be asked for it."
            )
        password = getpass.getpass(f"Password of staff user {username}: ")
    signed_in = sign_in(workstation, username, password)
    if signed_in.must_change_password:
        raise CommandRefused(
            "This staff user must choose a new password first: sign in to the console."
        )
    return signed_in.actor


class ReadRecord:
    """Who reads (``actor``) and what a reading command showed: counted as its rows go out,
    and the one record it read, if it read one."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self.rows = 0
        self.target: tuple[str, int] | None = None

    def counted(self, rows: Iterable[_T]) -> Iterator[_T]:
        """``rows``, each counted as it is handed on."""
        for row in rows:
            self.rows += 1
            yield row


@contextmanager
def reading_patient_data(
    args: argparse.Namespace, what: str, filters: Mapping[str, object]
) -> Iterator[tuple[Workstation, ReadRecord]]:
    """The workstation of a command that shows patient data, once ``--staff`` has signed in
    and may view accounts. When the block ends the audit log records the command, its
    filter and its rows; when it ends in an error, a closed pipe or Ctrl+C, what was shown
    by then."""
    if not getattr(args, "staff", None):
        raise CommandRefused(
            f"'{what}' shows patient data: give --staff USER, the member of staff reading it."
        )
    with workstation_for(args) as workstation:
        actor = acting(workstation, args.staff)
        may_read(workstation, actor)
        record = ReadRecord(actor)
        try:
            yield workstation, record
        except BaseException:
            # Whatever ended the command (a closed pipe, Ctrl+C, a failure half-way through
            # the rows), what was shown by then is recorded.
            if record.rows or record.target:
                record_read(workstation, actor, what, filters, record.rows, target=record.target)
            raise
        record_read(workstation, actor, what, filters, record.rows, target=record.target)


def say_waiting() -> None:
    """Tell the person at the terminal why nothing happens yet: another workstation is
    writing, and this command waits for it (``open_database``'s ``on_wait``)."""
    print("Waiting for another workstation to finish writing…", file=sys.stderr, flush=True)


def secret_input(what: str) -> str:
    """A secret that must not be on a command line (an invitation's token, its PIN): asked
    for without echo on a terminal, else the next line of standard input, without the
    spaces around it (a pasted token often carries some)."""
    if sys.stdin.isatty():
        value = getpass.getpass(f"{what[0].upper()}{what[1:]}: ")
    else:
        value = sys.stdin.readline()
    value = value.strip()
    if not value:
        raise CommandRefused(
            f"No {what} was given: give it on standard input, one line each, or run the "
            "command on a terminal to be asked for it."
        )
    return value


def password_input(prompt: str, *, new: bool = True) -> str:
    """A password from standard input: typed twice without echo on a terminal (once for
    ``new=False``), else its first line."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    first = getpass.getpass(f"{prompt}: ")
    if new and getpass.getpass(f"{prompt} again: ") != first:
        raise CommandRefused("The two passwords are not the same.")
    return first


def with_staff(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``parser`` with the required ``--staff USER``: who acts, or who reads."""
    parser.add_argument("--staff", required=True, metavar="USER", help="the acting staff user")
    return parser


__all__ = [
    "STAFF_PASSWORD_VAR",
    "Adder",
    "CommandRefused",
    "ReadRecord",
    "acting",
    "command_settings",
    "password_input",
    "reading_patient_data",
    "say_waiting",
    "secret_input",
    "warn_if_exposed",
    "with_staff",
    "workstation_for",
]
