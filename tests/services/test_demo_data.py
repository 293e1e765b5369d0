"""The demo clinic: reproducible row for row, realistic where the migration is tested, and
never mixed into a database that already holds real records."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bcrypt
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from console.models.database import Database, open_database, resolve_database_url
from console.models.email_key import email_key
from console.models.schema import Access, Invitation, Patient, PortalAccount, StaffUser
from console.models.shared_email import account_stats
from console.models.states import ACTIVE_STATES, AccountState, InvitationState, StaffRole
from console.services.demo import clinic as demo_data
from console.services.demo.clinic import (
    DEMO_INVITATION_PIN,
    DEMO_PORTAL_PASSWORD,
    DEMO_STAFF_PASSWORD,
    DemoDataError,
    DemoSummary,
    fill_demo_database,
)
from console.services.demo.households import DEMO_STAFF_USERNAMES, DEMO_TABLES
from console.services.settings.values import ConsoleSettings
from console.services.staff.users import add_staff_user
from console.services.workstation_setup import build_workstation
from tests.factories import add_patient
from tests.services.conftest import add_staff

TODAY = dt.date(2026, 3, 2)
MIDNIGHT = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
ACTIVE = {state.value for state in ACTIVE_STATES}


def _open(path: Path) -> Database:
    return open_database(resolve_database_url(str(path), {}))


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, DemoSummary]]:
    """One demo clinic of 2,000 charts, shared by the read-only tests of this module."""
    database = _open(tmp_path_factory.mktemp("demo") / "clinic.db")
    summary = fill_demo_database(database, patients=2_000, seed=2026, today=TODAY)
    yield database, summary
    database.dispose()


def _rows(
    database: Database, entity: Any, *, without: tuple[str, ...] = ()
) -> list[tuple[Any, ...]]:
    columns = [c for c in entity.__table__.c if c.name not in without]
    with database.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(select(*columns).order_by(columns[0]))]


def _content(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Everything but the bcrypt hashes, whose salts are random by design."""
    return {
        "patients": _rows(database, Patient),
        "accounts": _rows(database, PortalAccount, without=("password_hash",)),
        "access": _rows(database, Access),
        "invitations": _rows(database, Invitation, without=("pin_hash",)),
        "staff": _rows(database, StaffUser, without=("password_hash",)),
    }


def _accounts(database: Database) -> list[PortalAccount]:
    with Session(database.engine) as session:
        return list(session.scalars(select(PortalAccount).order_by(PortalAccount.id)))


def test_same_seed_same_clinic_and_another_seed_another(tmp_path: Path) -> None:
    clinics = []
    for name, seed in (("first", 7), ("second", 7), ("other", 8)):
        database = _open(tmp_path / f"{name}.db")
        fill_demo_database(database, patients=600, seed=seed, today=TODAY)
        clinics.append(_content(database))
        database.dispose()
    first, second, other = clinics
    assert first == second
    assert len(first["accounts"]) > 400
    assert first["patients"] != other["patients"]
    assert first["accounts"] != other["accounts"]


def test_summary_counts_what_was_written(clinic: tuple[Database, DemoSummary]) -> None:
    database, summary = clinic
    with database.engine.connect() as connection:

        def count(entity: Any, *where: Any) -> int:
            return connection.execute(
                select(func.count()).select_from(entity).where(*where)
            ).scalar_one()

        assert summary == DemoSummary(
            patients=count(Patient),
            accounts=count(PortalAccount),
            shared_email_accounts=count(PortalAccount, PortalAccount.shared_email.is_(True)),
            invitations=count(Invitation),
            staff_users=count(StaffUser),
        )
    assert summary.patients == 2_000
    # Most charts have an account of their own; young children are mostly reached through
    # a guardian's account instead.
    with database.engine.connect() as connection:
        charts = select(func.count(PortalAccount.patient_id.distinct()))
        with_account = connection.execute(charts).scalar_one()
    assert 0.7 <= with_account / summary.patients <= 0.9


