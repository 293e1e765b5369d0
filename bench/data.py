"""The benchmark databases: demo clinics made once with ``fill_demo_database`` and cached
under ``bench/data/`` (git-ignored).

A cached file is reused only while its stamp (size, seed, the day the clinic is dated, the
schema's migration head and the demo generator's source) still matches; otherwise it is made
again, so a figure is never measured on a database that today's code would not produce.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import inspect
import json
import math
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory

import console.services.demo.clinic as demo_loader
import console.services.demo.households as demo_households
from console.models.database import alembic_config, open_database, resolve_database_url
from console.services.demo.clinic import fill_demo_database

DATA_DIR = Path(__file__).resolve().parent / "data"
SEED = 7
#: Every benchmark clinic is dated the same day, so its content never depends on the clock.
TODAY = dt.date(2026, 11, 2)
#: The demo clinic gives about 79.5 % of its patients a portal account; ask for a few more
#: patients than that share suggests, then check the count.
ACCOUNTS_PER_PATIENT = 0.785
STAMP_VERSION = 1


@dataclass(frozen=True)
class BenchDatabase:
    """A cached demo clinic ready to be measured."""

    path: Path
    patients: int
    accounts: int
    #: Seconds ``fill_demo_database`` took, if the file was made in this run.
    generated_s: float | None

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the file."""
        return sqlite_url(self.path)


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file, as the console makes it from a path."""
    return resolve_database_url(str(path), {})


def say(text: str) -> None:
    """Print a line of progress at once, even into a pipe or a file."""
    print(text, flush=True)


def patients_for(accounts: int) -> int:
    """How many demo patients give at least ``accounts`` portal accounts."""
    return math.ceil(accounts / ACCOUNTS_PER_PATIENT)


def schema_fingerprint() -> dict[str, str]:
    """What a cached database must have been made with to be reused: the migrations (they
    make the schema and its indexes) and the demo generator with the console modules it
    uses, byte for byte."""
    script = ScriptDirectory.from_config(alembic_config())
    migrations = hashlib.sha256()
    for path in sorted(Path(script.versions).glob("*.py")):
        migrations.update(path.name.encode() + b"\0" + path.read_bytes())
    generator = hashlib.sha256()
    for path in _generator_sources():
        generator.update(path.name.encode() + b"\0" + path.read_bytes())
    return {
        "migration_heads": ",".join(sorted(script.get_heads())),
        "migrations_sha256": migrations.hexdigest(),
        "generator_sha256": generator.hexdigest(),
    }


def _generator_sources() -> list[Path]:
    """The demo generator's modules (the records and their loading) and every console module
    they take something from."""
    sources = {Path(demo_households.__file__), Path(demo_loader.__file__)}
    for generator in (demo_households, demo_loader):
        for value in vars(generator).values():
            module = inspect.getmodule(value)
            if module and module.__name__.startswith("console.") and module.__file__:
                sources.add(Path(module.__file__))
    return sorted(sources)


def _stamp(patients: int) -> dict[str, object]:
    return {
        "stamp_version": STAMP_VERSION,
        "patients": patients,
        "seed": SEED,
        "today": TODAY.isoformat(),
        **schema_fingerprint(),
    }


def count_accounts(path: Path) -> int:
    """Portal accounts in the SQLite file (read directly, without upgrading anything)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        (count,) = connection.execute("SELECT count(*) FROM portal_accounts").fetchone()
    return int(count)


def generate(path: Path, patients: int, log: Callable[[str], None] = say) -> float:
    """Fill a new SQLite file at ``path`` with a demo clinic; the seconds
    ``fill_demo_database`` took. The file appears only once complete."""
    part = path.with_name(path.name + ".part")
    _remove(part)
    database = open_database(sqlite_url(part))
    last_report = [time.monotonic()]

    def progress(done: int, total: int) -> None:
        if time.monotonic() - last_report[0] > 15:
            last_report[0] = time.monotonic()
            log(f"  … {done:,} of {total:,} patients")

    try:
        started = time.perf_counter()
        fill_demo_database(database, patients=patients, seed=SEED, today=TODAY, progress=progress)
        elapsed = time.perf_counter() - started
    finally:
        database.dispose()  # the last connection checkpoints and removes the WAL
    _remove(path)  # a stale -wal beside the new file would be read as part of it
    part.replace(path)
    return elapsed


def _remove(path: Path) -> None:
    """Delete a SQLite file with its -wal and -shm companions."""
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        file.unlink(missing_ok=True)


def ensure_database(
    name: str, patients: int, min_accounts: int = 0, log: Callable[[str], None] = say
) -> BenchDatabase:
    """The cached clinic ``name`` with ``patients`` patients, made (again) if it is missing,
    stale or has fewer than ``min_accounts`` accounts."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with open(DATA_DIR / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two benchmark runs never make the same file at once
        return _ensure_database(name, patients, min_accounts, log)


def _ensure_database(
    name: str, patients: int, min_accounts: int, log: Callable[[str], None]
) -> BenchDatabase:
    path = DATA_DIR / f"{name}.db"
    stamp_path = path.with_suffix(".stamp.json")
    wanted = _stamp(patients)
    generated_s = None
    try:
        recorded = json.loads(stamp_path.read_text())
    except (OSError, ValueError):
        recorded = None
    if not path.exists() or recorded is None or recorded.get("inputs") != wanted:
        reason = "missing" if not path.exists() else "made by other code or with other inputs"
        log(f"Making {path.name} ({patients:,} patients; the cached file is {reason}) …")
        stamp_path.unlink(missing_ok=True)
        generated_s = generate(path, patients, log)
        log(f"  made in {generated_s:.1f} s")
        recorded = {"inputs": wanted, "accounts": count_accounts(path)}
        recorded["generated_s"] = round(generated_s, 2)
        stamp_path.write_text(json.dumps(recorded, indent=2) + "\n")
    accounts = int(recorded["accounts"])
    if accounts < min_accounts:
        raise RuntimeError(
            f"{path.name} holds {accounts:,} accounts, fewer than the {min_accounts:,} asked "
            "for: raise ACCOUNTS_PER_PATIENT's margin in bench/data.py."
        )
    return BenchDatabase(path, patients, accounts, generated_s)


def time_generation(patients: int, log: Callable[[str], None] = say) -> float:
    """Seconds ``fill_demo_database`` takes for ``patients`` patients, into a scratch file
    that is deleted afterwards (the issue's "demo --patients 1000000" figure)."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"generation-{patients}.db"
    try:
        return generate(path, patients, log)
    finally:
        _remove(path)
