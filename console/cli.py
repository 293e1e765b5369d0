"""The ``portal-console`` command: the window by default, and headless commands for scripts,
support staff and our own checks. One thin function per command; bad input of any kind is one
line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import NoReturn

from console.cli_actions import add_action_commands
from console.cli_import import add_import_command
from console.cli_input import (
    DEMO_PATIENTS_MOST,
    LIMIT_MOST,
    check_arguments,
    search_text,
    whole_number,
)
from console.cli_outbox import add_outbox_commands
from console.cli_setup import add_setup_commands
from console.cli_workstation import (
    CommandRefused,
    command_settings,
    reading_patient_data,
    say_waiting,
    warn_if_exposed,
    with_staff,
)
from console.models.account_list import AccountFilter, AccountSort, SortKey, iter_account_rows
from console.models.database import Database, DatabaseUnavailable
from console.models.database import resolve_database_url as _resolve
from console.models.shared_email import account_stats, shared_email_clusters
from console.models.states import AccountState
from console.services.audit.clinic_databases import ClinicDatabases, database_address
from console.services.database_key import open_clinic_database
from console.services.errors import DomainError
from console.services.settings.file import settings_path
from console.tabular import FORMATS, Record, write_records

PROG = "portal-console"
ACCOUNT_COLUMNS = (
    "account_id",
    "username",
    "login_email",
    "state",
    "shared_email",
    "mrn",
    "patient_name",
    "birth_date",
    "last_login_at",
)


class UsageError(Exception):
    """Bad input on the command line; the message is shown as it is."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, as for every other kind of bad input (argparse would add the usage).
        self.exit(2, f"{self.prog}: {_one_line(message)} (see '{PROG} --help')\n")


def _open(args: argparse.Namespace, *, must_exist: bool = True) -> Database:
    url = _resolve(args.db, os.environ)
    database = open_clinic_database(
        url, command_settings(), must_exist=must_exist, on_wait=say_waiting
    )
    warn_if_exposed(database)
    return database


def cmd_gui(args: argparse.Namespace) -> int:
    """Open the console window."""
    from console.app import run_console  # Qt is loaded only when a window is wanted

    return run_console(_resolve(args.db, os.environ))


def cmd_demo(args: argparse.Namespace) -> int:
    """Fill an empty database with a realistic demo clinic."""
    from console.services.demo.clinic import (
        DEMO_PORTAL_PASSWORD,
        DEMO_STAFF_PASSWORD,
        DemoDataError,
        fill_demo_database,
    )
    from console.services.demo.households import DEMO_STAFF_USERNAMES

    database = _open(args, must_exist=False)
    try:
        summary = fill_demo_database(
            database, patients=args.patients, seed=args.seed, progress=_progress_printer()
        )
    except DemoDataError as error:
        raise UsageError(str(error)) from None
    finally:
        database.dispose()
    # Whatever clinic database this workstation knew at this address is gone (a demo is
    # only made in an empty one): the demo's own key may be used here from now on.
    ClinicDatabases.beside(settings_path()).forget_address(database_address(database.engine.url))
    print(
        f"Demo clinic written to {database.display_name}: "
        + ", ".join(f"{value:,} {name.replace('_', ' ')}" for name, value in _fields(summary)),
        file=sys.stderr,
    )
    print(
        "The demo database is not encrypted: it is for trying the console and training, "
        "never for real patients (a clinic's own database comes from 'init' or the window's "
        "first start, encrypted).\n"
        f"Console sign-in: {', '.join(DEMO_STAFF_USERNAMES)} with password "
        f"{DEMO_STAFF_PASSWORD}\nEvery demo portal account: password {DEMO_PORTAL_PASSWORD}",
        file=sys.stderr,
    )
    return 0


def cmd_accounts(args: argparse.Namespace) -> int:
    """List portal accounts (signed in with --staff; the reading is audited)."""
    account_filter = AccountFilter(
        search=args.search or "",
        state=AccountState(args.state) if args.state else None,
        shared_only=args.shared_email,
    )
    filters = {
        "search": args.search,
        "state": args.state,
        "shared_email": args.shared_email or None,
        "limit": args.limit,
    }
    with (
        reading_patient_data(args, "accounts", filters) as (workstation, read),
        workstation.database.engine.connect() as connection,
    ):
        rows = iter_account_rows(
            connection, account_filter, AccountSort(SortKey.ACCOUNT_ID), limit=args.limit
        )
        records = (dataclasses.asdict(row) for row in read.counted(rows))
        write_records(records, ACCOUNT_COLUMNS, args.format, sys.stdout)
    return 0