def test_about_six_percent_of_accounts_share_an_address_in_families(
    clinic: tuple[Database, DemoSummary],
) -> None:
    database, summary = clinic
    accounts = _accounts(database)
    shared = [a for a in accounts if a.shared_email]
    assert 0.045 <= len(shared) / len(accounts) <= 0.075
    assert summary.shared_email_accounts == len(shared)
    clusters: dict[str | None, list[PortalAccount]] = defaultdict(list)
    for account in shared:
        clusters[account.email_key].append(account)
    assert {len(members) for members in clusters.values()} <= {2, 3, 4, 5}
    assert all(account.state in ACTIVE for account in shared)
    # The same address typed with other capitals or stray spaces is still the same address.
    typed_differently = [
        members for members in clusters.values() if len({a.login_email for a in members}) > 1
    ]
    assert len(typed_differently) >= 5
    raw = {a.login_email for members in typed_differently for a in members}
    assert any(address != address.strip() for address in raw if address)
    assert any(address != address.lower() for address in raw if address)
    # A family: the same last name on every chart of a cluster.
    with Session(database.engine) as session:
        for members in clusters.values():
            names = {session.get(Patient, a.patient_id).last_name for a in members}  # type: ignore[union-attr]
            assert len(names) == 1


def test_shared_email_flag_agrees_with_the_rows(clinic: tuple[Database, DemoSummary]) -> None:
    database, _ = clinic
    accounts = _accounts(database)
    holders = Counter(email_key(a.login_email) for a in accounts if a.state in ACTIVE)
    holders.pop(None, None)
    for account in accounts:
        key = email_key(account.login_email)
        assert account.email_key == key
        expected = account.state in ACTIVE and key is not None and holders[key] > 1
        assert account.shared_email == expected, account.username


def test_states_dates_and_charts_look_like_a_clinic(clinic: tuple[Database, DemoSummary]) -> None:
    database, _ = clinic
    accounts = _accounts(database)
    states = Counter(a.state for a in accounts)
    assert set(states) == {state.value for state in AccountState}
    assert states[AccountState.LEGACY] == max(states.values())
    for account in accounts:
        assert account.username_key == account.username.casefold()
        assert account.created_at <= account.updated_at <= MIDNIGHT
        assert account.created_at.tzinfo is not None
        if account.last_login_at is not None:
            assert account.created_at <= account.last_login_at <= MIDNIGHT
        if account.state == AccountState.REVOKED:
            assert account.revoked_at is not None and account.revoke_reason
        else:
            assert account.revoked_at is None and account.revoke_reason is None
    assert any(a.last_login_at is None for a in accounts)
    assert sum(a.message_count == 0 for a in accounts) > len(accounts) / 4
    assert max(a.message_count for a in accounts) >= 24
    assert len({a.username_key for a in accounts}) == len(accounts)
    with Session(database.engine) as session:
        patients = list(session.scalars(select(Patient)))
    assert any(p.contact_email is None for p in patients)
    assert any(p.birth_date > dt.date(2008, 3, 2) for p in patients)  # children
    assert all(p.birth_date < TODAY and p.created_at <= MIDNIGHT for p in patients)
    assert len({p.mrn for p in patients}) == len(patients)


def test_every_account_sees_its_own_chart_and_guardians_see_children(
    clinic: tuple[Database, DemoSummary],
) -> None:
    database, _ = clinic
    accounts = {a.id: a for a in _accounts(database)}
    with Session(database.engine) as session:
        access = list(session.scalars(select(Access)))
    own = {(row.account_id, row.patient_id) for row in access if row.relation == "self"}
    assert own == {(a.id, a.patient_id) for a in accounts.values()}
    for row in access:
        ended = accounts[row.account_id].state not in ACTIVE
        assert (row.revoked_at is not None) == ended
    guardian = [row for row in access if row.relation == "guardian"]
    assert len(guardian) > 20
    assert all(accounts[row.account_id].patient_id != row.patient_id for row in guardian)


