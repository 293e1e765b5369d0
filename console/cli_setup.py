"""``portal-console init``: a clinic's own, empty database, headless (issue 13, point 0) —
for a clinic that starts from its EHR's export rather than from the window's first run.

It creates the database (a SQLite file, or the schema in an empty PostgreSQL database), its
audit key (the one already set up for it, else a new one in the key file the settings name
or in the keyring) and the first administrator, whose password is read from standard input.
What was typed is checked before anything is created, and a database that already has staff
users or audit events is refused: ``staff add`` adds people to a clinic in use.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from sqlalchemy.engine import make_url

from console.cli_workstation import (
    Adder,
    CommandRefused,
    command_settings,
    password_input,
)
from console.models.database import open_database, resolve_database_url
from console.models.states import StaffRole
from console.services.audit.key import never_used
from console.services.staff.users import add_staff_user, check_new_staff_user
from console.services.workstation_setup import build_workstation, set_up_audit_key

IN_USE = (
    "This database is already in use (it has staff users or audit events): 'init' only sets "
    "up a new clinic database. Add people with 'portal-console staff add'."
)


def cmd_init(args: argparse.Namespace) -> int:
    """Create a clinic's own database, its audit key and its first administrator."""
    settings = command_settings()
    password = password_input(f"Password for {args.admin}")
    # Checked before anything exists: a refused name or password creates no database.
    check_new_staff_user(
        args.admin, password, args.name, min_length=settings.to_rules().staff_password_length
    )
    url = resolve_database_url(args.db, os.environ)
    new_file = _new_sqlite_file(url)
    database = open_database(url, must_exist=False)
    try:
        if not never_used(database):
            raise CommandRefused(IN_USE)
        key = set_up_audit_key(database, settings)
        workstation = build_workstation(database, settings)
        add_staff_user(
            workstation, None, args.admin, StaffRole.ADMIN, password, display_name=args.name
        )
    except BaseException:
        database.dispose()
        if new_file is not None:  # made by this command: leave nothing half set up
            for path in (new_file, *(Path(f"{new_file}{end}") for end in ("-wal", "-shm"))):
                path.unlink(missing_ok=True)
        raise
    database.dispose()
    print(
        f"Created the clinic database {database.display_name}: administrator {args.admin}, "
        f"audit {key.label}."
    )
    return 0


def _new_sqlite_file(url: str) -> Path | None:
    """The SQLite file ``url`` names when it does not exist yet (this command makes it)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    path = Path(parsed.database)
    try:
        return None if path.exists() else path
    except OSError:  # e.g. a name too long for the file system: opening it says so
        return None


def add_setup_commands(add: Adder) -> None:
    """``init``, added to the main parser by ``console.cli``."""
    init = add("init", cmd_init)
    init.add_argument("--admin", required=True, metavar="USERNAME", help="the first administrator")
    init.add_argument("--name", help="the administrator's display name (default: the username)")


__all__ = ["IN_USE", "add_setup_commands"]
