"""Bad input and a database in trouble, through the real command (issue 14, point 6): each is
one line on stderr in the clinic's words and exit status 2, never a traceback — a search too
long for the database, a number too large for it, a path too long for the file system, a
damaged file, a read-only file or disk, a full disk; and nothing is written.

A read-only file is a file of mode 0444. Root writes to such a file all the same (its
capability CAP_DAC_OVERRIDE), and ``PRAGMA query_only`` or a ``?mode=ro`` URL would only be
the console refusing itself; so a test running as root runs the command under ``setpriv``
without that capability (and its kin), where the kernel refuses the write as it does for
the clinic's own user. A read-only disk is a read-only bind mount, and a full disk a tiny
tmpfs, each in a mount namespace of its own (``unshare``: as root, else in a user namespace
where the kernel allows one), skipped where the test may not make one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from console.models.database import open_database, resolve_database_url
from console.models.schema import AuditEvent, PortalAccount
from tests.cli import make_clinic, run_process
from tests.services.conftest import STAFF_PASSWORD

AUDIT_KEY_HEX = hashlib.sha256(b"cli failures test key").hexdigest()


def environment(folder: Path) -> dict[str, str]:
    return {
        "PORTAL_CONSOLE_AUDIT_KEY": AUDIT_KEY_HEX,
        "PORTAL_CONSOLE_STAFF_PASSWORD": STAFF_PASSWORD,
        "PORTAL_CONSOLE_CONFIG": str(folder / "settings.toml"),
    }


@pytest.fixture
def clinic(tmp_path: Path) -> Path:
    path = tmp_path / "clinic.db"
    make_clinic(path)
    return path


def one_line_refusal(result: subprocess.CompletedProcess[str]) -> str:
    """The refusal's line, once it is shown to be the only line and status 2."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("portal-console"), (
        result.stderr
    )
    return result.stderr


def what_is_stored(path: Path) -> tuple[str, int]:
    """Jane's account state and the number of audit events."""
    database = open_database(resolve_database_url(str(path), {}))
    try:
        with Session(database.engine) as session:
            state = session.scalars(select(PortalAccount.state)).one()
            return state, session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    finally:
        database.dispose()


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- Bad input --------------------------------------------------------------------------------

