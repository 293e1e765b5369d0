"""Canary (issue 5): a run through sign-in, search, revoke, re-issue and a settings change with
recognisable values — a patient's name, a PIN, passwords, a database password — and none of
them may turn up in the log file, the settings file, or any message the console shows."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session

from console.app import build_main_window, log_file, open_with_password
from console.models.database import Database
from console.models.states import StaffRole
from console.services.accounts.actions import RevokeReason, revoke_access
from console.services.desk import Desk
from console.services.errors import DomainError
from console.services.invitations.acceptance import accept_invitation
from console.services.invitations.issuing import mint_invitation_token, reissue_invitation
from console.services.settings.secrets_store import SecretsStore
from console.services.settings.values import change_settings, load_settings
from console.services.staff.session import StaffSession
from console.services.staff.users import add_staff_user
from console.services.workstation_setup import build_workstation
from console.views.sign_in import SignInDialog
from tests.factories import add_account, add_patient
from tests.keyrings import MemoryKeyring
from tests.postgres_server import PostgresServer

PATIENT_FIRST, PATIENT_LAST = "Zebedee", "Quixotecanary"
STAFF_PASSWORD = "Canary-Staff-Passphrase-91"
WRONG_PASSWORD = "Canary-Wrong-Guess-17"
DATABASE_PASSWORD = "Canary-Db-Secret-55"
NEW_ADDRESS = "zebedee.canary@example.org"


@pytest.fixture
def protected_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A PostgreSQL database whose user must give DATABASE_PASSWORD."""
    with postgres_server.password_database(DATABASE_PASSWORD) as url:
        yield url


def test_no_secret_or_patient_name_leaves_the_console(
    qtbot: QtBot,
    protected_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # statements, no values
    monkeypatch.setenv("PORTAL_CONSOLE_AUDIT_KEY", hashlib.sha256(b"canary").hexdigest())
    config, log_path = tmp_path / "settings.toml", tmp_path / "logs" / "console.log"
    keyring = MemoryKeyring()
    shown: list[str] = []
    database: Database | None = None

    try:
        with log_file(log_path):
            # The database password typed at the prompt, and remembered in the keyring.
            database = open_with_password(
                protected_url,
                store=SecretsStore(keyring),
                ask=lambda where, can_remember, problem: (DATABASE_PASSWORD, True),
            )
            assert database is not None
            with Session(database.writer) as session, session.begin():
                patient = add_patient(session, first_name=PATIENT_FIRST, last_name=PATIENT_LAST)
                account = add_account(session, "family.canary@example.org", patient=patient).id
                add_account(session, "family.canary@example.org")
                patient_id, birth = patient.id, patient.birth_date
            workstation = build_workstation(database, load_settings(config))
            add_staff_user(workstation, None, "canary_admin", StaffRole.ADMIN, STAFF_PASSWORD)

            # Sign in, once wrongly.
            dialog = SignInDialog(Desk(workstation), first_run=False)
            qtbot.addWidget(dialog)
            dialog.username.setText("canary_admin")
            dialog.password.setText(WRONG_PASSWORD)
            dialog.buttons.accepted.emit()
            qtbot.waitUntil(lambda: not dialog.problem.isHidden(), timeout=5000)
            shown.append(dialog.problem.text())
            dialog.password.setText(STAFF_PASSWORD)
            with qtbot.waitSignal(dialog.accepted, timeout=5000):
                dialog.buttons.accepted.emit()
            assert dialog.signed_in is not None
            actor = dialog.signed_in.actor

            # Search for the patient in the real window.
            session_ = StaffSession.begin(dialog.signed_in, workstation.clock.now())
            window = build_main_window(database, session_)
            qtbot.addWidget(window)
            window.search_field.setText(PATIENT_LAST)
            qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=5000)
            shown.append(window.row_count_label.text())

            # Revoke, re-issue, accept (one wrong PIN first), as the dialogs will.
            revoke_access(workstation, actor, account, reason=RevokeReason.SHARED_EMAIL)
            issued = reissue_invitation(workstation, actor, patient_id, NEW_ADDRESS)
            with Session(database.writer) as session, session.begin():
                token = mint_invitation_token(
                    session, issued.invitation_id, now=workstation.clock.now()
                )
            assert token is not None
            wrong_pin = f"{(int(issued.pin) + 1) % 1_000_000:06d}"
            for attempt in (
                lambda: accept_invitation(workstation, token, wrong_pin, birth, STAFF_PASSWORD),
                lambda: accept_invitation(workstation, token, issued.pin, birth, "weak"),
                lambda: reissue_invitation(
                    workstation, actor, patient_id, "family.canary@example.org"
                ),
            ):
                with pytest.raises(DomainError) as refused:
                    attempt()
                shown.append(str(refused.value))

            # A settings change.
            changed = dataclasses.replace(
                load_settings(config), clinic_name="Canary Family Clinic", idle_minutes=7
            )
            change_settings(workstation, actor, config, changed)
            window.shutdown()
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
        if database is not None:
            database.dispose()

    logged = log_path.read_text(encoding="utf-8")
    assert "INSERT INTO audit_events" in logged  # the check can fail: the run was logged
    settings_text = config.read_text(encoding="utf-8")
    assert "Canary Family Clinic" in settings_text  # the check can fail: the file was written
    everything = {
        "log file": logged,
        "settings file": settings_text,
        "messages shown": "\n".join(shown),
        "captured log": caplog.text,
    }
    secrets = {
        "patient first name": PATIENT_FIRST,
        "patient last name": PATIENT_LAST,
        "staff password": STAFF_PASSWORD,
        "wrong password": WRONG_PASSWORD,
        "database password": DATABASE_PASSWORD,
        "PIN": issued.pin,
        "token": token,
        "new address": NEW_ADDRESS,
    }
    for where, text in everything.items():
        for what, value in secrets.items():
            if where == "messages shown" and what in ("new address", "patient last name"):
                continue  # staff may see the address they typed and the name they searched
            assert value not in text, f"the {what} is in the {where}"
    # The database password went to the keyring, and only there.
    assert list(keyring.entries.values()) == [DATABASE_PASSWORD]
