"""No secret on a command line (issue 14, point 5): other users of the computer see every
command line in the process list, and the shell keeps it in its history. An invitation's
token and PIN, like every password, come from standard input, or are asked for without echo
on a terminal; no command has an argument for one, and a password in ``--db`` is refused."""

from __future__ import annotations

import argparse
import hashlib
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from console.cli import build_parser
from tests.cli import make_clinic, run
from tests.services.conftest import STAFF_PASSWORD

AUDIT_KEY_HEX = hashlib.sha256(b"cli secrets test key").hexdigest()
SECRET_WORDS = ("token", "pin", "password", "secret", "passphrase", "key")


@pytest.fixture
def clinic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "clinic.db"
    make_clinic(path)
    monkeypatch.setenv("PORTAL_CONSOLE_DB", str(path))
    monkeypatch.setenv("PORTAL_CONSOLE_AUDIT_KEY", AUDIT_KEY_HEX)
    monkeypatch.setenv("PORTAL_CONSOLE_STAFF_PASSWORD", STAFF_PASSWORD)
    monkeypatch.setenv("PORTAL_CONSOLE_CONFIG", str(tmp_path / "settings.toml"))
    return path


def every_argument(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.Action]]:
    """(command, argument) for every argument of every command."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += [(name, a) for a in sub._actions if a.dest != "help"]
        elif action.dest != "help":
            found.append(("", action))
    return found


def test_no_command_has_an_argument_for_a_secret() -> None:
    arguments = every_argument(build_parser())
    assert ("accept", "dob") in {(command, a.dest) for command, a in arguments}
    for command, action in arguments:
        named = " ".join([action.dest, *action.option_strings, str(action.metavar or "")])
        words = set(re.split(r"[^a-z]+", named.casefold()))
        assert not words & set(SECRET_WORDS), (command, named)


def test_the_token_and_pin_are_no_longer_arguments(
    clinic: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ("accept", "a-token", "--pin", "123456", "--dob", "1980-01-01")
    status, out, err = run(capsys, monkeypatch, *argv, stdin="Harbour-Lights-42\n")
    assert status == 2 and out == "" and "unrecognized arguments" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("stdin", "missing"),
    [("", "invitation token"), ("a-token\n", "PIN"), ("\n\n", "invitation token")],
)
def test_a_token_or_pin_not_given_is_one_line(
    clinic: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    stdin: str,
    missing: str,
) -> None:
    status, out, err = run(capsys, monkeypatch, "accept", "--dob", "1980-01-01", stdin=stdin)
    assert status == 2 and out == ""
    assert err == (
        f"portal-console: No {missing} was given: give it on standard input, one line each, "
        "or run the command on a terminal to be asked for it.\n"
    )


class Terminal:
    """A command on a terminal of its own (a pseudo-terminal, in a new session so that it
    never reaches the terminal the tests run in), answered as a person would type."""

    def __init__(self, *argv: str) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "console", *argv],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
        os.close(slave)
        self.shown = ""

    def wait_for(self, prompt: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while prompt not in self.shown:
            assert time.monotonic() < deadline, f"no {prompt!r} in {self.shown!r}"
            if select.select([self.master], [], [], 0.1)[0]:
                self.shown += os.read(self.master, 1024).decode(errors="replace")

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\n")

    def finish(self) -> int:
        status = self.process.wait(timeout=60)
        while True:
            try:
                chunk = os.read(self.master, 1024)
            except OSError:  # Linux: the terminal's other end is closed
                break
            if not chunk:
                break
            self.shown += chunk.decode(errors="replace")
        os.close(self.master)
        return status


def test_on_a_terminal_the_token_and_pin_are_asked_for_without_echo(clinic: Path) -> None:
    terminal = Terminal("accept", "--dob", "1980-01-01", "--db", str(clinic))
    answers = [
        ("Invitation token: ", "tok-EN-5ecret-value"),
        ("PIN: ", "493817"),
        ("New portal password: ", "Harbour-Lights-42"),
        ("New portal password again: ", "Harbour-Lights-42"),
    ]
    for prompt, answer in answers:
        terminal.wait_for(prompt)
        terminal.type(answer)
    status = terminal.finish()
    assert status == 2  # not a real invitation: refused by the clinic's database
    assert "This invitation link is not valid" in terminal.shown
    for _, answer in answers:
        assert answer not in terminal.shown
