"""The headless staff actions on a real demo database: the loop invite → accept →
portal-login, a shared-e-mail cluster resolved from the command line, refusals with exit
status 2, ``audit verify`` and no secret in any log line. (Arbitrary text in every argument:
tests/test_cli_fuzz.py.)"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from console.models.database import Database, open_database, resolve_database_url
from console.models.schema import Patient, PortalAccount
from console.models.states import ACTIVE_STATES
from console.services.audit.key import AuditKey
from console.services.audit.trail import AuditTrail
from console.services.clock import SystemClock
from console.services.demo.clinic import (
    DEMO_PORTAL_PASSWORD,
    DEMO_STAFF_PASSWORD,
    fill_demo_database,
)
from console.services.settings.file import settings_path
from console.services.settings.values import ConsoleSettings, save_settings
from console.services.staff.users import change_own_password
from console.services.workstation import Workstation
from tests.cli import run
from tests.services.conftest import STAFF_PASSWORD

NEW_PASSWORD = "Harbour-Lights-42"
AUDIT_KEY_HEX = hashlib.sha256(b"test audit key").hexdigest()
MAIL_SETTINGS = ConsoleSettings(
    clinic_name="Riverside Family Clinic",
    clinic_phone="555-0100",
    portal_base_url="https://portal.example.org",
    smtp_sender="portal@example.org",
)


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 400-patient demo clinic, made once; tests work on copies."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    database = open_database(resolve_database_url(str(path), {}))
    fill_demo_database(database, patients=400, seed=7)
    database.dispose()
    return path


@pytest.fixture
def demo(demo_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    copy = tmp_path / "demo.db"
    shutil.copy(demo_file, copy)  # owner-only, as the demo made it
    monkeypatch.setenv("PORTAL_CONSOLE_DB", str(copy))
    monkeypatch.setenv("PORTAL_CONSOLE_CONFIG", str(tmp_path / "settings.toml"))
    monkeypatch.setenv("PORTAL_CONSOLE_STAFF_PASSWORD", DEMO_STAFF_PASSWORD)
    monkeypatch.delenv("PORTAL_CONSOLE_AUDIT_KEY", raising=False)
    yield copy


def read(path: Path) -> Database:
    return open_database(resolve_database_url(str(path), {}))


def a_cluster(path: Path) -> list[tuple[int, str, str]]:
    """The accounts (id, username, MRN) of one shared-e-mail cluster of three or more."""
    database = read(path)
    try:
        with Session(database.engine) as session:
            rows = session.execute(
                select(
                    PortalAccount.email_key, PortalAccount.id, PortalAccount.username, Patient.mrn
                )
                .join(Patient, Patient.id == PortalAccount.patient_id)
                .where(PortalAccount.shared_email.is_(True))
                .order_by(PortalAccount.email_key, PortalAccount.id)
            ).all()
    finally:
        database.dispose()
    clusters: dict[str, list[tuple[int, str, str]]] = {}
    for key, *account in rows:
        clusters.setdefault(key, []).append(tuple(account))  # type: ignore[arg-type]
    return next(c for c in clusters.values() if len(c) >= 3)


def test_a_shared_cluster_resolved_from_the_command_line(
    demo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    resolve_a_cluster(demo, capsys, monkeypatch)


def resolve_a_cluster(
    demo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[str, str]:
    """Revoke all but one account of a cluster, invite one of the revoked patients to a new
    address, accept, sign in; the PIN and the token used."""
    cluster = a_cluster(demo)
    *extra, (last_id, _last_name, _) = cluster

    status, out, _ = run(capsys, monkeypatch, "explain", str(last_id), "--staff", "demo_front_desk")
    assert status == 0
    assert "Please ask your healthcare provider to create a new Patient Portal account" in out
    assert all(name in out for _, name, _ in extra)

    for account_id, username, _ in extra[:-1]:
        args = ("revoke", username, "--reason", "shared_email", "--staff", "demo_front_desk")
        status, out, err = run(capsys, monkeypatch, *args)
        assert (status, err) == (0, "") and out == f"Revoked account {account_id}\n"
    status, out, _ = run(
        capsys,
        monkeypatch,
        "revoke",
        str(extra[-1][0]),
        "--reason",
        "shared_email",
        "--staff",
        "DEMO_FRONT_DESK",
    )
    assert status == 0 and out.endswith(f"; can sign in again: account {last_id}\n")
    database = read(demo)
    with Session(database.engine) as session:
        assert not session.get_one(PortalAccount, last_id).shared_email
    database.dispose()

    # The revoked patient's chart gets an invitation to an address of their own.
    mrn = extra[0][2]
    status, out, err = run(
        capsys,
        monkeypatch,
        "invite",
        mrn,
        "--email",
        "new.address@example.net",
        "--staff",
        "demo_front_desk",
    )
    assert status == 0, err
    issued = json.loads(out)
    assert set(issued) == {
        "invitation_id",
        "pin",
        "expires_at",
        "email",
        "warning",
        "carried_links",
    }

    # The relay sends the invitation to a pickup folder; its link carries the token.
    pickup = demo.parent / "pickup"
    pickup.mkdir()
    save_settings(settings_path(), MAIL_SETTINGS)
    status, out, err = run(
        capsys, monkeypatch, "outbox", "send", "--once", "--transport", f"dir://{pickup}"
    )
    assert status == 0, err
    assert out == f"pickup folder {pickup}: 1 sent, 0 to retry, 0 failed, 0 no longer needed\n"
    (eml,) = pickup.glob("*.eml")
    email = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    assert email["To"] == "new.address@example.net"
    body = email.get_body(("plain",))
    assert body is not None
    link = re.search(
        r"https://portal\.example\.org/accept-invitation\?token=(\S+)", body.get_content()
    )
    assert link is not None and issued["pin"] not in eml.read_text()
    token = unquote(link.group(1))
    database = read(demo)
    with Session(database.engine) as session:
        birth = session.scalars(select(Patient.birth_date).where(Patient.mrn == mrn)).one()
    database.dispose()

    status, out, err = run(
        capsys, monkeypatch, "outbox", "list", "--format", "json", "--staff", "demo_front_desk"
    )
    assert status == 0, err
    (listed,) = json.loads(out)
    assert listed["state"] == "sent" and listed["kind"] == "invitation"

    # The patient's secrets on standard input, one a line: token, PIN, new password.
    secrets = f"{token}\n{issued['pin']}\n{NEW_PASSWORD}\n"
    status, out, err = run(capsys, monkeypatch, "accept", "--dob", birth.isoformat(), stdin=secrets)
    assert status == 0, err
    status, out, _ = run(
        capsys, monkeypatch, "portal-login", "New.Address@example.net", stdin=NEW_PASSWORD + "\n"
    )
    assert (status, out) == (0, "(signed in)\n")
    status, out, _ = run(capsys, monkeypatch, "audit", "verify")
    assert status == 5 and out.startswith("OK ") and "demo — not tamper-proof" in out
    return issued["pin"], token


def test_refusals_are_one_line_and_status_2(
    demo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    database = read(demo)
    with Session(database.engine) as session:
        held = session.scalars(
            select(PortalAccount.login_email).where(
                PortalAccount.state.in_(ACTIVE_STATES), PortalAccount.shared_email.is_(False)
            )
        ).first()
        free_chart = session.scalar(
            select(Patient.mrn).where(
                ~Patient.id.in_(
                    select(PortalAccount.patient_id).where(PortalAccount.state.in_(ACTIVE_STATES))
                )
            )
        )
    database.dispose()
    assert held and free_chart
    cases = [
        (
            ("invite", free_chart, "--email", held.upper()),
            "already in use by the active portal account",
        ),
        (("invite", "NO-SUCH-MRN", "--email", "x@example.org"), "No chart has the MRN"),
        (("revoke", "nobody-here", "--reason", "deceased"), "No portal account"),
        (("revoke", "1", "--reason", "other"), "needs one"),
        (
            ("link", free_chart, "--account", "1", "--relation", "guardian", "--staff", "nobody"),
            "Incorrect username or password",
        ),
        (("accept", "--dob", "1999-02-30"), "YYYY-MM-DD"),
        (("accept", "--dob", "1999-02-03"), "link is not valid"),
        (("accept", "abc", "--pin", "1", "--dob", "1999-02-03"), "unrecognized arguments"),
        (("staff", "add", "eve", "--role", "admin"), "an administrator must add"),
    ]
    for argv, message in cases:
        if "--staff" not in argv and argv[0] in ("invite", "revoke"):
            argv = (*argv, "--staff", "demo_front_desk")
        stdin = "abc\n1\nSome-Password-123\n" if argv[0] == "accept" else "Some-Password-123\n"
        status, out, err = run(capsys, monkeypatch, *argv, stdin=stdin)
        assert status == 2, (argv, err)
        assert message in err and err.count("\n") == 1 and out == ""


def test_portal_login_exit_status(
    demo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    status, out, _ = run(capsys, monkeypatch, "portal-login", "nobody@example.org", stdin="x\n")
    assert (status, out) == (3, "Incorrect email or password\n")


def test_audit_verify_names_the_edited_event(
    demo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for account in ("1", "2"):
        run(capsys, monkeypatch, "deactivate", account, "--staff", "demo_manager")
    assert run(capsys, monkeypatch, "audit", "verify")[0] == 5  # sound, but a demo's
    database = read(demo)
    with database.write() as connection:
        second = connection.scalar(text("SELECT id FROM audit_events ORDER BY id LIMIT 1 OFFSET 1"))
        connection.execute(
            text("UPDATE audit_events SET outcome = 'denied' WHERE id = :id"), {"id": second}
        )
    database.dispose()
    status, out, _ = run(capsys, monkeypatch, "audit", "verify")
    assert status == 4 and f"event {second}" in out


def test_the_first_admin_and_then_others(
    database: Database,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PORTAL_CONSOLE_DB", str(database.engine.url.database))
    monkeypatch.setenv("PORTAL_CONSOLE_AUDIT_KEY", AUDIT_KEY_HEX)
    status, out, err = run(
        capsys, monkeypatch, "staff", "add", "boss", "--role", "admin", stdin=STAFF_PASSWORD + "\n"
    )
    assert (status, out) == (0, "Added staff user boss (admin)\n"), err
    monkeypatch.setenv("PORTAL_CONSOLE_STAFF_PASSWORD", STAFF_PASSWORD)
    status, _, err = run(
        capsys,
        monkeypatch,
        "staff",
        "add",
        "pat",
        "--role",
        "front_desk",
        "--staff",
        "boss",
        stdin="Quiet-River-Lantern-77\n",
    )
    assert status == 0, err
    monkeypatch.setenv("PORTAL_CONSOLE_STAFF_PASSWORD", "Quiet-River-Lantern-77")
    sam = ("staff", "add", "sam", "--role", "admin", "--staff", "pat")
    status, _, err = run(capsys, monkeypatch, *sam, stdin="Quiet-River-Lantern-78\n")
    # boss chose pat's password: pat must choose their own before acting.
    assert status == 2 and "must choose a new password first" in err
    audit_key = AuditKey(bytes.fromhex(AUDIT_KEY_HEX), "PORTAL_CONSOLE_AUDIT_KEY")
    clock = SystemClock()
    desk = Workstation(database, AuditTrail(audit_key, workstation="test-desk", clock=clock), clock)
    change_own_password(desk, "pat", "Quiet-River-Lantern-77", NEW_PASSWORD)
    monkeypatch.setenv("PORTAL_CONSOLE_STAFF_PASSWORD", NEW_PASSWORD)
    status, _, err = run(capsys, monkeypatch, *sam, stdin="Quiet-River-Lantern-78\n")
    assert status == 2 and "Only administrators may manage staff users" in err


def test_no_secret_or_name_reaches_a_log(
    demo: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    # Statements at INFO, with their parameters hidden (hide_parameters); SQLAlchemy's DEBUG
    # level would print result rows, and nothing in the console turns it on.
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    try:
        pin, token = resolve_a_cluster(demo, capsys, monkeypatch)
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    logged = caplog.text
    assert "SELECT" in logged  # the check can fail: SQL itself is logged at this level
    database = read(demo)
    with Session(database.engine) as session:
        names = session.execute(select(Patient.first_name, Patient.last_name).limit(50)).all()
        cluster_emails = session.scalars(select(PortalAccount.login_email).limit(50)).all()
    database.dispose()
    secrets = [NEW_PASSWORD, DEMO_STAFF_PASSWORD, DEMO_PORTAL_PASSWORD, token, f"'{pin}'"]
    secrets.append("new.address@example.net")
    for secret in secrets + [e for e in cluster_emails if e]:
        assert secret not in logged
    for first, last in names:
        assert f"{first} {last}" not in logged and f"'{last}'" not in logged
