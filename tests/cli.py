"""Running the ``portal-console`` command as a script would: in the test's own process
(``run``), or as a real separate process (``run_process``); and the small clinic the
command tests act on (``make_clinic``)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import bcrypt
import pytest
from sqlalchemy.orm import Session

from console.cli import main
from console.models.database import open_database, resolve_database_url
from console.models.states import StaffRole
from tests.factories import add_account, add_patient
from tests.services.conftest import STAFF_PASSWORD, add_staff

#: The password of the portal account ``jane`` of ``make_clinic``.
PORTAL_PASSWORD = "Harbour-Lights-42"


def run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *argv: str,
    stdin: str = "",
) -> tuple[int, str, str]:
    """The exit status, standard output and standard error of ``portal-console ARGV``, with
    ``stdin`` as its standard input (argparse's own refusals included)."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    try:
        status = main(list(argv))
    except SystemExit as exit_:
        status = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


def run_process(
    *argv: str | bytes,
    env: Mapping[str, str] | None = None,
    stdin: str = "",
    wrapper: Sequence[str] = (),
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """``portal-console ARGV`` as a separate process (``python -m console``): the real
    command line, with arguments as the operating system hands them over (bytes that are
    not UTF-8 included); ``wrapper`` is a command that runs it (e.g. ``setpriv …``)."""
    environment = {**os.environ, **(env or {})}
    return subprocess.run(
        [*wrapper, sys.executable, "-m", "console", *argv],
        input=stdin,
        capture_output=True,
        text=True,
        errors="backslashreplace",
        env=environment,
        check=False,
        timeout=timeout,
    )


def make_clinic(path: Path) -> None:
    """Two charts, one with a legacy account ``jane`` (password PORTAL_PASSWORD); staff
    ``desk`` (admin) and ``reader`` (front desk), both with STAFF_PASSWORD."""
    database = open_database(resolve_database_url(str(path), {}))
    staff_hash = bcrypt.hashpw(STAFF_PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    portal_hash = bcrypt.hashpw(PORTAL_PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    add_staff(database, StaffRole.ADMIN, staff_hash, name="desk")
    add_staff(database, StaffRole.FRONT_DESK, staff_hash, name="reader")
    with Session(database.writer) as session, session.begin():
        jane = add_patient(session, mrn="M1", first_name="Jane", last_name="Okafor")
        add_patient(session, mrn="M2", first_name="Tom", last_name="Okafor")
        account = add_account(session, "jane@example.org", patient=jane, username="jane")
        account.password_hash = portal_hash
    database.dispose()
