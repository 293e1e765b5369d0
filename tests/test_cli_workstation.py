"""Where a headless command acts and as whom: ``--db`` before or after the command name,
the clinic's settings holding from the command line as from the window, and patient data
read only by a signed-in member of staff, with an audit event saying what was read."""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import re
import sys
from email import policy
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.cli import build_parser, main
from console.models.database import Database, open_database, resolve_database_url
from console.models.schema import AuditEvent, PortalAccount, StaffUser
from console.services.settings.values import ConsoleSettings, save_settings
from tests.cli import make_clinic, run
from tests.services.conftest import STAFF_PASSWORD

AUDIT_KEY_HEX = hashlib.sha256(b"cli workstation test key").hexdigest()


@pytest.fixture
def clinic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The clinic's database; the default database (``PORTAL_CONSOLE_DB``) names a file
    that does not exist, so a command that ignored ``--db`` could not succeed."""
    path = tmp_path / "clinic.db"
    make_clinic(path)
    monkeypatch.setenv("PORTAL_CONSOLE_DB", str(tmp_path / "default-missing.db"))
    monkeypatch.setenv("PORTAL_CONSOLE_CONFIG", str(tmp_path / "settings.toml"))
    monkeypatch.setenv("PORTAL_CONSOLE_AUDIT_KEY", AUDIT_KEY_HEX)
    monkeypatch.setenv("PORTAL_CONSOLE_STAFF_PASSWORD", STAFF_PASSWORD)
    return path


def events(path: Path, action: str) -> list[AuditEvent]:
    database = open_database(resolve_database_url(str(path), {}))
    try:
        with Session(database.engine) as session:
            query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
            return list(session.scalars(query))
    finally:
        database.dispose()


def opened(path: Path) -> Database:
    return open_database(resolve_database_url(str(path), {}))


# --- 1. --db before or after the command name ----------------------------------------------

#: Every command, with arguments that let it act on the clinic.
EVERY_COMMAND: dict[str, list[str]] = {
    "gui": [],
    "demo": ["--patients", "5"],
    "init": ["--admin", "boss"],
    "accounts": ["--staff", "reader"],
    "shared-emails": ["--staff", "reader"],
    "stats": [],
    "staff": ["add", "newcomer", "--role", "front_desk", "--staff", "desk"],
    "explain": ["jane", "--staff", "reader"],
    "portal-login": ["jane@example.org"],
    "revoke": ["jane", "--reason", "patient_request", "--staff", "reader"],
    "invite": ["M2", "--email", "tom@example.org", "--staff", "reader"],
    "accept": ["--dob", "1990-01-01"],
    "link": ["M2", "--account", "jane", "--relation", "guardian", "--staff", "reader"],
    "resend-reset": ["jane", "--staff", "reader"],
    "deactivate": ["jane", "--staff", "reader"],
    "audit": ["verify"],
    "outbox": ["list", "--staff", "reader"],
    "import": ["export.csv", "--dry-run", "--staff", "desk"],
    "backup": ["--out", "backup.db", "--staff", "desk"],
    "restore": ["backup.db", "--yes", "--staff", "desk"],
    "fix-permissions": [],
    "encrypt": ["--backup", "plain-backup.db", "--staff", "desk"],
}


def test_the_table_names_every_command() -> None:
    parser = build_parser()
    (commands,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(commands.choices) == set(EVERY_COMMAND)


@pytest.mark.parametrize("command", sorted(EVERY_COMMAND))
@pytest.mark.parametrize("where", ["before", "after"])
def test_every_command_reads_db_before_or_after_its_name(command: str, where: str) -> None:
    rest = EVERY_COMMAND[command]
    argv = (
        ["--db", "X.db", command, *rest] if where == "before" else [command, *rest, "--db", "X.db"]
    )
    assert build_parser().parse_args(argv).db == "X.db"


@pytest.mark.parametrize("command", sorted(set(EVERY_COMMAND) - {"gui", "demo", "init"}))
@pytest.mark.parametrize("where", ["before", "after"])
def test_every_command_acts_on_the_database_given(
    clinic: Path,
    tmp_path: Path,
    command: str,
    where: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = ["--db", str(clinic)]
    rest = EVERY_COMMAND[command]
    argv = [*db, command, *rest] if where == "before" else [command, *rest, *db]
    monkeypatch.chdir(tmp_path)  # where the import's file is, and the backup goes
    (tmp_path / "export.csv").write_text("MRN,Last Name,DOB\nM9,Lee,1990-01-01\n", "utf-8")
    if command == "restore":
        assert run(capsys, monkeypatch, *db, "backup", *EVERY_COMMAND["backup"])[0] == 0
    # A new password; for accept, a token and a PIN before it.
    stdin = ("not-a-token\n123456\n" if command == "accept" else "") + f"{STAFF_PASSWORD}-Extra1\n"
    status, _out, err = run(capsys, monkeypatch, *argv, stdin=stdin)
    assert "There is no database" not in err
    assert not (tmp_path / "default-missing.db").exists()
    # Refused or not by the clinic's own database: the token is not a real one, the portal
    # password is not given, the test clinic's staff were added without audit events, and
    # the export is not there (after 'desk' signed in to the clinic's database).
    expected = {"accept": 2, "portal-login": 3, "audit": 4}.get(command, 0)
    assert status == expected, err


@pytest.mark.parametrize("where", ["before", "after"])
def test_demo_writes_the_database_given(
    tmp_path: Path, where: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_CONSOLE_DB", str(tmp_path / "default.db"))
    target = tmp_path / "given.db"
    db = ["--db", str(target)]
    argv = (
        [*db, "demo", "--patients", "5"] if where == "before" else ["demo", "--patients", "5", *db]
    )
    status, _out, err = run(capsys, monkeypatch, *argv)
    assert status == 0, err
    assert target.exists() and not (tmp_path / "default.db").exists()


def test_a_revoke_with_db_first_changes_that_database_only(
    clinic: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    other = tmp_path / "other.db"
    make_clinic(other)
    monkeypatch.setenv("PORTAL_CONSOLE_DB", str(other))
    argv = ("--db", str(clinic), "revoke", "jane", "--reason", "other", "--note", "x")
    status, _, err = run(capsys, monkeypatch, *argv, "--staff", "reader")
    assert status == 0, err
    for path, state in ((clinic, "revoked"), (other, "legacy")):
        database = opened(path)
        with Session(database.engine) as session:
            assert session.scalars(select(PortalAccount.state)).one() == state
        database.dispose()


# --- 2. The clinic's settings hold on the command line -------------------------------------


def tighten(path: Path, **changes: object) -> None:
    save_settings(path, ConsoleSettings(**changes))  # type: ignore[arg-type]


@pytest.fixture
def default_clinic(clinic: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The clinic, as the default database of the commands."""
    monkeypatch.setenv("PORTAL_CONSOLE_DB", str(clinic))
    return clinic


