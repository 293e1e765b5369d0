"""The demo clinic's records: realistic people, families, portal accounts and invitations,
generated household by household from a seed, and the three demo console users
(``console.services.demo.clinic`` loads them into a database).

The same seed and ``today`` always give the same records in the same order. People live
alone, or in families of a guardian, maybe a partner, and children with the same last name,
e-mail and phone. About 6 % of the portal accounts belong to families that log in with one
address, sometimes typed with other capitals or stray spaces: what the migration has to
untangle. Every choice is drawn from weighted tables with the clinic's own random numbers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from bisect import bisect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from faker.providers.person.en_US import Provider as UsNames
from sqlalchemy import Connection, Table

from console.models.bulk_load import insert_rows
from console.models.email_key import email_key
from console.models.schema import Base
from console.models.states import ACTIVE_STATES, AccountState, InvitationState, StaffRole

DEMO_STAFF_USERNAMES = ("demo_admin", "demo_manager", "demo_front_desk")
#: Share of the portal accounts that are in shared-e-mail clusters.
SHARED_EMAIL_SHARE = 0.06

_DAY = 86_400
_CUTOVER = 75 * _DAY  # the new login system went live this long before ``today``
_HISTORY = 12 * 365 * _DAY  # the oldest chart
_STAFF = (
    (StaffRole.ADMIN, "Dana Whitfield (demo administrator)"),
    (StaffRole.MANAGER, "Luis Ortega (demo office manager)"),
    (StaffRole.FRONT_DESK, "Kim Nguyen (demo front desk)"),
)
_MANAGER_ID, _FRONT_DESK_ID = 2, 3
_INVITERS = (_MANAGER_ID, _FRONT_DESK_ID)
_KIDS = (1, 1, 1, 2, 2, 3, 4)  # children in a family
_NOTES = ("Opened by a former caregiver.", "Moved out of state.", "Created twice in 2019.")
_T = TypeVar("_T")
_Weighted = tuple[Sequence[_T], list[float]]


def _weighted(weights: Mapping[_T, float]) -> _Weighted[_T]:
    total, cumulative = 0.0, []
    for weight in weights.values():
        total += weight
        cumulative.append(total)
    return list(weights), cumulative


_FEMALE = _weighted(UsNames.first_names_female)
_MALE = _weighted(UsNames.first_names_male)
_LAST = _weighted(UsNames.last_names)
# Only domains reserved for examples (RFC 2606): a demo database pointed at a real mail
# server must never write to somebody's real inbox.
_DOMAINS = _weighted(
    {"example.com": 40, "example.net": 20, "example.org": 15, "mail.example.com": 10}
    | {"inbox.example.net": 8, "post.example.org": 7}
)
_STATES = _weighted(dict(zip(AccountState, (57, 12, 20, 6, 5), strict=True)))
_SHARED_STATES = _weighted(dict(zip(ACTIVE_STATES, (80, 10, 10), strict=True)))
_INVITATIONS = _weighted(dict(zip(InvitationState, (35, 35, 20, 10), strict=True)))
_CLUSTER_SIZES = _weighted({2: 50, 3: 30, 4: 15, 5: 5})
_REASONS = _weighted(  # why staff revoke an account (besides a shared e-mail)
    {"duplicate_account": 30, "patient_request": 25, "deceased": 15, "security_concern": 10}
    | {"other": 20}
)
_EMAIL_SHAPES = _weighted({"{f}{s}{l}": 45, "{i}{l}": 25, "{l}{s}{f}": 10, "{f}{s}{j}": 20})
_USERNAME_SHAPES = _weighted({"{i}{l}": 35, "{f}.{l}": 25, "{f}{l}": 20, "{f}_{j}": 20})
_TYPINGS: dict[Callable[[str], str], float] = {str.lower: 50, str.capitalize: 15, str.upper: 10}
_VARIANTS = _weighted(_TYPINGS | {str.title: 10, " {}".format: 8, "{} ".format: 7})

#: The tables a demo clinic fills, parents before children: the order its rows are written in.
DEMO_TABLES: dict[str, Table] = {
    name: Base.metadata.tables[name]
    for name in ("staff_users", "patients", "portal_accounts", "access", "invitations")
}


@dataclass(frozen=True)
class _Person:
    patient_id: int
    first: str
    last: str
    birth: dt.date
    age: int
    created_s: int  # the chart was created this many seconds before ``today``
    email: str | None  # the person's own address, if they have one
    contact: str | None  # the chart's contact e-mail
    phone: str | None


class DemoClinic:
    """Generates one clinic household by household into row buffers (``rows``, by table),
    and writes them; ``patients``, ``accounts`` and ``invitations`` count what it made.

    Moments are whole seconds before midnight (UTC) at the start of ``today`` (``anchor``).
    """

    def __init__(self, seed: int, today: dt.date, portal_hash: str, pin_hash: str) -> None:
        self.rng = rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
        self.today, self.portal_hash, self.pin_hash = today, portal_hash, pin_hash
        self.anchor = dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC)
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in DEMO_TABLES}
        self.patients = self.accounts = self.invitations = self.access = self.shared = 0
        self.emails: set[str] = set()
        self.usernames: set[str] = set()
        # MRNs are an affine permutation of the patient id: unique by construction, and
        # without the give-away of consecutive numbers (the step is coprime to 90,000,000).
        self.mrn_step = rng.choice([n for n in range(1_000_001, 1_000_301, 2) if n % 3 and n % 5])
        self.mrn_offset = rng.randrange(90_000_000)
        # North American numbering: no N11 codes, no 9 in the middle of an area code.
        self.exchanges = [n for n in range(200, 1000) if n % 100 != 11 and n != 555]
        self.area_codes = rng.sample([n for n in self.exchanges if n // 10 % 10 != 9], 250)

    def write_chunk(self, connection: Connection) -> None:
        """Insert the buffered rows, parents before children, and empty the buffers."""
        for name, table in DEMO_TABLES.items():
            if rows := self.rows[name]:
                insert_rows(connection, table, rows)
                rows.clear()

    def at(self, seconds_ago: int) -> dt.datetime:
        return self.anchor - dt.timedelta(seconds=seconds_ago)

    def between(self, latest_s: int, earliest_s: int) -> int:
        # randrange, five times faster: this runs a dozen times per patient.
        span = earliest_s - latest_s
        return latest_s + int(self.rng.random() * span) if span > 0 else latest_s

    def pick(self, table: _Weighted[_T]) -> _T:
        values, cumulative = table
        return values[bisect(cumulative, self.rng.random() * cumulative[-1], 0, len(values) - 1)]

    def add_staff(self, password_hash: str) -> None:
        """The three demo console users, one per role."""
        for number, (role, name) in enumerate(_STAFF, 1):
            username = DEMO_STAFF_USERNAMES[number - 1]
            self.rows["staff_users"].append(
                {"id": number, "username": username, "username_key": username.casefold()}
                | {"display_name": name, "role": role.value, "password_hash": password_hash}
                | {"must_change_password": False, "disabled": False, "failed_logins": 0}
                | {"locked_until": None, "last_login_at": None, "version": 1}
                | {"created_at": self.at(_CUTOVER + 30 * _DAY)}
            )

    def add_household(self, room: int) -> None:
        """One person living alone, or a family of at most ``room`` people."""
        rng = self.rng
        last = self.pick(_LAST)
        if room == 1 or rng.random() >= 0.15:
            self.add_adult_portal(self.add_person(last, int(rng.triangular(18, 90, 42))))
            return
        parent_age = rng.randint(26, 58)
        ages = [min(90, max(20, parent_age + rng.randint(-6, 6)))] if rng.random() < 0.6 else []
        partners = len(ages)
        ages += [rng.randint(0, min(17, parent_age - 18)) for _ in range(rng.choice(_KIDS))]
        if parent_age >= 40 and rng.random() < 0.15:
            ages.append(rng.randint(18, min(25, parent_age - 18)))
        guardian = self.add_person(last, parent_age)
        others = [self.add_person(last, age, guardian) for age in ages[: room - 1]]
        candidates = [person for person in others if person.age >= 1]  # a baby has no account
        if candidates and self.shared < SHARED_EMAIL_SHARE * self.accounts:
            self.add_shared_family(guardian, candidates, others)
            return
        guardian_account = self.add_adult_portal(guardian)
        for person in others:
            if person.age >= 18:
                self.add_adult_portal(person)
            elif person.age >= 13 and person.email and rng.random() < 0.75:
                self.add_account(person, person.email, self.pick(_STATES))
        for person in others[partners:]:  # the children, some of them grown up
            if guardian_account and rng.random() < (0.5 if person.age < 18 else 0.15):
                self.add_link(guardian_account, person)

    def add_shared_family(
        self, guardian: _Person, candidates: list[_Person], others: list[_Person]
    ) -> None:
        """A family whose accounts all log in with the guardian's address."""
        rng = self.rng
        address = guardian.email or self.new_email(guardian.first, guardian.last, guardian.birth)
        size = min(1 + len(candidates), self.pick(_CLUSTER_SIZES))
        holders = rng.sample(candidates, size - 1)
        guardian_account = self.add_account(guardian, address, self.pick(_SHARED_STATES))
        for person in holders:
            self.add_account(person, self.variant(address), self.pick(_SHARED_STATES))
        self.shared += size
        rest = [person for person in others if person not in holders]
        if rest and rest[-1].age >= 1 and rng.random() < 0.35:  # the clinic fixed one already
            person, revoked_s = rest.pop(), self.between(3_600, _CUTOVER)
            login = self.variant(address)
            self.add_account(person, login, AccountState.REVOKED, "shared_email", revoked_s)
            if person.age >= 18:
                self.add_invitation(person, revoked_s)
            else:
                self.add_link(guardian_account, person)
        for person in rest:
            if person.age >= 18:
                self.add_adult_portal(person)
            elif rng.random() < 0.5:
                self.add_link(guardian_account, person)

    def add_person(self, last: str, age: int, guardian: _Person | None = None) -> _Person:
        """A chart. A child's contact e-mail and phone are the guardian's."""
        rng = self.rng
        self.patients += 1
        first = self.pick(_FEMALE if rng.random() < 0.51 else _MALE)
        age_days = self.between(max(1, int(age * 365.25)), int((age + 1) * 365.25))
        birth = self.today - dt.timedelta(days=age_days)
        # A chart is never older than its patient.
        created_s = min(self.between(_CUTOVER + 30 * _DAY, _HISTORY), age_days * _DAY - 1)
        email = None
        if age >= 13 and rng.random() < (0.97 if age >= 18 else 0.8):
            email = self.new_email(first, last, birth)
        if guardian is not None and age < 18:
            contact, phone = guardian.contact, guardian.phone
        else:
            contact = email if rng.random() < 0.9 else None
            phone = None if rng.random() < 0.05 else self.new_phone()
        person = _Person(self.patients, first, last, birth, age, created_s, email, contact, phone)
        mrn = (self.mrn_step * person.patient_id + self.mrn_offset) % 90_000_000 + 10_000_000
        created = self.at(created_s)
        self.rows["patients"].append(
            {"id": person.patient_id, "mrn": str(mrn), "first_name": first, "last_name": last}
            | {"birth_date": birth, "contact_email": contact, "mobile_phone": phone}
            | {"created_at": created, "updated_at": created, "version": 1}
        )
        return person

    def add_adult_portal(self, person: _Person) -> int | None:
        """Most adults have an account, a few only an invitation; returns an active account."""
        chance = self.rng.random()
        if chance >= 0.93:
            if chance < 0.97:
                self.add_invitation(person)
            return None
        state = self.pick(_STATES)
        reason = self.pick(_REASONS) if state == AccountState.REVOKED else None
        login = person.email if chance < 0.925 else None  # a few legacy logins have none
        if login is None and state in (AccountState.RESET_PENDING, AccountState.MIGRATED):
            state = AccountState.LEGACY  # a reset needs an address, so these never moved on
        changed_s = self.between(3_600, _CUTOVER)
        account = self.add_account(person, login, state, reason, changed_s)
        if reason in ("duplicate_account", "security_concern") and self.rng.random() < 0.5:
            self.add_invitation(person, changed_s)
        return account if state in ACTIVE_STATES else None

    def add_account(
        self,
        person: _Person,
        login: str | None,
        state: AccountState,
        reason: str | None = None,
        changed_s: int | None = None,
        invited: bool = False,
    ) -> int:
        """A portal account with its ``self`` access. ``changed_s``: when it reached its
        state; an ``invited`` account was created then, by accepting an invitation."""
        rng = self.rng
        self.accounts += 1
        if state == AccountState.REVOKED and reason is None:
            reason = self.pick(_REASONS)
        changed_s = self.between(3_600, _CUTOVER) if changed_s is None else changed_s
        created_s = changed_s if invited else self.between(_CUTOVER + _DAY, person.created_s)
        # Most people who log in at all did so in the last two years.
        before_s = created_s if rng.random() < 0.1 else min(created_s, 730 * _DAY)
        if state == AccountState.LEGACY:  # no login since the cut-over, some never
            changed_s = created_s
            last_login = None if rng.random() < 0.2 else self.between(_CUTOVER, before_s)
        elif state == AccountState.RESET_PENDING:  # the login that sent the reset e-mail
            last_login = changed_s
        elif state == AccountState.MIGRATED:
            last_login = self.between(60, changed_s)
        else:
            last_login = None if rng.random() < 0.3 else self.between(changed_s, before_s)
        username = self.new_username(person)
        note = rng.choice(_NOTES) if reason == "other" else None
        created, changed = self.at(created_s), self.at(changed_s)
        self.rows["portal_accounts"].append(
            {"id": self.accounts, "patient_id": person.patient_id, "username": username}
            | {"username_key": username.casefold(), "login_email": login, "locked_until": None}
            | {"email_key": email_key(login), "shared_email": False, "state": state.value}
            | {"password_hash": self.portal_hash, "security_stamp": f"{rng.getrandbits(128):032x}"}
            | {"failed_logins": 0 if rng.random() < 0.9 else rng.randint(1, 4), "version": 1}
            | {"last_login_at": None if last_login is None else self.at(last_login)}
            | {"message_count": 0 if rng.random() < 0.45 else int(rng.expovariate(1 / 9))}
            | {"intake_form_count": 0 if rng.random() < 0.55 else 1 + int(rng.expovariate(0.4))}
            | {"revoked_at": changed if state == AccountState.REVOKED else None}
            | {"revoke_reason": reason, "revoke_note": note}
            | {"created_at": created, "updated_at": changed}
        )
        if state in ACTIVE_STATES:
            self.add_access(self.accounts, person.patient_id, created)
        else:  # revoking or closing an account ends its access
            ending = {"revoked_at": changed, "revoked_by_id": _FRONT_DESK_ID}
            ending["revoke_reason"] = reason or "patient_request"
            self.add_access(self.accounts, person.patient_id, created, **ending)
        return self.accounts

    def add_link(self, account: int, person: _Person) -> None:
        """The person's chart linked to a guardian's account after the cut-over; a chart of
        someone aged 18 or more is flagged for review."""
        granted = self.at(self.between(_DAY, min(_CUTOVER, person.created_s)))
        link = {"relation": "guardian", "needs_review": person.age >= 18}
        link["granted_by_id"] = self.rng.choice((_MANAGER_ID, _FRONT_DESK_ID, _FRONT_DESK_ID))
        self.add_access(account, person.patient_id, granted, **link)

    def add_access(self, account: int, patient: int, granted: dt.datetime, **fields: Any) -> None:
        self.access += 1
        self.rows["access"].append(
            {"id": self.access, "account_id": account, "patient_id": patient, "version": 1}
            | {"relation": "self", "needs_review": False, "granted_at": granted}
            | {
                "granted_by_id": None,
                "revoked_at": None,
                "revoked_by_id": None,
                "revoke_reason": None,
            }
            | fields
        )

    def add_invitation(self, person: _Person, after_s: int = _CUTOVER) -> None:
        """An invitation to a new address of the person's own, sent after ``after_s``; an
        accepted one made a migrated account."""
        rng = self.rng
        state = self.pick(_INVITATIONS) if after_s > 8 * _DAY else InvitationState.PENDING
        address = self.new_email(person.first, person.last, person.birth)
        # Pending ones were sent in the last six days, and each expires seven days after.
        pending = state == InvitationState.PENDING
        created_s = self.between(3_600, 6 * _DAY) if pending else self.between(8 * _DAY, after_s)
        done_s = self.between(created_s - 6 * _DAY, created_s)
        account = None
        if state == InvitationState.ACCEPTED:
            account = self.add_account(person, address, AccountState.MIGRATED, None, done_s, True)
        # The token exists only once the e-mail has been sent.
        unsent = (pending and rng.random() < 0.2) or state == InvitationState.CANCELLED
        token = None if unsent else hashlib.sha256(rng.randbytes(16)).hexdigest()
        self.invitations += 1
        self.rows["invitations"].append(
            {"id": self.invitations, "patient_id": person.patient_id, "target_email": address}
            | {"email_key": email_key(address), "token_hash": token, "pin_hash": self.pin_hash}
            | {"pin_failures": 0 if account or rng.random() < 0.8 else rng.randint(1, 3)}
            | {"state": state.value, "expires_at": self.at(created_s - 7 * _DAY), "version": 1}
            | {"created_at": self.at(created_s), "created_by_id": rng.choice(_INVITERS)}
            | {"accepted_at": self.at(done_s) if account else None, "accepted_account_id": account}
            | {"cancelled_at": self.at(done_s) if state == InvitationState.CANCELLED else None}
        )

    def new_email(self, first: str, last: str, birth: dt.date) -> str:
        """An address made from the name, never handed out before in this clinic."""
        rng = self.rng
        first, last, sep = first.lower(), last.lower(), rng.choice((".", ".", "", "_"))
        local = self.pick(_EMAIL_SHAPES).format(f=first, l=last, s=sep, i=first[0], j=last[0])
        shape = rng.random()
        suffix = "" if shape < 0.45 else str(birth.year) if shape < 0.6 else str(rng.randrange(99))
        domain = self.pick(_DOMAINS)
        address, width = f"{local}{suffix}@{domain}", 100
        while address in self.emails:
            address, width = f"{local}{rng.randrange(1, width)}@{domain}", width * 10
        self.emails.add(address)
        return address

    def new_username(self, person: _Person) -> str:
        """A login name unique without regard to case; some legacy ones have capitals."""
        rng = self.rng
        first, last = person.first, person.last
        base = self.pick(_USERNAME_SHAPES).format(f=first, l=last, i=first[0], j=last[0])
        base = base if rng.random() < 0.15 else base.lower()
        name = f"{base}{person.birth.year % 100:02d}" if rng.random() < 0.3 else base
        width = 100
        while name.casefold() in self.usernames:
            name, width = f"{base}{rng.randrange(1, width)}", width * 10
        self.usernames.add(name.casefold())
        return name

    def new_phone(self) -> str:
        """A US mobile number."""
        area = self.area_codes[self.between(0, len(self.area_codes))]
        exchange = self.exchanges[self.between(0, len(self.exchanges))]
        return f"({area}) {exchange}-{self.between(0, 10_000):04d}"

    def variant(self, address: str) -> str:
        """The address as another family member typed it: other capitals, stray spaces."""
        return self.pick(_VARIANTS)(address)


__all__ = ["DEMO_STAFF_USERNAMES", "DEMO_TABLES", "SHARED_EMAIL_SHARE", "DemoClinic"]