BAD_INPUT = {
    # 50,000 characters: SQLite refused the LIKE pattern ("too complex") half-way.
    "search-long-word": (["--search", "jane@" + "x" * 49_995], "at most 256 characters"),
    # 25,000 words: SQLite refused the expression ("too large").
    "search-many-words": (["--search", "a " * 25_000], "at most 256 characters"),
    "limit-huge": (["--limit", "99999999999999999999999"], "at most 1,000,000,000"),
    "limit-digits": (["--limit", "9" * 5000], "is not a whole number"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_is_one_line(clinic: Path, case: str) -> None:
    options, expected = BAD_INPUT[case]
    argv = ["accounts", "--db", str(clinic), "--staff", "reader", *options]
    line = one_line_refusal(run_process(*argv, env=environment(clinic.parent)))
    assert expected in line


def test_a_path_too_long_for_the_file_system_is_one_line(clinic: Path) -> None:
    too_long = clinic.parent / ("x" * 400)
    for command in (["accounts", "--staff", "reader"], ["init", "--admin", "boss"]):
        result = run_process(
            *command, "--db", str(too_long), env=environment(clinic.parent), stdin="A-Long-Pw-123\n"
        )
        assert "File name too long" in one_line_refusal(result)
    assert not os.path.exists(too_long)  # (Path.exists raises on a name this long)


def test_bytes_that_are_not_utf8_are_one_line(clinic: Path) -> None:
    result = run_process(
        "explain",
        b"jane\xff\xfe",
        "--staff",
        "reader",
        "--db",
        str(clinic),
        env=environment(clinic.parent),
    )
    assert "cannot be used" in one_line_refusal(result)


# --- A damaged database -----------------------------------------------------------------------


def damage_the_accounts_table(path: Path) -> None:
    """Overwrite the start of the page at the root of the accounts table, as a failing disk
    or an interrupted copy would, in the closed file."""
    with sqlite3.connect(path) as connection:
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        root = connection.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'portal_accounts'"
        ).fetchone()[0]
    connection.close()
    assert not Path(f"{path}-wal").exists()  # all of it is in the file itself
    with path.open("r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(b"\xff" * 64)


@pytest.mark.parametrize(
    "command",
    [
        ["accounts", "--staff", "reader"],
        ["explain", "jane", "--staff", "reader"],
        ["revoke", "jane", "--reason", "other", "--note", "test", "--staff", "reader"],
    ],
)
def test_a_damaged_database_says_so_and_to_restore_a_backup(
    clinic: Path, command: list[str]
) -> None:
    damage_the_accounts_table(clinic)
    result = run_process(*command, "--db", str(clinic), env=environment(clinic.parent))
    line = one_line_refusal(result)
    assert "is damaged" in line and "restore it from the clinic's latest backup" in line
    assert "malformed" not in line and "sqlite" not in line.casefold()


# --- A read-only file, a read-only disk, a full disk ------------------------------------------

ACTION = ["revoke", "jane", "--reason", "other", "--note", "test", "--staff", "reader"]


#: Root writes to a file whatever its mode (the capability CAP_DAC_OVERRIDE); without it and
#: its kin, root is held to a file's mode like any other user.
WITHOUT_ROOTS_OVERRIDE = [
    "setpriv",
    "--bounding-set",
    "-dac_override,-dac_read_search,-fowner,-linux_immutable",
    "--",
]


def as_an_ordinary_user() -> list[str]:
    """What runs a command held to the files' modes: nothing for an ordinary user; for root,
    ``setpriv`` without root's override (skips the test where that cannot be done)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("runs as root without setpriv(1): a read-only file would not stop root")
    probe = subprocess.run([*WITHOUT_ROOTS_OVERRIDE, "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("runs as root and may not drop root's capabilities here")
    return WITHOUT_ROOTS_OVERRIDE


def test_an_action_on_a_read_only_file_says_so_and_writes_nothing(clinic: Path) -> None:
    before = what_is_stored(clinic)
    clinic.chmod(0o400)  # read-only, and private as a clinic keeps it
    digest = file_digest(clinic)
    result = run_process(
        *ACTION, "--db", str(clinic), env=environment(clinic.parent), wrapper=as_an_ordinary_user()
    )
    line = one_line_refusal(result)
    assert "is read-only for this user" in line and "nothing was written" in line
    assert file_digest(clinic) == digest
    clinic.chmod(0o600)
    assert what_is_stored(clinic) == before


#: Ways to a mount namespace of one's own: as root (or with CAP_SYS_ADMIN), else as an
#: ordinary user inside a user namespace of its own, where the kernel allows those.
NAMESPACES = [
    ["unshare", "--mount", "--propagation", "private"],
    ["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private"],
]


def in_mount_namespace(script: str) -> subprocess.CompletedProcess[str]:
    """``script`` (sh) in a mount namespace of its own: the mounts it makes vanish with it.
    Skips the test where no such namespace may be made."""
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1)")
    for namespace in NAMESPACES:
        probe = subprocess.run([*namespace, "true"], capture_output=True, check=False)
        if probe.returncode == 0:
            return subprocess.run(
                [*namespace, "sh", "-c", script],
                capture_output=True,
                text=True,
                check=False,
                timeout=120,
                env={**os.environ, "PYTHON": sys.executable},
            )
    pytest.skip("may not make a mount namespace here (neither as root nor in a user namespace)")


def test_an_action_on_a_read_only_disk_says_so_and_writes_nothing(clinic: Path) -> None:
    before, digest = what_is_stored(clinic), file_digest(clinic)
    folder = clinic.parent
    env = " ".join(f"{name}='{value}'" for name, value in environment(folder).items())
    shown = in_mount_namespace(
        f"mount --bind '{folder}' '{folder}' && mount -o remount,bind,ro '{folder}' && "
        f"env {env} \"$PYTHON\" -m console {' '.join(ACTION)} --db '{clinic}'"
    )
    line = one_line_refusal(shown)
    assert "read-only" in line and "nothing was written" in line
    assert file_digest(clinic) == digest and what_is_stored(clinic) == before


def test_an_action_on_a_full_disk_says_so_and_writes_nothing(clinic: Path) -> None:
    before = what_is_stored(clinic)
    disk = clinic.parent / "small-disk"
    disk.mkdir()
    env = " ".join(f"{name}='{value}'" for name, value in environment(clinic.parent).items())
    # A 2 MB disk holding the database, filled up but for 44 KB: room for SQLite's shared
    # memory file (32 KB) and a frame or two of the write-ahead log, not for the action.
    shown = in_mount_namespace(
        f"mount -t tmpfs -o size=2m tmpfs '{disk}' && cp '{clinic}' '{disk}/clinic.db' && "
        f"(dd if=/dev/zero of='{disk}/filler' bs=4k 2>/dev/null; true) && "
        f"truncate -s -44K '{disk}/filler' && sha256sum '{disk}/clinic.db' && "
        f"env {env} \"$PYTHON\" -m console {' '.join(ACTION)} --db '{disk}/clinic.db'; "
        f"status=$?; sha256sum '{disk}/clinic.db' && cp '{disk}/clinic.db' '{clinic}'; "
        "exit $status"
    )
    digests = [line.split()[0] for line in shown.stdout.splitlines() if "clinic.db" in line]
    assert len(digests) == 2 and digests[0] == digests[1], shown.stdout + shown.stderr
    line = one_line_refusal(shown)
    assert "is full" in line and "nothing was written" in line
    assert what_is_stored(clinic) == before
