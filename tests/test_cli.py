"""The headless commands, as scripts and support staff use them."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import bcrypt
import pytest
from sqlalchemy.orm import Session

from console.cli import ACCOUNT_COLUMNS, main
from console.models.database import Database
from console.models.email_key import email_key
from console.models.states import ACTIVE_STATES, AccountState, StaffRole
from console.services.demo.clinic import DEMO_STAFF_PASSWORD
from tests.factories import add_account, add_patient
from tests.services.conftest import STAFF_PASSWORD, add_staff

AUDIT_KEY_HEX = hashlib.sha256(b"cli test audit key").hexdigest()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def clinic(database: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    """Five accounts: two sharing an address (typed differently), one revoked on it too;
    a front-desk user ``reader`` (password from the environment) and the audit key."""
    monkeypatch.setenv("PORTAL_CONSOLE_AUDIT_KEY", AUDIT_KEY_HEX)
    monkeypatch.setenv("PORTAL_CONSOLE_STAFF_PASSWORD", STAFF_PASSWORD)
    staff_hash = bcrypt.hashpw(STAFF_PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    add_staff(database, StaffRole.FRONT_DESK, staff_hash, "reader")
    with Session(database.writer) as session, session.begin():
        mother = add_patient(session, first_name="Maria", last_name="Lopez", mrn="M100")
        son = add_patient(session, first_name="Diego", last_name="Lopez", mrn="M101")
        add_account(session, "Lopez.Family@Example.com", patient=mother, username="mlopez")
        add_account(session, " lopez.family@example.COM ", patient=son, username="dlopez")
        add_account(session, "lopez.family@example.com", AccountState.REVOKED, username="old1")
        add_account(session, "ann_100%@example.org", AccountState.MIGRATED, username="ann")
        add_account(session, None, AccountState.DEACTIVATED, username="gone")
    return database


def db_args(database: Database) -> list[str]:
    return ["--db", str(database.engine.url), "--staff", "reader"]


def test_accounts_csv_has_the_documented_columns_and_values(
    clinic: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, "accounts", *db_args(clinic), "--format", "csv")
    assert status == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert tuple(rows[0].keys()) == ACCOUNT_COLUMNS
    by_user = {row["username"]: row for row in rows}
    assert set(by_user) == {"mlopez", "dlopez", "old1", "ann", "gone"}
    assert by_user["mlopez"]["shared_email"] == "true"
    assert by_user["dlopez"]["shared_email"] == "true"
    assert by_user["old1"]["shared_email"] == "false"  # revoked accounts never share
    assert by_user["ann"]["shared_email"] == "false"
    assert by_user["mlopez"]["patient_name"] == "Maria Lopez"
    assert by_user["mlopez"]["birth_date"] == "1980-01-01"
    assert by_user["gone"]["login_email"] == ""
    assert [int(r["account_id"]) for r in rows] == sorted(int(r["account_id"]) for r in rows)


def test_accounts_filters_combine(clinic: Database, capsys: pytest.CaptureFixture[str]) -> None:
    def usernames(*options: str) -> list[str]:
        status, out, err = run(capsys, "accounts", *db_args(clinic), "--format", "json", *options)
        assert status == 0, err
        return [row["username"] for row in json.loads(out)]

    assert usernames("--shared-email") == ["mlopez", "dlopez"]
    assert usernames("--state", "revoked") == ["old1"]
    assert usernames("--search", "LOPEZ maria") == ["mlopez"]
    assert usernames("--search", "M101") == ["dlopez"]
    assert usernames("--search", "100%") == ["ann"]  # % is a literal character, not a wildcard
    assert usernames("--search", "0%@") == ["ann"]
    assert usernames("--search", "lopez", "--limit", "1") == ["mlopez"]
    assert usernames("--search", "nobody-like-this") == []


def test_accounts_json_types(clinic: Database, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "accounts", *db_args(clinic), "--format", "json", "--search", "ann")
    (row,) = json.loads(out)
    assert row["shared_email"] is False
    assert isinstance(row["account_id"], int)
    assert row["last_login_at"] is None


def test_accounts_table_is_aligned(clinic: Database, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "accounts", *db_args(clinic))
    lines = out.splitlines()
    assert status == 0
    assert lines[0].split() == list(ACCOUNT_COLUMNS)
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert len(lines) == 2 + 5
    assert lines[2].index("mlopez") == lines[0].index("username")


def test_shared_emails_lists_clusters(clinic: Database, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "shared-emails", *db_args(clinic), "--format", "csv")
    assert status == 0
    assert list(csv.DictReader(io.StringIO(out))) == [
        {"email_key": "lopez.family@example.com", "accounts": "2", "usernames": "dlopez;mlopez"}
    ]


def test_stats(clinic: Database, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "stats", "--db", str(clinic.engine.url), "--format", "json")
    assert status == 0
    assert json.loads(out) == {
        "accounts": 5,
        "by_state": {
            "legacy": 2,
            "reset_pending": 0,
            "migrated": 1,
            "revoked": 1,
            "deactivated": 1,
        },
        "shared_email_accounts": 2,
        "shared_email_clusters": 1,
        "storage": "not encrypted",
    }


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["accounts", "--staff", "x", "--db", "mysql://clinic/db"], "not supported"),
        (["accounts", "--staff", "x", "--db", "postgresql://u@127.0.0.1:1/x"], "Cannot reach"),
        (
            ["accounts", "--staff", "x", "--db", "postgresql://u:Secr3tPw@127.0.0.1:1/x"],
            "Leave the password out of --db",
        ),
        (["accounts", "--staff", "x", "--state", "lost"], "invalid choice"),
        (["accounts", "--staff", "x", "--limit", "0"], "at least 1"),
        (["accounts", "--staff", "x", "--limit", "ten"], "not a whole number"),
        (["accounts", "--format", "csv"], "required: --staff"),
        (["demo", "--patients", "-5"], "at least 1"),
        (["stats", "--format", "xml"], "invalid choice"),
        (["shred"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_status_2(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as raised:  # argparse exits; our own errors return 2
        raise SystemExit(main(argv))
    _, err = capsys.readouterr()
    assert raised.value.code == 2
    assert len(err.strip().splitlines()) == 1
    assert expected in err
    assert "Secr3tPw" not in err


def test_bad_database_files_through_the_real_command(tmp_path: Path) -> None:
    text_file = tmp_path / "notes.txt"
    text_file.write_text("this is not a database\n" * 50)
    for target in (str(text_file), str(tmp_path / "missing.db"), str(tmp_path)):
        result = subprocess.run(
            [sys.executable, "-m", "console", "accounts", "--db", target, "--staff", "x"],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert result.returncode == 2
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr
    assert text_file.read_text() == "this is not a database\n" * 50


def test_demo_is_deterministic_and_shared_emails_agree_with_the_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's check, at a size that keeps the suite quick (the README shows 20,000)."""
    monkeypatch.setenv("PORTAL_CONSOLE_STAFF_PASSWORD", DEMO_STAFF_PASSWORD)
    reader = ["--staff", "demo_front_desk"]
    exports = []
    for name in ("first.db", "second.db"):
        db = str(tmp_path / name)
        status, _, err = run(capsys, "demo", "--db", db, "--patients", "3000", "--seed", "7")
        assert status == 0, err
        assert "Demo-Console-2026!" in err and "Demo-Portal-2026" in err
        status, out, _ = run(capsys, "accounts", "--db", db, *reader, "--format", "csv")
        assert status == 0
        exports.append(out)
    assert exports[0] == exports[1]
    assert len(exports[0].splitlines()) > 2000

    rows = list(csv.DictReader(io.StringIO(exports[0])))
    groups: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        key = email_key(row["login_email"] or None)
        if key and row["state"] in ACTIVE_STATES:
            groups[key].append(row["username"])
    expected = {key: sorted(names) for key, names in groups.items() if len(names) > 1}
    _, out, _ = run(capsys, "shared-emails", "--db", db, *reader, "--format", "json")
    listed = {c["email_key"]: c["usernames"].split(";") for c in json.loads(out)}
    assert listed == expected
    assert all(c["accounts"] == len(c["usernames"].split(";")) for c in json.loads(out))
    assert {r["username"] for r in rows if r["shared_email"] == "true"} == {
        name for names in expected.values() for name in names
    }


def test_demo_refuses_a_database_with_data(
    clinic: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(clinic.engine.url)
    status, _, err = run(capsys, "demo", "--db", db, "--patients", "10")
    assert status == 2
    assert len(err.strip().splitlines()) == 1
    _, out, _ = run(capsys, "stats", "--db", db, "--format", "json")
    assert json.loads(out)["accounts"] == 5
