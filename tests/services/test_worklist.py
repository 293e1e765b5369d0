"""The shared-e-mail worklist and its proposed resolutions (issue 6, point 4)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from console.models.states import AccountState, StaffRole
from console.models.worklist import KEEP, LINK_TO_GUARDIAN, REVOKE_AND_REINVITE, ClusterCase
from console.services.accounts.actions import RevokeReason, revoke_access
from console.services.accounts.worklist import shared_email_worklist
from console.services.permissions import Actor
from console.services.workstation import Workstation
from tests.factories import add_account, add_patient
from tests.services.conftest import add_staff

HOPPER = "hopper.family@example.com"
TURING = "turing@example.org"
KIDS = "kids.lovelace@example.net"


def add_families(workstation: Workstation) -> dict[str, int]:
    """An adult with two minors and another adult; two adults; two minors only; one
    account on its own. Returns account ids by first name."""
    people = (
        ("Grace", "Hopper", dt.date(1976, 12, 9), HOPPER),
        ("Walter", "Hopper", dt.date(2012, 5, 1), HOPPER),
        ("Ruth", "Hopper", dt.date(2015, 7, 3), HOPPER),
        ("Alan", "Hopper", dt.date(1990, 6, 23), HOPPER.upper()),  # same key, other case
        ("Alan", "Turing", dt.date(1982, 6, 23), TURING),
        ("Sara", "Turing", dt.date(1985, 1, 2), TURING),
        ("Ada", "Lovelace", dt.date(2011, 12, 10), KIDS),
        ("Byron", "Lovelace", dt.date(2014, 1, 16), KIDS),
        ("Solo", "Person", dt.date(1970, 1, 1), "solo@example.com"),
    )
    ids: dict[str, int] = {}
    with Session(workstation.database.writer) as session, session.begin():
        for first, last, born, email in people:
            chart = add_patient(session, first_name=first, last_name=last, birth_date=born)
            username = f"{first}.{last}".lower()
            account = add_account(session, email, AccountState.LEGACY, chart, username=username)
            ids[f"{first} {last}"] = account.id
    return ids


def by_key(cases: list[ClusterCase]) -> dict[str, ClusterCase]:
    return {case.email_key: case for case in cases}


def test_one_case_per_cluster_in_address_order(
    desk: Workstation, staff: dict[StaffRole, Actor]
) -> None:
    add_families(desk)
    cases = shared_email_worklist(desk, staff[StaffRole.FRONT_DESK])
    assert [case.email_key for case in cases] == [HOPPER, KIDS, TURING]
    hopper = cases[0]
    assert [a.username for a in hopper.accounts] == sorted(a.username for a in hopper.accounts)
    assert {a.full_name for a in hopper.accounts} == {
        "Grace Hopper",
        "Walter Hopper",
        "Ruth Hopper",
        "Alan Hopper",
    }
    walter = next(a for a in hopper.accounts if a.first_name == "Walter")
    assert walter.age == 13 and not walter.adult  # on 2 March 2026
    assert [step.account_id for step in hopper.steps] == [a.account_id for a in hopper.accounts]


def test_adult_keeps_minors_linked_other_adults_reinvited(
    desk: Workstation, staff: dict[StaffRole, Actor]
) -> None:
    ids = add_families(desk)
    hopper = by_key(shared_email_worklist(desk, staff[StaffRole.FRONT_DESK]))[HOPPER]
    steps = {step.account_id: step for step in hopper.steps}
    grace, walter = steps[ids["Grace Hopper"]], steps[ids["Walter Hopper"]]
    assert grace.kind == KEEP
    assert grace.explanation == f"Keep: Grace Hopper (adult) keeps {HOPPER}"
    assert walter.kind == LINK_TO_GUARDIAN
    assert walter.guardian_account_id == ids["Grace Hopper"]
    assert walter.explanation == (
        "Link Walter Hopper (age 13) to Grace Hopper's account as guardian, "
        "then revoke Walter's own account"
    )
    assert steps[ids["Ruth Hopper"]].kind == LINK_TO_GUARDIAN
    alan = steps[ids["Alan Hopper"]]
    assert alan.kind == REVOKE_AND_REINVITE
    assert alan.explanation == "Re-invite Alan Hopper (adult) at an e-mail of their own"


def test_two_adults_the_older_keeps(desk: Workstation, staff: dict[StaffRole, Actor]) -> None:
    ids = add_families(desk)
    turing = by_key(shared_email_worklist(desk, staff[StaffRole.FRONT_DESK]))[TURING]
    kinds = {step.account_id: step.kind for step in turing.steps}
    assert kinds == {ids["Alan Turing"]: KEEP, ids["Sara Turing"]: REVOKE_AND_REINVITE}


def test_minors_only_all_but_one_reinvited(
    desk: Workstation, staff: dict[StaffRole, Actor]
) -> None:
    ids = add_families(desk)
    kids = by_key(shared_email_worklist(desk, staff[StaffRole.FRONT_DESK]))[KIDS]
    steps = {step.account_id: step for step in kids.steps}
    assert steps[ids["Ada Lovelace"]].kind == KEEP  # the older child
    byron = steps[ids["Byron Lovelace"]]
    assert byron.kind == REVOKE_AND_REINVITE
    assert "no adult" in byron.explanation


def test_limit_and_email_keys(desk: Workstation, staff: dict[StaffRole, Actor]) -> None:
    add_families(desk)
    actor = staff[StaffRole.FRONT_DESK]
    assert [c.email_key for c in shared_email_worklist(desk, actor, limit=2)] == [HOPPER, KIDS]
    some = shared_email_worklist(desk, actor, email_keys={TURING, "solo@example.com"})
    assert [c.email_key for c in some] == [TURING]


def test_a_revoke_that_resolves_a_cluster_removes_it(
    desk: Workstation, staff: dict[StaffRole, Actor]
) -> None:
    ids = add_families(desk)
    actor = staff[StaffRole.FRONT_DESK]
    changes = revoke_access(desk, actor, ids["Sara Turing"], reason=RevokeReason.SHARED_EMAIL)
    assert TURING in changes.email_keys
    assert shared_email_worklist(desk, actor, email_keys=changes.email_keys) == []
    assert TURING not in by_key(shared_email_worklist(desk, actor))


def test_reads_thousands_of_clusters_in_one_query(
    desk: Workstation, staff: dict[StaffRole, Actor]
) -> None:
    with Session(desk.database.writer) as session, session.begin():
        for n in range(300):
            for member in range(2):
                add_account(session, f"family{n:04d}@example.com", username=f"f{n}m{member}")
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(desk.database.engine, "before_cursor_execute", count)
    try:
        cases = shared_email_worklist(desk, staff[StaffRole.FRONT_DESK])
    finally:
        event.remove(desk.database.engine, "before_cursor_execute", count)
    assert len(cases) == 300
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1


def test_needs_a_staff_role(desk: Workstation, staff_hash: str) -> None:
    nobody = Actor(99, "ghost", "visitor")
    with pytest.raises(Exception, match="no valid role"):
        shared_email_worklist(desk, nobody)


def test_families_on_both_databases(any_desk: Workstation, staff_hash: str) -> None:
    ids = add_families(any_desk)
    actor = add_staff(any_desk.database, StaffRole.FRONT_DESK, staff_hash)
    cases = by_key(shared_email_worklist(any_desk, actor))
    assert list(cases) == [HOPPER, KIDS, TURING]
    hopper = {step.account_id: step.kind for step in cases[HOPPER].steps}
    assert hopper[ids["Grace Hopper"]] == KEEP
    assert hopper[ids["Walter Hopper"]] == LINK_TO_GUARDIAN
    assert hopper[ids["Alan Hopper"]] == REVOKE_AND_REINVITE
    assert {s.kind for s in cases[KIDS].steps} == {KEEP, REVOKE_AND_REINVITE}