def cmd_shared_emails(args: argparse.Namespace) -> int:
    """List the shared-e-mail clusters (signed in with --staff; the reading is audited)."""
    with reading_patient_data(args, "shared-emails", {}) as (workstation, read):
        with workstation.database.engine.connect() as connection:
            clusters = shared_email_clusters(connection)
        records: Iterator[Record] = (
            {"email_key": c.email_key, "accounts": c.accounts, "usernames": ";".join(c.usernames)}
            for c in read.counted(clusters)
        )
        write_records(records, ("email_key", "accounts", "usernames"), args.format, sys.stdout)
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    """Headline figures of the migration."""
    database = _open(args)
    try:
        with database.engine.connect() as connection:
            stats = account_stats(connection)
    finally:
        database.dispose()
    storage = _storage(database)
    if args.format == "json":
        print(json.dumps(dataclasses.asdict(stats) | {"storage": storage}, indent=2))
    else:
        lines = [("Accounts", stats.accounts)]
        lines += [
            (f"  {state.replace('_', ' ').capitalize()}", n) for state, n in stats.by_state.items()
        ]
        lines += [
            ("Shared e-mail accounts", stats.shared_email_accounts),
            ("Shared e-mail clusters", stats.shared_email_clusters),
        ]
        for label, value in lines:
            print(f"{label:<24}{value:>10,}")
        print(f"{'Storage':<24}{storage}")
    return 0


def _storage(database: Database) -> str:
    """How the data is kept, as ``stats`` says it."""
    if database.engine.url.get_backend_name() != "sqlite":
        return "PostgreSQL server"
    return "encrypted (SQLCipher)" if database.encrypted else "not encrypted"


def build_parser() -> argparse.ArgumentParser:
    """The command line, with every command and option."""
    db_help = "database: a SQLite file path or URL, or postgresql://USER@HOST/NAME"
    parser = _Parser(
        prog=PROG,
        description="Portal Account Console: move a clinic's portal accounts to the new login.",
    )
    parser.add_argument("--db", metavar="URL", help=db_help)
    parser.set_defaults(handler=cmd_gui)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)

    def add(name: str, handler: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=(handler.__doc__ or "").strip())
        # Given before the command name, --db is the main parser's; a command's own default
        # must not overwrite it (SUPPRESS: only a --db given after the name sets it here).
        sub.add_argument("--db", metavar="URL", help=db_help, default=argparse.SUPPRESS)
        sub.set_defaults(handler=handler)
        return sub

    add("gui", cmd_gui)

    demo = add("demo", cmd_demo)
    demo.add_argument(
        "--patients",
        type=whole_number(1, DEMO_PATIENTS_MOST),
        default=5000,
        help="charts (default 5000)",
    )
    demo.add_argument("--seed", type=whole_number(), default=1, help="same seed, same clinic")

    accounts = with_staff(add("accounts", cmd_accounts))
    accounts.add_argument("--state", choices=[s.value for s in AccountState])
    accounts.add_argument("--shared-email", action="store_true", help="only shared e-mails")
    accounts.add_argument(
        "--search", type=search_text, metavar="TEXT", help="name, e-mail, username or MRN"
    )
    accounts.add_argument("--limit", type=whole_number(1, LIMIT_MOST), metavar="N")
    accounts.add_argument("--format", choices=FORMATS, default="table")

    with_staff(add("shared-emails", cmd_shared_emails)).add_argument(
        "--format", choices=FORMATS, default="table"
    )
    add("stats", cmd_stats).add_argument("--format", choices=("table", "json"), default="table")
    add_setup_commands(add)
    add_action_commands(add)
    add_outbox_commands(add)
    add_import_command(add)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        check_arguments(args)
        handler: Callable[[argparse.Namespace], int] = args.handler
        return handler(args)
    except (DatabaseUnavailable, UsageError, CommandRefused, DomainError) as error:
        print(f"{PROG}: {_one_line(str(error))}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `portal-console accounts | head`
        sys.stderr.close()
        return 0
    except OSError as error:
        if error.filename is None:  # not about a file named on the command line
            raise
        # A file named in an argument that the system refuses (a name too long, a folder
        # that may not be read): one line, as for any other bad input.
        print(
            f"{PROG}: Cannot use {_one_line(str(error.filename))}: {error.strerror}.",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        return 130


def _one_line(text: str) -> str:
    """``text`` with line breaks and other control characters shown escaped (a refusal may
    quote what was typed, and must stay one line)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _fields(summary: object) -> list[tuple[str, int]]:
    return [(f.name, getattr(summary, f.name)) for f in dataclasses.fields(summary)]  # type: ignore[arg-type]


def _progress_printer() -> Callable[[int, int], None]:
    interactive = sys.stderr.isatty()

    def report(done: int, total: int) -> None:
        if interactive:
            end = "\n" if done >= total else ""
            print(
                f"\rWriting demo clinic: {done:,} of {total:,} patients", end=end, file=sys.stderr
            )

    return report
