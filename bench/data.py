"""The benchmark databases: demo clinics made once with ``fill_demo_database`` and cached
under ``bench/data/`` (git-ignored).

A cached file is reused only while its stamp (size, seed, the day the clinic is dated, the
schema's migration head and the demo generator's source) still matches; otherwise it is made
again, so a figure is never measured on a database that today's code would not produce.

``--encrypted`` also measures an encrypted copy of each clinic, made with the console's own
export (``encrypt_copy``) under the fixed ``bench.cipher.BENCH_KEY`` and cached the same way:
made again whenever its plain clinic is, or the encryption code changes.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import inspect
import json
import math
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import text

import console.models.encryption as encryption
import console.models.sqlite_copy as sqlite_copy
import console.services.demo.clinic as demo_loader
import console.services.demo.households as demo_households
from bench.cipher import BENCH_KEY
from console.models.database import alembic_config, open_database, resolve_database_url
from console.models.sqlite_copy import encrypt_copy, read_only
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
    return {
        "migration_heads": ",".join(sorted(script.get_heads())),
        "migrations_sha256": _sha256_of(sorted(Path(script.versions).glob("*.py"))),
        "generator_sha256": _sha256_of(_generator_sources()),
    }


def _sha256_of(sources: Iterable[Path]) -> str:
    """One digest of the files' names and bytes."""
    digest = hashlib.sha256()
    for path in sources:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


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


def count_accounts(path: Path, key: bytes | None = None) -> int:
    """Portal accounts in the SQLite file, encrypted with ``key`` if given (read directly,
    without upgrading anything)."""
    with read_only(path, key) as connection:
        return int(connection.execute(text("SELECT count(*) FROM portal_accounts")).scalar_one())


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


@contextmanager
def _locked() -> Iterator[None]:
    """Two benchmark runs never make the same file at once."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with open(DATA_DIR / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def ensure_database(
    name: str, patients: int, min_accounts: int = 0, log: Callable[[str], None] = say
) -> BenchDatabase:
    """The cached clinic ``name`` with ``patients`` patients, made (again) if it is missing,
    stale or has fewer than ``min_accounts`` accounts."""
    with _locked():
        return _ensure_database(name, patients, min_accounts, log)


def _ensure_database(
    name: str, patients: int, min_accounts: int, log: Callable[[str], None]
) -> BenchDatabase:
    path = DATA_DIR / f"{name}.db"

    def make() -> dict[str, Any]:
        seconds = generate(path, patients, log)
        return {"accounts": count_accounts(path), "generated_s": round(seconds, 2)}

    recorded, made = _cached(path, _stamp(patients), f"{patients:,} patients", make, log)
    accounts = int(recorded["accounts"])
    if accounts < min_accounts:
        raise RuntimeError(
            f"{path.name} holds {accounts:,} accounts, fewer than the {min_accounts:,} asked "
            "for: raise ACCOUNTS_PER_PATIENT's margin in bench/data.py."
        )
    return BenchDatabase(path, patients, accounts, recorded["generated_s"] if made else None)


def ensure_encrypted(plain: BenchDatabase, log: Callable[[str], None] = say) -> BenchDatabase:
    """The cached encrypted copy of the clinic ``plain`` (``BENCH_KEY``), made (again) if it
    is missing, if ``plain`` was made since, or if the encryption code changed."""
    path = plain.path.with_name(f"{plain.path.stem}-encrypted.db")

    def make() -> dict[str, Any]:
        seconds = encrypt(plain, path)
        accounts = count_accounts(path, BENCH_KEY)
        if accounts != plain.accounts:
            raise RuntimeError(f"{path.name} holds {accounts:,} accounts, not {plain.accounts:,}")
        return {"accounts": accounts, "encrypted_s": round(seconds, 2)}

    with _locked():
        wanted = {
            # The plain file's own stamp: its inputs, and its time of making, which tells one
            # making of it from another.
            "copy_of": json.loads(_stamp_path(plain.path).read_text()),
            "encryption_sha256": _sha256_of(
                Path(inspect.getfile(module)) for module in (encryption, sqlite_copy)
            ),
            "key_sha256": hashlib.sha256(BENCH_KEY).hexdigest(),
        }
        recorded, _ = _cached(path, wanted, f"an encrypted copy of {plain.path.name}", make, log)
    return BenchDatabase(path, plain.patients, int(recorded["accounts"]), None)


def encrypt(plain: BenchDatabase, path: Path) -> float:
    """Write an encrypted copy (``BENCH_KEY``) of ``plain`` to the file ``path`` with the
    console's own export, as ``portal-console encrypt`` does; the seconds the export took.
    The file appears only once complete."""
    part = path.with_name(path.name + ".part")
    _remove(part)
    started = time.perf_counter()
    encrypt_copy(open_database(plain.url), part, BENCH_KEY)
    elapsed = time.perf_counter() - started
    # The export leaves both files in rollback-journal mode; opening them as the console
    # does puts them back in WAL mode, in which every run finds them.
    open_database(plain.url).dispose()
    open_database(sqlite_url(part), cipher_key=BENCH_KEY).dispose()
    _remove(path)
    part.replace(path)
    return elapsed


def _stamp_path(path: Path) -> Path:
    return path.with_suffix(".stamp.json")


def _cached(
    path: Path,
    wanted: dict[str, Any],
    what: str,
    make: Callable[[], dict[str, Any]],
    log: Callable[[str], None],
) -> tuple[dict[str, Any], bool]:
    """What the stamp beside ``path`` records, after ``make()`` made the file (again) and
    gave what to record with ``wanted``, if the file was missing or its stamp is not
    ``wanted``; and whether it was made now."""
    stamp_path = _stamp_path(path)
    recorded: dict[str, Any] | None
    try:
        recorded = json.loads(stamp_path.read_text())
    except (OSError, ValueError):
        recorded = None
    if path.exists() and recorded is not None and recorded.get("inputs") == wanted:
        return recorded, False
    reason = "missing" if not path.exists() else "made by other code or with other inputs"
    log(f"Making {path.name} ({what}; the cached file is {reason}) …")
    stamp_path.unlink(missing_ok=True)
    started = time.perf_counter()
    recorded = {"inputs": wanted} | make()
    log(f"  made in {time.perf_counter() - started:.1f} s")
    stamp_path.write_text(json.dumps(recorded, indent=2) + "\n")
    return recorded, True


def time_generation(patients: int, log: Callable[[str], None] = say) -> float:
    """Seconds ``fill_demo_database`` takes for ``patients`` patients, into a scratch file
    that is deleted afterwards (the issue's "demo --patients 1000000" figure)."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"generation-{patients}.db"
    try:
        return generate(path, patients, log)
    finally:
        _remove(path)