def test_a_longer_staff_password_minimum_holds_for_staff_add(
    default_clinic: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argv = ("staff", "add", "nurse", "--role", "front_desk", "--staff", "desk")
    twelve = "Tide-Pool-73\n"  # the default minimum is 12 characters
    tighten(tmp_path / "settings.toml", staff_password_length=16)
    status, _, err = run(capsys, monkeypatch, *argv, stdin=twelve)
    assert status == 2 and "16" in err
    (tmp_path / "settings.toml").unlink()
    status, _, err = run(capsys, monkeypatch, *argv, stdin=twelve)
    assert status == 0, err


def test_a_shorter_lockout_holds_for_staff_sign_in(
    default_clinic: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tighten(tmp_path / "settings.toml", max_failures=2)
    monkeypatch.setenv("PORTAL_CONSOLE_STAFF_PASSWORD", "wrong password")
    for _ in range(2):
        assert run(capsys, monkeypatch, "stats")[0] == 0  # no sign-in, no count
        assert run(capsys, monkeypatch, "accounts", "--staff", "reader")[0] == 2
    monkeypatch.setenv("PORTAL_CONSOLE_STAFF_PASSWORD", STAFF_PASSWORD)
    status, out, _err = run(capsys, monkeypatch, "accounts", "--staff", "reader")
    assert status == 2 and out == ""  # locked out after two failures, not the default five
    database = opened(default_clinic)
    with Session(database.engine) as session:
        reader = session.scalars(select(StaffUser).where(StaffUser.username == "reader")).one()
        assert reader.locked_until is not None
    database.dispose()


def test_a_shorter_lockout_holds_for_portal_login(
    default_clinic: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tighten(tmp_path / "settings.toml", max_failures=2)
    for _ in range(2):
        assert run(capsys, monkeypatch, "portal-login", "jane", stdin="Wrong-Guess-1\n")[0] == 3
    database = opened(default_clinic)
    with Session(database.engine) as session:
        assert session.scalars(select(PortalAccount.locked_until)).one() is not None
    database.dispose()


def test_invitation_expiry_and_password_policy_hold_for_invite_and_accept(
    default_clinic: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tighten(
        tmp_path / "settings.toml",
        invitation_days=2,
        password_min_length=14,
        password_require_symbol=True,
        portal_name="Riverside MyChart",
        clinic_name="Riverside Family Clinic",
        clinic_phone="555-0100",
        portal_base_url="https://portal.example.org",
        smtp_sender="portal@example.org",
    )
    argv = ("invite", "M2", "--email", "tom@example.org", "--staff", "reader")
    status, out, err = run(capsys, monkeypatch, *argv)
    assert status == 0, err
    issued = json.loads(out)
    expires = dt.datetime.fromisoformat(issued["expires_at"])
    assert dt.timedelta(days=1) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(days=2)

    # The relay writes the e-mail with the clinic's own portal name.
    pickup = tmp_path / "pickup"
    pickup.mkdir()
    status, _, err = run(
        capsys, monkeypatch, "outbox", "send", "--once", "--transport", f"dir://{pickup}"
    )
    assert status == 0, err
    (eml,) = pickup.glob("*.eml")
    body = BytesParser(policy=policy.default).parsebytes(eml.read_bytes()).get_body(("plain",))
    assert body is not None and "Riverside MyChart" in body.get_content()
    link = re.search(r"token=(\S+)", body.get_content())
    assert link is not None
    token = unquote(link.group(1))

    # Meets the default policy (8+, lower, upper, digit) but not the clinic's.
    secrets = f"{token}\n{issued['pin']}\nHarbour42Lit\n"
    status, _, err = run(capsys, monkeypatch, "accept", "--dob", "1980-01-01", stdin=secrets)
    assert status == 2 and "14" in err and "symbol" in err, err


# --- 3. Patient data only for signed-in staff, and audited --------------------------------

READERS = {
    "accounts": ["accounts", "--search", "okafor"],
    "shared-emails": ["shared-emails"],
    "explain": ["explain", "jane"],
    "outbox list": ["outbox", "list", "--state", "queued"],
}


@pytest.mark.parametrize("what", sorted(READERS))
def test_a_reading_command_needs_a_signed_in_member_of_staff(
    clinic: Path, what: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = [*READERS[what], "--db", str(clinic)]
    status, out, err = run(capsys, monkeypatch, *argv)
    assert status == 2 and "--staff" in err and "Jane" not in out + err

    monkeypatch.setenv("PORTAL_CONSOLE_STAFF_PASSWORD", "not the password")
    status, out, err = run(capsys, monkeypatch, *argv, "--staff", "reader")
    assert status == 2 and out == ""
    assert [e.outcome for e in events(clinic, "staff_sign_in")][-1] != "ok"
    assert events(clinic, "records_read") == []

    monkeypatch.setenv("PORTAL_CONSOLE_STAFF_PASSWORD", STAFF_PASSWORD)
    status, out, err = run(capsys, monkeypatch, *argv, "--staff", "reader")
    assert status == 0, err
    (event,) = events(clinic, "records_read")
    assert event.staff_username == "reader"
    details = json.loads(event.details)
    assert details["what"] == what
    assert details["rows"] == {"accounts": 1, "shared-emails": 0, "explain": 1}.get(what, 0)
    if what == "accounts":
        assert details["filter"] == {"search": "okafor"} and "jane" in out
    if what == "outbox list":
        assert details["filter"] == {"state": "queued"}


def test_a_disabled_member_of_staff_reads_nothing(
    clinic: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    database = opened(clinic)
    with Session(database.writer) as session, session.begin():
        session.scalars(
            select(StaffUser).where(StaffUser.username == "reader")
        ).one().disabled = True
    database.dispose()
    status, out, _ = run(capsys, monkeypatch, "accounts", "--db", str(clinic), "--staff", "reader")
    assert status == 2 and out == ""
    assert events(clinic, "records_read") == []


def test_rows_shown_before_a_failure_are_recorded(
    clinic: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    class FailingOut(io.StringIO):
        def write(self, text: str) -> int:
            if "jane" in text:  # the first account row went out; then the output fails
                super().write(text)
                raise OSError(28, "No space left on device")
            return super().write(text)

    monkeypatch.setattr(sys, "stdout", FailingOut())
    argv = ["accounts", "--db", str(clinic), "--staff", "reader", "--format", "csv"]
    with pytest.raises(OSError):
        main(argv)
    (event,) = events(clinic, "records_read")
    assert json.loads(event.details)["rows"] == 1
