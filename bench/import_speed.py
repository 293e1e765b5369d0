"""Import speed and memory (issue 13): a clinic's CSV export of N rows into an empty database,
then the same file again (nothing changed), each in a fresh process whose peak memory is read
from the operating system.

    .venv/bin/python -m bench.import_speed                      # 100,000 rows, SQLite
    .venv/bin/python -m bench.import_speed --rows 1000000       # a million rows
    .venv/bin/python -m bench.import_speed --postgres postgresql://USER@HOST/EMPTY_DB
    .venv/bin/python -m bench.import_speed --encrypted     # also into an encrypted database

The export is generated (one chart a row, six in ten with a portal account, one in fifty
with a bad e-mail) into a temporary folder; the import is the real service, a batch of 1,000
rows per transaction, with its audit events. Targets: 100,000 rows in at most 30 s, the same
rows again in at most 15 s, 1,000,000 rows in at most 5 minutes with a peak under 300 MB.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from bench.cipher import environment_with_key, key_from_environment
from console.models.database import open_database, resolve_database_url
from console.models.encryption import new_key
from console.models.schema import StaffUser
from console.models.states import StaffRole
from console.services.audit.key import AuditKey
from console.services.audit.trail import AuditTrail
from console.services.clock import SystemClock
from console.services.imports.files import open_export
from console.services.imports.run import import_export
from console.services.permissions import Actor
from console.services.workstation import Workstation

HEADER = ["MRN", "First Name", "Last Name", "DOB", "Email", "Mobile", "Portal Username", "Status"]
FIRST = ["Ann", "Bob", "Cy", "Dora", "Ed", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea"]
LAST = ["Lee", "Ortiz", "Nguyen", "Smith", "Okafor", "Kowalski", "Haddad", "Rossi", "Berg"]
STATES = ["Legacy", "Legacy", "Legacy", "Reset pending", "Migrated", "Deactivated"]
AUDIT_KEY = AuditKey(secret=bytes(range(32)), source="benchmark")


def write_export(path: Path, rows: int, seed: int = 1) -> None:
    """A CSV export of ``rows`` charts, streamed to ``path``."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(HEADER)
        for n in range(1, rows + 1):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            born = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(33_000))
            email = f"{first}.{last}.{n}@example.org".lower()
            if n % 50 == 0:
                email = email.replace("@", " at ")
            account = rng.random() < 0.6
            writer.writerow(
                [
                    f"MRN{n:08d}",
                    first,
                    last,
                    born.strftime("%m/%d/%Y") if n % 2 else born.isoformat(),
                    email,
                    f"555-{rng.randrange(10_000):04d}",
                    f"{first}{n}".lower() if account else "",
                    rng.choice(STATES) if account else "",
                ]
            )


def prepare(url: str, key: bytes | None) -> None:
    """A new, migrated database (encrypted with ``key`` if given) with one manager, who
    runs the imports."""
    database = open_database(url, must_exist=False, cipher_key=key)
    with Session(database.writer) as session, session.begin():
        session.add(
            StaffUser(
                username="manager",
                display_name="Office Manager",
                role=StaffRole.MANAGER.value,
                password_hash="not-used",
            )
        )
    database.dispose()


def run_import(url: str, export_path: Path, key: bytes | None) -> dict[str, object]:
    """One import in this process: seconds, figures and peak memory."""
    database = open_database(url, cipher_key=key)
    clock = SystemClock()
    workstation = Workstation(
        database, AuditTrail(AUDIT_KEY, workstation="bench", clock=clock), clock
    )
    with database.engine.connect() as connection:
        manager_id = connection.execute(text("SELECT id FROM staff_users")).scalar_one()
    actor = Actor(manager_id, "manager", StaffRole.MANAGER.value)
    started = time.perf_counter()
    export = open_export(export_path, today=dt.date.today())
    report = import_export(workstation, actor, export)
    seconds = time.perf_counter() - started
    database.dispose()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": seconds, "peak_mb": peak_kb / 1024, "figures": report.figures()}


def _child(url: str, export_path: Path, key: bytes | None) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.import_speed", "--child", url, str(export_path)],
        check=True,
        capture_output=True,
        text=True,
        env=environment_with_key(os.environ, key),
    )
    result: dict[str, object] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgres", metavar="URL", help="an empty PostgreSQL database")
    parser.add_argument("--encrypted", action="store_true", help="also into an encrypted file")
    parser.add_argument("--child", nargs=2, metavar=("URL", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_import(args.child[0], Path(args.child[1]), key_from_environment())))
        return
    with tempfile.TemporaryDirectory(prefix="import-bench-") as folder:
        export_path = Path(folder) / "export.csv"
        write_export(export_path, args.rows)
        size_mb = export_path.stat().st_size / 1e6
        print(f"{args.rows:,} rows ({size_mb:.0f} MB of CSV):")
        if args.postgres:
            _measure("PostgreSQL", args.postgres, export_path, args.rows, None)
            return
        plain = _measure("SQLite", _file_url(folder, "plain.db"), export_path, args.rows, None)
        if args.encrypted:
            key = new_key()
            url = _file_url(folder, "encrypted.db")
            encrypted = _measure("SQLCipher", url, export_path, args.rows, key)
            for label, before, after in zip(LABELS, plain, encrypted, strict=True):
                print(f"  encryption costs {after / before - 1:+.0%} on '{label}' (target ≤ +15%)")


LABELS = ("empty database", "same file again")


def _file_url(folder: str, name: str) -> str:
    return resolve_database_url(str(Path(folder) / name), {})


def _measure(
    backend: str, url: str, export_path: Path, rows: int, key: bytes | None
) -> list[float]:
    """Both imports into ``url``, printed; their seconds come back."""
    prepare(url, key)
    print(f"  into {backend}:")
    # The targets are for SQLite; PostgreSQL's figures are printed only.
    targets: tuple[float | None, float | None] = (
        (None, None)
        if backend == "PostgreSQL"
        else (30.0, 15.0)
        if rows <= 100_000
        else (300.0, None)
    )
    seconds_each = []
    for label, target in zip(LABELS, targets, strict=True):
        result = _child(url, export_path, key)
        seconds, peak = float(result["seconds"]), float(result["peak_mb"])  # type: ignore[arg-type]
        seconds_each.append(seconds)
        verdict = "" if target is None else (" pass" if seconds <= target else " FAIL")
        limit = "" if target is None else f" (target ≤ {target:.0f} s)"
        memory = " (target < 300 MB)" if rows >= 1_000_000 else ""
        print(
            f"    {label:<16} {seconds:8.1f} s{limit}{verdict}   {rows / seconds:9,.0f} rows/s"
            f"   peak {peak:5.0f} MB{memory}"
        )
        figures = result["figures"]
        assert isinstance(figures, dict)
        shown = ", ".join(f"{k} {v:,}" for k, v in figures.items() if v and k != "entries")
        print(f"      {shown}")
    return seconds_each


if __name__ == "__main__":
    main()
