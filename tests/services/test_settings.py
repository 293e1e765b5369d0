"""The console's settings file (issue 5): defaults, checks that name the bad key, the TOML
file written whole and owner-only, and every change audited with old and new values."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import platformdirs
import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from console.models.database import Database
from console.models.schema import AuditEvent, StaffUser
from console.models.states import StaffRole
from console.services.accounts.portal_login import LoginPolicy
from console.services.errors import InvalidSetting
from console.services.passwords import PasswordPolicy
from console.services.permissions import Actor, NotAllowed
from console.services.settings.file import CONFIG_ENV_VAR, SettingsNotSaved, settings_path
from console.services.settings.values import (
    ConsoleSettings,
    SettingsRefused,
    SmtpSecurity,
    change_settings,
    load_settings,
    render_settings,
    save_settings,
    settings_from_document,
)
from console.services.workstation import ClinicRules, Workstation
from tests.factories import refuse_audit_appends

CLINIC = ConsoleSettings(
    portal_name="Riverside Portal",
    portal_base_url="https://portal.riverside.example/app",
    clinic_name='Riverside "Family" Clinic \\ Annex — Zürich',
    clinic_phone="(555) 123-4567 ext. 204",
    smtp_host="smtp.riverside.example",
    smtp_port=465,
    smtp_security=SmtpSecurity.TLS,
    smtp_username="mailer@riverside.example",
    smtp_sender="front-desk@riverside.example",
    smtp_verify_certificate=False,
    password_min_length=10,
    password_require_symbol=True,
    password_bcrypt_cost=13,
    staff_password_length=14,
    max_failures=3,
    lockout_minutes=30,
    reset_email_minutes=5,
    idle_minutes=5,
    session_hours=8,
    invitation_days=14,
    audit_key_file=Path("/etc/portal-console/audit.key"),
)
SECRET_LIKE = re.compile(r"password$|secret|token", re.IGNORECASE)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "config" / "settings.toml"


def audit_events(database: Database) -> list[AuditEvent]:
    with Session(database.engine) as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def details(event: AuditEvent) -> dict[str, Any]:
    return json.loads(event.details)  # type: ignore[no-any-return]


# --- Values and rules --------------------------------------------------------------------------


def test_the_defaults_are_the_clinic_rules_defaults() -> None:
    settings = ConsoleSettings()
    assert settings.to_rules() == ClinicRules()
    assert (settings.idle_minutes, settings.session_hours) == (10, 12)
    assert settings.smtp_security is SmtpSecurity.STARTTLS and settings.smtp_verify_certificate


def test_settings_become_the_rules() -> None:
    rules = CLINIC.to_rules()
    assert rules == ClinicRules(
        portal_name="Riverside Portal",
        login=LoginPolicy(
            max_failures=3,
            lockout_minutes=30,
            reset_email_minutes=5,
            passwords=PasswordPolicy(min_length=10, require_symbol=True, bcrypt_cost=13),
        ),
        invitation_days=14,
        staff_password_length=14,
    )


def test_no_setting_is_named_like_a_secret() -> None:
    keys = ConsoleSettings().as_keys()
    assert len(keys) == len(dataclasses.fields(ConsoleSettings))
    assert not [key for key in keys if SECRET_LIKE.search(key.rpartition(".")[2])]


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        ({"idle_minutes": 0}, "session.idle_minutes", "from 1 to 120 minutes"),
        ({"idle_minutes": 121}, "session.idle_minutes", "from 1 to 120 minutes"),
        ({"session_hours": 13}, "session.hours", "from 1 to 12 hours"),
        ({"password_min_length": 7}, "passwords.min_length", "from 8 to 64 characters"),
        ({"password_bcrypt_cost": 10}, "passwords.bcrypt_cost", "from 12 to 14"),
        ({"staff_password_length": 11}, "staff.password_length", "from 12 to 64 characters"),
        ({"max_failures": 0}, "login.max_failures", "from 1 to 100"),
        ({"lockout_minutes": 0}, "login.lockout_minutes", "from 1 to 1440 minutes"),
        ({"invitation_days": 91}, "invitations.expiry_days", "from 1 to 90 days"),
        ({"smtp_port": 70000}, "smtp.port", "from 1 to 65535"),
        ({"portal_name": "  "}, "portal.name", "must not be empty"),
        ({"clinic_name": "Two\nlines"}, "clinic.name", "on one line"),
        ({"clinic_phone": "12"}, "clinic.phone", "7 to 15 digits"),
        ({"smtp_host": "smtp server"}, "smtp.host", "mail server's name"),
        ({"smtp_sender": "front-desk"}, "smtp.sender", "must be an e-mail address"),
        ({"audit_key_file": Path("audit.key")}, "audit.key_file", "full path"),
        ({"smtp_port": "25"}, "smtp.port", "whole number"),
        ({"idle_minutes": True}, "session.idle_minutes", "whole number"),
        ({"smtp_verify_certificate": 1}, "smtp.verify_certificate", "true or false"),
        ({"smtp_security": "ssl"}, "smtp.security", '"none", "starttls", "tls"'),
    ],
)
def test_a_bad_value_is_refused_naming_its_key(
    change: dict[str, Any], key: str, words: str
) -> None:
    with pytest.raises(SettingsRefused) as refused:
        ConsoleSettings(**change)
    assert f"{key} must" in str(refused.value) and words in str(refused.value)
    assert [(p.field, p.key) for p in refused.value.problems] == [(next(iter(change)), key)]
    assert isinstance(refused.value, InvalidSetting)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://portal.example.org", "must start with https://"),
        ("https://staff:hunter2@portal.example.org", "user name or password"),
        ("https://portal.example.org/?next=1", "must not contain ? or #"),
        ("https://portal.example.org/#top", "must not contain ? or #"),
        ("ftp://portal.example.org", "web address"),
        ("portal.example.org", "web address"),
        ("https://portal.example.org:http/", "web address"),
        ("https://portal example.org", "without spaces"),
    ],
)
def test_the_portal_address_is_https(url: str, words: str) -> None:
    with pytest.raises(SettingsRefused, match=re.escape(words)) as refused:
        ConsoleSettings(portal_base_url=url)
    assert "hunter2" not in str(refused.value)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "https://portal.example.org",
        "https://portal.example.org:8443/clinic/",
        "http://localhost:8000",
        "http://127.0.0.1/portal",
        "http://[::1]:8080",
    ],
)
def test_portal_addresses_that_are_accepted(url: str) -> None:
    assert ConsoleSettings(portal_base_url=url).portal_base_url == url


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(SettingsRefused) as refused:
        ConsoleSettings(idle_minutes=0, smtp_port=0, portal_base_url="http://x.org")
    assert {p.key for p in refused.value.problems} == {
        "session.idle_minutes",
        "smtp.port",
        "portal.base_url",
    }


# --- The file ----------------------------------------------------------------------------------


def test_a_missing_file_means_the_defaults(path: Path) -> None:
    assert load_settings(path) == ConsoleSettings()
    assert not path.exists()


def test_settings_survive_the_file(path: Path) -> None:
    save_settings(path, CLINIC)
    assert load_settings(path) == CLINIC
    written = path.read_text(encoding="utf-8")
    assert written.startswith("# Portal Account Console settings")
    assert "[session]\nidle_minutes = 5\nhours = 8\n" in written
    assert 'key_file = "/etc/portal-console/audit.key"' in written
    save_settings(path, ConsoleSettings())
    assert load_settings(path) == ConsoleSettings()
    assert 'key_file = ""' in path.read_text(encoding="utf-8")
    assert [p.name for p in path.parent.iterdir()] == ["settings.toml"]  # no temporary left


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_the_file_is_owner_only(path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        save_settings(path, CLINIC)
        path.chmod(0o644)
        save_settings(path, ConsoleSettings())  # replaced, not rewritten in place
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_keys_left_out_keep_their_defaults(path: Path) -> None:
    path.parent.mkdir()
    path.write_text('[session]\nidle_minutes = 3\n\n[smtp]\nsecurity = "TLS"\n', encoding="utf-8")
    assert load_settings(path) == ConsoleSettings(idle_minutes=3, smtp_security=SmtpSecurity.TLS)


def test_a_damaged_file_is_refused_in_words(path: Path) -> None:
    path.parent.mkdir()
    path.write_text("[session\nidle_minutes = 3\n", encoding="utf-8")
    with pytest.raises(InvalidSetting) as refused:
        load_settings(path)
    message = str(refused.value)
    assert str(path) in message and "damaged" in message and "line 1" in message
    assert "remove it to start again from the defaults" in message
    assert refused.value.__cause__ is None and refused.value.__suppress_context__
    path.write_bytes(b'[portal]\nname = "Caf\xe9"\n')
    with pytest.raises(InvalidSetting, match="not UTF-8 text"):
        load_settings(path)


def test_bad_values_in_the_file_are_named(path: Path) -> None:
    path.parent.mkdir()
    path.write_text(
        "portal = 3\n"
        "[session]\nidle_minutes = 0\nhours = 'twelve'\n"
        "[smtp]\nport = true\nsecurity = 'ssl'\npassword = 'Hunter2-Canary'\n"
        "[clinc]\nname = 'typo'\n",
        encoding="utf-8",
    )
    with pytest.raises(SettingsRefused) as refused:
        load_settings(path)
    assert {p.key for p in refused.value.problems} == {
        "portal",
        "session.idle_minutes",
        "session.hours",
        "smtp.port",
        "smtp.security",
        "smtp.password",
        "clinc.name",
    }
    message = str(refused.value)
    assert "smtp.password must not be in this file" in message and "keyring" in message
    assert "clinc.name is not a setting this console knows" in message
    assert "Hunter2-Canary" not in message


def test_settings_from_a_document() -> None:
    document = {"portal": {"name": "North Portal"}, "audit": {"key_file": ""}}
    assert settings_from_document(document) == ConsoleSettings(portal_name="North Portal")


def test_a_failed_write_leaves_the_old_file(path: Path) -> None:
    save_settings(path, CLINIC)
    blocked = path.parent / "blocked"
    blocked.write_text("not a folder", encoding="utf-8")
    with pytest.raises(SettingsNotSaved, match="could not be saved"):
        save_settings(blocked / "settings.toml", CLINIC)
    assert load_settings(path) == CLINIC


def test_where_the_file_lives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platformdirs, "user_config_dir", lambda *_a, **_k: str(tmp_path / "cfg"))
    assert settings_path({}) == tmp_path / "cfg" / "settings.toml"
    chosen = tmp_path / "elsewhere.toml"
    assert settings_path({CONFIG_ENV_VAR: str(chosen)}) == chosen
    assert settings_path({CONFIG_ENV_VAR: str(tmp_path)}) == tmp_path / "settings.toml"
    monkeypatch.setenv(CONFIG_ENV_VAR, str(chosen))
    assert settings_path() == chosen


def test_rendering_escapes_strings() -> None:
    rendered = render_settings(dataclasses.replace(CLINIC, clinic_name='A "quoted" \\ name'))
    assert 'name = "A \\"quoted\\" \\\\ name"' in rendered


# --- Changing the settings ---------------------------------------------------------------------


def test_only_admins_change_settings(
    desk: Workstation, staff: dict[StaffRole, Actor], path: Path
) -> None:
    for role in (StaffRole.FRONT_DESK, StaffRole.MANAGER):
        with pytest.raises(NotAllowed, match="Only administrators may change settings"):
            change_settings(desk, staff[role], path, CLINIC)
    assert not path.exists()
    assert audit_events(desk.database) == []


def test_a_change_is_saved_and_audited_once(
    desk: Workstation, staff: dict[StaffRole, Actor], path: Path
) -> None:
    admin = staff[StaffRole.ADMIN]
    new = ConsoleSettings(idle_minutes=5, portal_name="North Portal")
    assert change_settings(desk, admin, path, new) == ("portal.name", "session.idle_minutes")
    assert load_settings(path) == new
    (event,) = audit_events(desk.database)
    assert (event.action, event.staff_username, event.workstation, event.target_type) == (
        "change_settings",
        admin.username,
        "test-desk",
        "settings",
    )
    assert details(event) == {
        "changes": {
            "portal.name": {"old": "Patient Portal", "new": "North Portal"},
            "session.idle_minutes": {"old": 10, "new": 5},
        }
    }
    assert change_settings(desk, admin, path, new) == ()  # nothing changed: nothing written
    assert len(audit_events(desk.database)) == 1

    change_settings(desk, admin, path, CLINIC)
    changes = details(audit_events(desk.database)[-1])["changes"]
    assert changes["audit.key_file"] == {"old": "", "new": "/etc/portal-console/audit.key"}
    assert changes["smtp.security"] == {"old": "starttls", "new": "tls"}
    assert not [key for key in changes if SECRET_LIKE.search(key.rpartition(".")[2])]


def test_a_damaged_file_is_repaired_by_a_change(
    desk: Workstation, staff: dict[StaffRole, Actor], path: Path
) -> None:
    path.parent.mkdir()
    path.write_text("[session\n", encoding="utf-8")
    change_settings(desk, staff[StaffRole.ADMIN], path, ConsoleSettings())
    assert load_settings(path) == ConsoleSettings()
    found = details(audit_events(desk.database)[-1])
    assert found["replaced_unusable_file"] is True
    assert found["changes"]["session.idle_minutes"] == {"old": None, "new": 10}


def test_a_disabled_admin_cannot_change_settings(
    desk: Workstation, staff: dict[StaffRole, Actor], path: Path
) -> None:
    admin = staff[StaffRole.ADMIN]
    with Session(desk.database.writer) as session, session.begin():
        session.get_one(StaffUser, admin.id).disabled = True
    with pytest.raises(NotAllowed, match="has been disabled"):
        change_settings(desk, admin, path, CLINIC)
    assert not path.exists()


def test_a_failed_audit_leaves_the_file_as_it_was(
    desk: Workstation, staff: dict[StaffRole, Actor], path: Path
) -> None:
    save_settings(path, ConsoleSettings())
    refuse_audit_appends(desk.database)
    with pytest.raises(Exception, match="disk full"):
        change_settings(desk, staff[StaffRole.ADMIN], path, CLINIC)
    assert load_settings(path) == ConsoleSettings()


def test_a_failed_write_audits_nothing(
    desk: Workstation, staff: dict[StaffRole, Actor], tmp_path: Path
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("not a folder", encoding="utf-8")
    with pytest.raises(SettingsNotSaved):
        change_settings(desk, staff[StaffRole.ADMIN], blocked / "settings.toml", CLINIC)
    assert audit_events(desk.database) == []


def test_a_failed_commit_puts_the_old_file_back(
    desk: Workstation,
    staff: dict[StaffRole, Actor],
    path: Path,
) -> None:
    save_settings(path, ConsoleSettings())
    before = path.read_bytes()

    def refuse_commit(_session: Session) -> None:
        raise RuntimeError("the database went away")

    event.listen(Session, "before_commit", refuse_commit)
    try:
        with pytest.raises(RuntimeError, match="went away"):
            change_settings(desk, staff[StaffRole.ADMIN], path, CLINIC)
    finally:
        event.remove(Session, "before_commit", refuse_commit)
    assert path.read_bytes() == before
    assert audit_events(desk.database) == []