def test_invitations_pending_expired_and_accepted(clinic: tuple[Database, DemoSummary]) -> None:
    database, _ = clinic
    accounts = {a.id: a for a in _accounts(database)}
    with Session(database.engine) as session:
        invitations = list(session.scalars(select(Invitation)))
    by_state = defaultdict(list)
    for invitation in invitations:
        by_state[invitation.state].append(invitation)
        assert invitation.email_key == email_key(invitation.target_email)
        assert invitation.pin_hash.startswith("$2b$12$")
        if invitation.token_hash is not None:
            assert len(invitation.token_hash) == 64 and int(invitation.token_hash, 16) >= 0
    pending = by_state[InvitationState.PENDING]
    expired = by_state[InvitationState.EXPIRED]
    accepted = by_state[InvitationState.ACCEPTED]
    assert pending and expired and accepted
    assert all(i.expires_at > MIDNIGHT + dt.timedelta(hours=23) for i in pending)
    assert all(i.expires_at < MIDNIGHT for i in expired)
    for invitation in accepted:
        account = accounts[invitation.accepted_account_id]  # type: ignore[index]
        assert account.state == AccountState.MIGRATED
        assert account.patient_id == invitation.patient_id
        assert account.email_key == invitation.email_key
        assert invitation.created_at <= invitation.accepted_at <= MIDNIGHT  # type: ignore[operator]
    active_keys = {a.email_key for a in accounts.values() if a.state in ACTIVE}
    pending_keys = [i.email_key for i in pending]
    assert not active_keys & set(pending_keys)
    assert len(set(pending_keys)) == len(pending_keys)


def test_demo_staff_and_portal_passwords_work(clinic: tuple[Database, DemoSummary]) -> None:
    database, _ = clinic
    with Session(database.engine) as session:
        staff = {s.username: s for s in session.scalars(select(StaffUser))}
        account = session.scalars(select(PortalAccount).limit(1)).one()
        invitation = session.scalars(select(Invitation).limit(1)).one()
    assert set(staff) == set(DEMO_STAFF_USERNAMES)
    assert {s.role for s in staff.values()} == {role.value for role in StaffRole}
    assert staff["demo_admin"].role == StaffRole.ADMIN
    assert staff["demo_front_desk"].role == StaffRole.FRONT_DESK
    for user in staff.values():
        assert user.display_name and not user.disabled
        assert user.password_hash.startswith("$2b$12$")
        assert bcrypt.checkpw(DEMO_STAFF_PASSWORD.encode(), user.password_hash.encode())
    assert account.password_hash is not None
    assert bcrypt.checkpw(DEMO_PORTAL_PASSWORD.encode(), account.password_hash.encode())
    assert bcrypt.checkpw(DEMO_INVITATION_PIN.encode(), invitation.pin_hash.encode())


def test_progress_is_reported_after_every_chunk(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo_data, "CHUNK_PATIENTS", 100)
    calls: list[tuple[int, int]] = []
    fill_demo_database(
        database, patients=450, seed=3, today=TODAY, progress=lambda *c: calls.append(c)
    )
    done = [d for d, _ in calls]
    assert len(calls) >= 4
    assert done == sorted(done) and done[-1] == 450
    assert {total for _, total in calls} == {450}


def test_a_single_patient_is_a_clinic_too(database: Database) -> None:
    summary = fill_demo_database(database, patients=1, seed=1, today=TODAY)
    assert summary.patients == 1 and summary.staff_users == 3


