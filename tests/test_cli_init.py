"""``portal-console init``: a clinic's own empty database, its audit key and its first
administrator, headless; refused for a database in use, and nothing left half set up."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest

from console.cli_setup import IN_USE
from console.models.schema import StaffUser
from console.services.settings.values import ConsoleSettings, save_settings
from tests.cli import run
from tests.factories import count_rows

PASSWORD = "Harbour-Lights-4271"


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings that name an owner-only audit key file (a server without a keyring)."""
    settings = tmp_path / "settings.toml"
    key = tmp_path / "keys" / "audit.key"
    key.parent.mkdir()
    save_settings(settings, ConsoleSettings(audit_key_file=key))
    monkeypatch.setenv("PORTAL_CONSOLE_CONFIG", str(settings))
    monkeypatch.delenv("PORTAL_CONSOLE_DB", raising=False)
    return key


def test_init_makes_a_clinic_that_the_other_commands_can_use(
    key_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clinic = tmp_path / "clinic.db"
    argv = ("init", "--db", str(clinic), "--admin", "boss", "--name", "Office Manager")
    status, out, err = run(capsys, monkeypatch, *argv, stdin=PASSWORD + "\n")
    assert status == 0, err
    assert "administrator boss" in out and str(key_file) in out
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert count_rows(clinic, StaffUser) == 1
    assert PASSWORD not in out + err

    status, out, _ = run(capsys, monkeypatch, "--db", str(clinic), "audit", "verify")
    assert status == 0 and out.startswith("OK")
    status, out, _ = run(capsys, monkeypatch, "--db", str(clinic), "stats")
    assert status == 0 and "Storage                 encrypted (SQLCipher)" in out
    demo = tmp_path / "demo.db"
    status, _out, err = run(capsys, monkeypatch, "--db", str(demo), "demo", "--patients", "3")
    assert status == 0 and "The demo database is not encrypted" in err
    status, out, _ = run(capsys, monkeypatch, "--db", str(demo), "stats")
    assert status == 0 and "Storage                 not encrypted" in out
    monkeypatch.setenv("PORTAL_CONSOLE_STAFF_PASSWORD", PASSWORD)
    status, out, err = run(capsys, monkeypatch, "accounts", "--db", str(clinic), "--staff", "boss")
    assert status == 0, err


def test_init_refuses_a_database_in_use(
    key_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clinic = tmp_path / "clinic.db"
    argv = ("init", "--db", str(clinic), "--admin", "boss")
    assert run(capsys, monkeypatch, *argv, stdin=PASSWORD + "\n")[0] == 0
    key = key_file.read_bytes()
    status, _out, err = run(capsys, monkeypatch, *argv[:-1], "other", stdin=PASSWORD + "\n")
    assert status == 2 and IN_USE in err
    assert count_rows(clinic, StaffUser) == 1 and key_file.read_bytes() == key


@pytest.mark.parametrize(
    ("admin", "password", "said"),
    [
        ("boss", "short", "characters"),
        ("no spaces please", PASSWORD, "username"),
    ],
)
def test_bad_input_creates_nothing(
    key_file: Path,
    tmp_path: Path,
    admin: str,
    password: str,
    said: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clinic = tmp_path / "clinic.db"
    status, _out, err = run(
        capsys, monkeypatch, "init", "--db", str(clinic), "--admin", admin, stdin=password + "\n"
    )
    assert status == 2 and said in err and len(err.strip().splitlines()) == 1
    assert not clinic.exists() and not key_file.exists()


def test_without_a_place_for_the_key_nothing_is_left_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The tests' keyring is not a secure one, and no key file or variable is named.
    monkeypatch.setenv("PORTAL_CONSOLE_CONFIG", str(tmp_path / "settings.toml"))
    clinic = tmp_path / "clinic.db"
    argv = ("init", "--db", str(clinic), "--admin", "boss")
    status, _out, err = run(capsys, monkeypatch, *argv, stdin=PASSWORD + "\n")
    assert status == 2 and "keyring" in err
    assert not clinic.exists()

    # With the key in the environment (a server, CI), the same command works.
    monkeypatch.setenv("PORTAL_CONSOLE_AUDIT_KEY", hashlib.sha256(b"init test").hexdigest())
    status, out, err = run(capsys, monkeypatch, *argv, stdin=PASSWORD + "\n")
    assert status == 0, err
    assert "PORTAL_CONSOLE_AUDIT_KEY" in out


def test_db_before_the_command_name_is_the_one_made(
    key_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PORTAL_CONSOLE_DB", str(tmp_path / "default.db"))
    clinic = tmp_path / "given.db"
    argv = ("--db", str(clinic), "init", "--admin", "boss")
    assert run(capsys, monkeypatch, *argv, stdin=PASSWORD + "\n")[0] == 0
    assert clinic.exists() and not (tmp_path / "default.db").exists()


def test_init_sets_up_an_empty_postgresql_database(
    postgres_url: str,
    key_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argv = ("init", "--db", postgres_url, "--admin", "boss")
    status, out, err = run(capsys, monkeypatch, *argv, stdin=PASSWORD + "\n")
    assert status == 0, err
    status, out, _ = run(capsys, monkeypatch, "--db", postgres_url, "audit", "verify")
    assert status == 0 and out.startswith("OK")
    status, _out, err = run(capsys, monkeypatch, *argv, stdin=PASSWORD + "\n")
    assert status == 2 and IN_USE in err


def test_a_database_others_can_read_is_reported_once_and_fixed_on_request(
    key_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clinic = tmp_path / "clinic.db"
    argv = ("init", "--db", str(clinic), "--admin", "boss")
    assert run(capsys, monkeypatch, *argv, stdin=PASSWORD + "\n")[0] == 0
    assert stat.S_IMODE(clinic.stat().st_mode) == 0o600
    clinic.chmod(0o640)
    status, out, err = run(capsys, monkeypatch, "stats", "--db", str(clinic))
    assert status == 0 and out
    (warning,) = err.strip().splitlines()
    assert "can be read by other users" in warning and "fix-permissions" in warning
    status, out, err = run(capsys, monkeypatch, "fix-permissions", "--db", str(clinic))
    assert status == 0 and out.startswith("Made owner-only:") and str(clinic) in out, err
    assert stat.S_IMODE(clinic.stat().st_mode) == 0o600
    status, out, err = run(capsys, monkeypatch, "stats", "--db", str(clinic))
    assert status == 0 and err == ""


def test_backup_and_restore_from_the_command_line(
    key_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clinic = tmp_path / "clinic.db"
    assert (
        run(
            capsys,
            monkeypatch,
            "init",
            "--db",
            str(clinic),
            "--admin",
            "boss",
            stdin=PASSWORD + "\n",
        )[0]
        == 0
    )
    monkeypatch.setenv("PORTAL_CONSOLE_STAFF_PASSWORD", PASSWORD)
    backup = tmp_path / "backups" / "monday.db"
    backup.parent.mkdir()
    base = ("--db", str(clinic), "--staff", "boss")
    status, out, err = run(capsys, monkeypatch, "backup", "--out", str(backup), *base)
    assert status == 0 and out.startswith(f"Backup written and checked: {backup}"), err
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    argv = ("staff", "add", "clerk", "--role", "front_desk", *base)
    status, _out, err = run(capsys, monkeypatch, *argv, stdin="Front-Desk-Pass-2026\n")
    assert status == 0, err
    assert count_rows(clinic, StaffUser) == 2

    status, _out, err = run(capsys, monkeypatch, "restore", str(backup), *base)
    assert status == 2 and "add --yes to confirm" in err and count_rows(clinic, StaffUser) == 2
    status, out, err = run(capsys, monkeypatch, "restore", str(backup), "--yes", *base)
    assert status == 0 and out.startswith(f"Restored {backup}"), err
    assert count_rows(clinic, StaffUser) == 1
    status, out, _err = run(capsys, monkeypatch, "--db", str(clinic), "audit", "verify")
    assert status == 0 and out.startswith("OK")
