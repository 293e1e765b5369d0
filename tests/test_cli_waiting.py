"""Readers never wait for writers (issue 14, point 7), with real separate processes on one
SQLite file in WAL mode: while another workstation holds the write lock, a command that only
reads answers at once; a command that writes says after a second that it waits, and after
the busy timeout gives up in one line, having written nothing."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from console.models.database import SQLITE_BUSY_TIMEOUT_MS, SQLITE_WAIT_NOTICE_MS
from tests.cli import make_clinic, run_process
from tests.services.conftest import STAFF_PASSWORD

AUDIT_KEY_HEX = hashlib.sha256(b"cli waiting test key").hexdigest()
WAITING = "Waiting for another workstation to finish writing…"

#: Another workstation: takes the write lock, says so, and holds it until told to end
#: (a line on its standard input: the SQL that ends the transaction).
HOLDER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("holding", flush=True)
connection.execute(sys.stdin.readline().strip() or "ROLLBACK")
"""


@pytest.fixture
def clinic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "clinic.db"
    make_clinic(path)
    monkeypatch.setenv("PORTAL_CONSOLE_AUDIT_KEY", AUDIT_KEY_HEX)
    monkeypatch.setenv("PORTAL_CONSOLE_STAFF_PASSWORD", STAFF_PASSWORD)
    monkeypatch.setenv("PORTAL_CONSOLE_CONFIG", str(tmp_path / "settings.toml"))
    return path


@contextmanager
def another_workstation_writing(path: Path) -> Iterator[subprocess.Popen[str]]:
    """A separate process holding ``BEGIN IMMEDIATE`` on ``path`` until the block ends, or
    until the test writes the SQL that ends it to its standard input."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
        yield holder
    finally:
        if holder.poll() is None:
            holder.communicate("ROLLBACK\n", timeout=30)


def start(*argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "console", *argv],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_reader_answers_while_another_workstation_writes(clinic: Path) -> None:
    with another_workstation_writing(clinic):
        started = time.monotonic()
        result = run_process("stats", "--db", str(clinic), "--format", "json")
        took = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["accounts"] == 1
    assert result.stderr == ""
    assert took < 2.0, f"the reader took {took:.1f} s"


def test_a_writer_says_that_it_waits_and_gives_up_in_one_line(clinic: Path) -> None:
    with another_workstation_writing(clinic):
        command = start("deactivate", "jane", "--staff", "desk", "--db", str(clinic))
        assert command.stderr is not None
        waiting = command.stderr.readline()
        noticed = time.monotonic()
        out, rest = command.communicate(timeout=60)
        gave_up = time.monotonic()
    assert waiting == WAITING + "\n"
    assert command.returncode == 2 and out == ""
    assert rest.count("\n") == 1 and "Traceback" not in rest, rest
    assert rest.startswith(f"portal-console: Another workstation has been writing to {clinic}")
    assert "nothing was written" in rest
    # The rest of the busy timeout after the notice (less a little for the clocks).
    remaining = (SQLITE_BUSY_TIMEOUT_MS - SQLITE_WAIT_NOTICE_MS) / 1000
    assert gave_up - noticed > remaining - 0.5

    shown = run_process("explain", "jane", "--staff", "desk", "--db", str(clinic))
    assert "State:         legacy" in shown.stdout, shown.stderr


def test_a_reading_command_waits_only_to_record_what_it_read(clinic: Path) -> None:
    """``accounts`` signs in and records what was read in the audit log: both are writes,
    which wait for the other workstation like any write, and then the rows come."""
    with another_workstation_writing(clinic) as holder:
        command = start("accounts", "--staff", "reader", "--db", str(clinic), "--format", "csv")
        assert command.stderr is not None and holder.stdin is not None
        assert command.stderr.readline() == WAITING + "\n"
        holder.stdin.write("COMMIT\n")
        holder.stdin.flush()
        out, rest = command.communicate(timeout=60)
    assert command.returncode == 0, rest
    assert rest == "" and "jane@example.org" in out
