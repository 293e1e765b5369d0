"""A member of the front desk fixing shared-e-mail families (link, revoke, re-issue, edit
contact, resend reset, cancel), in a real process killed with SIGKILL part-way, again and
again, on a SQLite file and on PostgreSQL: after each kill the database opens, its
integrity check passes, the audit chain verifies, every action is whole with its audit
event, and no chart has two pending invitations; then the same work, run again in a fresh
process, completes, refusing only what was done already."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from console.models.database import open_database
from tests.crash.checks import check_database, check_staff_actions, opened
from tests.crash.common import AUDIT_KEY, START
from tests.crash.conftest import add_crash_staff
from tests.crash.households import (
    MAY_BE_REFUSED_ON_RESUME,
    STEPS_PER_FAMILY,
    add_families,
    expected_end,
    plan,
)
from tests.crash.processes import Child, CrashRun, children, start

pytestmark = pytest.mark.crash


def kill_the_desk_again_and_again(
    url: str,
    folder: Path,
    crash_run: CrashRun,
    staff_hash: str,
    *,
    name: str,
    families: int,
    kills: int,
) -> None:
    """The scenario on the database at ``url``, ``kills`` times, then to the end."""
    database = open_database(url)
    try:
        add_crash_staff(database, staff_hash)
        family_ids = add_families(database, families)
    finally:
        database.dispose()
    steps = plan(family_ids)
    plan_file = folder / "plan.json"
    plan_file.write_text(json.dumps(steps))
    landings = []
    with children() as running:

        def front_desk(day: int) -> Child:
            """The plan, from the start, on a clock ``day`` days after START."""
            clock = (START + dt.timedelta(days=day)).isoformat()
            arguments = ("--db", url, "--clock", clock, "--plan", str(plan_file))
            return start(running, folder, "actions", *arguments)

        # One bcrypt PIN hash (~0.25 s) in four steps: up to that after a step, so that some
        # kills land inside the transactions after it and some in the hashing.
        for day, point in enumerate(crash_run.kill_points(name, kills, len(steps), 0.3)):
            landing = front_desk(day).kill_at(point)
            landings.append(landing)
            with opened(url) as after:
                problems = check_database(after, AUDIT_KEY) + check_staff_actions(after)
            assert not problems, f"{landing} (seed {crash_run.seed}): {problems}"
        lines = front_desk(kills).finish()
    refused = [line.split() for line in lines if line.startswith("refused")]
    unexpected = [
        (steps[int(index)]["do"], error)
        for _, index, error in refused
        if steps[int(index)]["do"] not in MAY_BE_REFUSED_ON_RESUME
    ]
    assert not unexpected, f"the resumed run was refused more than what was done: {unexpected}"
    with opened(url) as after:
        problems = check_database(after, AUDIT_KEY) + check_staff_actions(after)
        problems += expected_end(after, family_ids)
    assert not problems, f"after the resumed run (seed {crash_run.seed}): {problems}"
    killed_mid_work = [landing for landing in landings if landing.killed]
    assert killed_mid_work, f"no kill landed while the work ran: {[str(x) for x in landings]}"


def test_killing_the_front_desk_on_sqlite_leaves_whole_actions_and_a_run_again_completes(
    sqlite_url: str, tmp_path: Path, crash_run: CrashRun, crash_staff_hash: str
) -> None:
    kill_the_desk_again_and_again(
        sqlite_url,
        tmp_path,
        crash_run,
        crash_staff_hash,
        name="actions-sqlite",
        families=crash_run.kills(fast=1, full=10),
        kills=crash_run.kills(fast=3, full=30),
    )


@pytest.mark.postgres
def test_killing_the_front_desk_on_postgresql_leaves_whole_actions_and_a_run_again_completes(
    postgres_url: str, tmp_path: Path, crash_run: CrashRun, crash_staff_hash: str
) -> None:
    kill_the_desk_again_and_again(
        postgres_url,
        tmp_path,
        crash_run,
        crash_staff_hash,
        name="actions-postgresql",
        families=crash_run.kills(fast=1, full=10),
        kills=crash_run.kills(fast=2, full=30),
    )


def test_the_plan_run_without_a_crash_is_never_refused(
    sqlite_url: str, tmp_path: Path, crash_staff_hash: str
) -> None:
    """The baseline the resumed runs are judged by: every step of the plan is allowed."""
    database = open_database(sqlite_url)
    try:
        add_crash_staff(database, crash_staff_hash)
        families = add_families(database, 2)  # an even and an odd family: every kind of step
    finally:
        database.dispose()
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan(families)))
    with children() as running:
        arguments = ("--db", sqlite_url, "--clock", START.isoformat(), "--plan", str(plan_file))
        lines = start(running, tmp_path, "actions", *arguments).finish()
    assert [line for line in lines if line.startswith("done")] == [
        f"done {i}" for i in range(STEPS_PER_FAMILY * 2)
    ]
    with opened(sqlite_url) as after:
        problems = check_database(after, AUDIT_KEY) + check_staff_actions(after)
        problems += expected_end(after, families)
    assert not problems