@pytest.mark.parametrize("holds", ["patient", "staff user"])
def test_refuses_a_database_that_holds_records(database: Database, holds: str) -> None:
    with Session(database.writer) as session, session.begin():
        if holds == "patient":
            add_patient(session, first_name="Real", last_name="Person")
        else:
            session.add(
                StaffUser(username="boss", display_name="Boss", role="admin", password_hash="x")
            )
    before = _content(database)
    with pytest.raises(
        DemoDataError, match=r"already holds records.*never be mixed with real records"
    ):
        fill_demo_database(database, patients=10, seed=1, today=TODAY)
    assert _content(database) == before


@pytest.mark.parametrize("patients", [0, -5, 5_000_001])
def test_refuses_a_size_out_of_range(database: Database, patients: int) -> None:
    with pytest.raises(DemoDataError, match=r"between 1 and 5,000,000 patients"):
        fill_demo_database(database, patients=patients, seed=1, today=TODAY)
    assert _content(database) == {name: [] for name in _content(database)}


@pytest.mark.postgres
def test_fills_a_postgresql_server_the_same_way(postgres_url: str, tmp_path: Path) -> None:
    server = open_database(postgres_url)
    try:
        fill_demo_database(server, patients=300, seed=5, today=TODAY)
        on_server = _content(server)
        accounts = _accounts(server)
    finally:
        server.dispose()
    embedded = _open(tmp_path / "embedded.db")
    fill_demo_database(embedded, patients=300, seed=5, today=TODAY)
    assert _content(embedded) == on_server
    embedded.dispose()
    holders = Counter(a.email_key for a in accounts if a.state in ACTIVE and a.email_key)
    assert any(a.shared_email for a in accounts)
    for account in accounts:
        expected = account.state in ACTIVE and holders[account.email_key or ""] > 1
        assert account.shared_email == expected


@pytest.mark.postgres
def test_fills_a_postgresql_server_with_a_large_clinic(postgres_url: str) -> None:
    """One transaction adds 20,000 charts: more addresses than the server's lock table would
    hold if the trigger locked each address rather than a bucket of them."""
    server = open_database(postgres_url)
    try:
        summary = fill_demo_database(server, patients=20_000, seed=5, today=TODAY)
        with server.engine.connect() as connection:
            stats = account_stats(connection)
    finally:
        server.dispose()
    assert stats.accounts == summary.accounts
    assert stats.shared_email_accounts == summary.shared_email_accounts > 0


def test_only_legacy_or_closed_accounts_lack_a_login_email(database: Database) -> None:
    """A password reset goes to the login e-mail, so no account without one got past it."""
    fill_demo_database(database, patients=2_000, seed=3, today=TODAY)
    with database.engine.connect() as connection:
        states = set(
            connection.scalars(
                select(PortalAccount.state).where(PortalAccount.login_email.is_(None))
            )
        )
    assert states
    assert states <= {"legacy", "revoked", "deactivated"}


@pytest.mark.postgres
def test_after_a_demo_on_postgresql_the_next_rows_get_new_ids(postgres_url: str) -> None:
    """The demo writes its own ids: each table's id sequence is moved past them, so that the
    next staff user, invitation, link or account added by an action does not collide."""
    server = open_database(postgres_url)
    try:
        fill_demo_database(server, patients=300, seed=5, today=TODAY)
        with server.writer.begin() as connection:
            for name, table in DEMO_TABLES.items():
                highest = connection.scalar(select(func.max(table.c.id))) or 0
                following = connection.execute(
                    text("SELECT nextval(pg_get_serial_sequence(:t, 'id'))"), {"t": name}
                ).scalar_one()
                assert following > highest, name
        # As the window or a command builds it: the demo's own audit key.
        workstation = build_workstation(server, ConsoleSettings())
        admin = add_staff(server, StaffRole.ADMIN, bcrypt.hashpw(b"x", bcrypt.gensalt(4)).decode())
        clerk = add_staff_user(
            workstation, admin, "new.clerk", StaffRole.FRONT_DESK, "Long-Enough-Pass-42"
        )
        assert clerk.staff
    finally:
        server.dispose()
