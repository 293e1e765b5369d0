"""Setting up and keeping a clinic's database, headless: ``init`` (issue 13, point 0),
``fix-permissions``, ``backup`` and ``restore`` (issue 14, points 2 and 3).

``init`` is for a clinic that starts from its EHR's export rather than from the window's
first run.
It creates the database (a SQLite file, or the schema in an empty PostgreSQL database), its
audit key (the one already set up for it, else a new one in the key file the settings name
or in the keyring) and the first administrator, whose password is read from standard input.
What was typed is checked before anything is created, and a database that already has staff
users or audit events is refused: ``staff add`` adds people to a clinic in use.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from console.cli_workstation import (
    Adder,
    CommandRefused,
    acting,
    command_settings,
    password_input,
    with_staff,
    workstation_for,
)
from console.models.database import resolve_database_url
from console.models.private_files import with_companions
from console.models.states import StaffRole
from console.services.audit.key import never_used
from console.services.backups import back_up, restore
from console.services.database_key import (
    create_clinic_database,
    database_file,
    encrypt_database,
    open_clinic_database,
)
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
    database = create_clinic_database(url, settings)
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
            for path in with_companions(new_file):
                path.unlink(missing_ok=True)
        raise
    database.dispose()
    print(
        f"Created the clinic database {database.display_name}: administrator {args.admin}, "
        f"audit {key.label}."
    )
    return 0


def cmd_fix_permissions(args: argparse.Namespace) -> int:
    """Make the embedded database's files readable by their owner only."""
    url = resolve_database_url(args.db, os.environ)
    database = open_clinic_database(url, command_settings())
    try:
        changed = database.make_private()
    finally:
        database.dispose()
    if changed:
        print(f"Made owner-only: {', '.join(str(path) for path in changed)}.")
    else:
        print(f"Nothing to change: {database.display_name} is private already.")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    """Copy the embedded database to a new, owner-only file, checked (an administrator)."""
    with workstation_for(args) as workstation:
        done = back_up(workstation, acting(workstation, args.staff), Path(args.out))
    print(f"Backup written and checked: {done.path} ({done.size:,} bytes, SHA-256 {done.sha256}).")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Put a checked backup in the place of the embedded database (an administrator)."""
    if not args.yes:
        if not sys.stdin.isatty():
            raise CommandRefused(
                "A restore replaces every record with the backup's: add --yes to confirm."
            )
        answer = input(f"Replace every record with those of {args.backup}? Type yes: ")
        if answer.strip().casefold() != "yes":
            raise CommandRefused("Nothing was restored.")
    with workstation_for(args) as workstation:
        done = restore(workstation, acting(workstation, args.staff), Path(args.backup))
    print(f"Restored {done.path} ({done.audit_events:,} audit events checked).")
    return 0


def cmd_encrypt(args: argparse.Namespace) -> int:
    """Encrypt a plain clinic database in place, after a verified backup (an administrator)."""
    settings = command_settings()
    with workstation_for(args, settings) as workstation:
        made = encrypt_database(
            workstation, acting(workstation, args.staff), settings, backup=Path(args.backup)
        )
    print(
        f"Encrypted {workstation.database.display_name}. The plain backup made first is "
        f"{made.path}: keep it somewhere safe, or delete it once the console works."
    )
    return 0


def _new_sqlite_file(url: str) -> Path | None:
    """The SQLite file ``url`` names when it does not exist yet (this command makes it)."""
    try:
        path = database_file(url)
        return None if path is None or path.exists() else path
    except OSError:  # e.g. a name too long for the file system: opening it says so
        return None


def add_setup_commands(add: Adder) -> None:
    """``init``, ``fix-permissions``, ``backup`` and ``restore``, added to the main parser by
    ``console.cli``."""
    init = add("init", cmd_init)
    init.add_argument("--admin", required=True, metavar="USERNAME", help="the first administrator")
    init.add_argument("--name", help="the administrator's display name (default: the username)")
    add("fix-permissions", cmd_fix_permissions)
    backup = with_staff(add("backup", cmd_backup))
    backup.add_argument("--out", required=True, metavar="FILE", help="the new backup file")
    restoring = with_staff(add("restore", cmd_restore))
    restoring.add_argument("backup", metavar="FILE", help="a backup made by 'backup'")
    restoring.add_argument("--yes", action="store_true", help="confirm replacing every record")
    encrypt = with_staff(add("encrypt", cmd_encrypt))
    encrypt.add_argument("--backup", required=True, metavar="FILE", help="the backup made first")


__all__ = ["IN_USE", "add_setup_commands"]
