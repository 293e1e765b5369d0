"""GUI-thread stalls of the real console on a big demo clinic (issue 6, point 7).

    .venv/bin/python -m bench.gui_stall [--patients 100000] [--db PATH] [--no-sampling]
                                        [--gc-freeze] [--only call|import]

"Searching, opening details and every action keep the window responsive: no GUI-thread stall
over ~100 ms on a 100,000-patient database." This script opens the REAL main window offscreen
as ``console.app._run_gui`` composes it (the account model with its own worker pool, the front
desk, the session guard, the one-thread runner the dialogs share, the mail relay writing to a
pickup folder instead of a mail server), signed in as the demo front-desk user, and walks
through a front-desk call step by step the way a person does: keystrokes, clicks, menu
actions; every dialog opened with ``open()``, never ``exec()``. Then the office manager signs
in and imports a generated CSV export of as many rows as the clinic has patients through the
real Import wizard (``bench.gui_stall_import``): the dry run and the import run on the
wizard's worker thread while the GUI thread is measured. ``--only`` runs one of the two.

How a stall is measured:

* a ``QTimer`` ticks every 5 ms on the GUI thread; the largest gap between two ticks during a
  step, minus the 5 ms, is the step's stall (a blocked event loop cannot tick);
* every synchronous call the script makes on the GUI thread (a keystroke, a click) is timed
  with ``QElapsedTimer`` too;
* unless ``--no-sampling``, a watchdog thread samples the GUI thread's Python stack (and the
  other threads') whenever a tick is more than 30 ms late: that is where the time goes;
* every garbage collection of 5 ms or more is noted (``gc.callbacks``): a collection holds
  the GIL, so even one on a worker thread stops the GUI thread. ``--gc-freeze`` does what
  the console does once the window is up (``gc.freeze()``); without it, the difference.

Waiting for a worker's answer runs a nested ``QEventLoop`` (never ``sleep``), so the waiting
itself cannot stall the GUI thread. The demo clinic is made once with ``portal-console demo``
(``.demo/gui-stall-<patients>.db``, git-ignored; delete it to make it again with today's
generator) and each run works on a scratch copy in a temporary folder, so the clinic stays as
generated. Nothing of the user's is read or written: no keyring, no settings file, no saved
window layout. Results: printed, and written to ``bench/results/gui-stall.md``. The exit
status is 0 even when a step is over the limit: this is a measurement.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Never the developer's keyring (the audit key of a demo clinic is in the clinic itself).
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
# (Imports after these two lines on purpose: Qt and keyring read them when loaded.)

import PySide6
from PySide6.QtCore import qInstallMessageHandler
from sqlalchemy import text

import console.app
from bench.gui_stall_call import STAFF_USER, walk
from bench.gui_stall_import import MANAGER_USER, walk_import
from bench.stall_probe import (
    LIMIT_MS,
    TICK_MS,
    Driver,
    StackSampler,
    StallProbe,
    quiet_offscreen,
)
from bench.stall_report import render
from console.app import create_application
from console.models.database import open_database, resolve_database_url
from console.services.mail.transport import PickupDirectoryTransport
from console.services.settings.values import ConsoleSettings
from console.services.workstation_setup import build_workstation

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "gui-stall.md"


# --- the clinic -------------------------------------------------------------------------------


def ensure_demo(path: Path, patients: int) -> None:
    """Make the demo clinic with ``portal-console demo`` unless ``path`` exists."""
    if path.exists():
        print(f"Reusing the demo clinic {path}")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    part.unlink(missing_ok=True)
    print(f"Making a {patients:,}-patient demo clinic at {path} (once) …", flush=True)
    command = [sys.executable, "-m", "console", "demo", "--db", str(part)]
    subprocess.run([*command, "--patients", str(patients)], check=True, cwd=ROOT)
    part.rename(path)


def scratch_copy(source: Path, folder: Path) -> Path:
    """A consistent copy of the clinic to change freely (SQLite's backup API)."""
    target = folder / "clinic.db"
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gui_stall", description=__doc__)
    parser.add_argument("--patients", type=int, default=100_000, help="demo clinic size")
    parser.add_argument("--db", type=Path, help="the demo clinic (made if missing)")
    parser.add_argument("--no-sampling", action="store_true", help="no stack sampling")
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="gc.freeze() once the window is up, as the console does",
    )
    parser.add_argument(
        "--switch-interval",
        type=float,
        metavar="MS",
        help="what-if: another GIL switch interval than the console's 1 ms (Python's: 5 ms)",
    )
    parser.add_argument(
        "--only",
        choices=("call", "import"),
        help="only the front-desk call, or only the import (of --patients rows)",
    )
    args = parser.parse_args(argv)
    demo = (args.db or ROOT / ".demo" / f"gui-stall-{args.patients}.db").resolve()
    ensure_demo(demo, args.patients)

    console.app.hand_over_the_gil_quickly()  # as _run_gui does
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval / 1000)
    application = create_application([sys.argv[0]])
    qInstallMessageHandler(quiet_offscreen)
    with tempfile.TemporaryDirectory(prefix="gui-stall-") as folder:
        copy = scratch_copy(demo, Path(folder))
        database = open_database(resolve_database_url(str(copy), {}))
        # A clinic that sends its e-mails, into a pickup folder (no mail server needed).
        settings = ConsoleSettings(
            clinic_name="Demo Clinic",
            clinic_phone="+1 555 010 2000",
            portal_base_url="https://portal.example.org",
            smtp_host="localhost",
            smtp_sender="clinic@example.org",
        )
        mail = Path(folder) / "pickup"
        mail.mkdir()

        def pickup(settings: ConsoleSettings, password: str | None) -> PickupDirectoryTransport:
            return PickupDirectoryTransport(mail)

        # run_mail_relay's transport: console.app looks the name up when the relay starts.
        console.app.transport_from_settings = pickup  # type: ignore[attr-defined]
        workstation = build_workstation(database, settings)
        with database.engine.connect() as connection:
            accounts = connection.execute(text("SELECT count(*) FROM portal_accounts")).scalar()
        probe = StallProbe()
        sampler = None if args.no_sampling else StackSampler(probe)
        if sampler:
            sampler.start()
        driver = Driver(probe, sampler)
        print(f"Measuring on a copy of {demo} ({accounts:,} portal accounts)")
        try:
            if args.only != "import":
                walk(
                    driver,
                    database,
                    workstation,
                    settings,
                    folder=Path(folder),
                    freeze=args.gc_freeze,
                )
            if args.only != "call":
                walk_import(
                    driver,
                    database,
                    workstation,
                    settings,
                    folder=Path(folder),
                    rows=args.patients,
                    freeze=args.gc_freeze,
                )
        finally:
            if sampler:
                sampler.stop()
            database.dispose()
    application.processEvents()

    flags = " --gc-freeze" * args.gc_freeze + " --no-sampling" * args.no_sampling
    flags += f" --only {args.only}" if args.only else ""
    if args.switch_interval is not None:
        flags += f" --switch-interval {args.switch_interval:g}"
    who = {
        None: f"signed in as `{STAFF_USER}`, then as `{MANAGER_USER}` for an import of "
        f"{args.patients:,} rows",
        "call": f"signed in as `{STAFF_USER}`",
        "import": f"signed in as `{MANAGER_USER}` for an import of {args.patients:,} rows",
    }[args.only]
    header = [
        "# GUI-thread stalls of the console (issue 6, point 7)",
        "",
        f"`python -m bench.gui_stall --patients {args.patients}{flags}` on "
        f"{dt.date.today():%Y-%m-%d}: {accounts:,} portal accounts, the real main window "
        f"offscreen, {who}. Python {platform.python_version()}, "
        f"PySide6 {PySide6.__version__}, {os.cpu_count()} cores, {platform.platform()}; "
        f"GIL switch interval {sys.getswitchinterval() * 1000:g} ms.",
        "",
        f"*Max GUI stall*: the largest gap between two ticks of a {TICK_MS} ms timer on the GUI "
        f"thread during the step, minus {TICK_MS} ms; over {LIMIT_MS:.0f} ms fails. *Slowest "
        "sync call*: the longest keystroke or click the script made (QElapsedTimer). *Wait for "
        "result*: from the last action to the awaited answer on screen. Step 1's build happens "
        "before the window is on screen and is not counted as a stall.",
    ]
    report = render(driver.steps, header)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(report, encoding="utf-8")
    print()
    print(report)
    over = [s.name for s in driver.steps if s.verdict != "pass"]
    print(f"Over {LIMIT_MS:.0f} ms or failed: {', '.join(over)}" if over else "Every step passed.")
    print(f"Written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
