"""Benchmark the account table against Qt's own SQL model on one big SQLite database.

    .venv/bin/python -m bench                  # 1,000,000 accounts, 5 runs (~8 min)
    .venv/bin/python -m bench --quick          # 20,000 accounts, 1 run: a smoke check
    .venv/bin/python -m bench --with-generation  # also time a 1,000,000-patient demo fill
    .venv/bin/python -m bench --encrypted      # also ours on encrypted copies: what SQLCipher costs

Every measurement runs in a fresh child process (``bench.child``, ``bench.cold_start``); this
process makes the databases (once; about 3 minutes for a million accounts), starts the children
in turn, takes the medians, prints the table and writes the JSON (and a Markdown copy of the
table beside it). With ``--encrypted`` our side of every figure is measured again, in the same
runs, on an encrypted copy of each database (the baseline cannot read one), and a second table
gives each figure's cost against the plain file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from bench import baseline
from bench.cipher import BENCH_KEY
from bench.data import (
    DATA_DIR,
    BenchDatabase,
    ensure_database,
    ensure_encrypted,
    patients_for,
    time_generation,
)
from bench.report import (
    Metric,
    Target,
    below,
    both,
    markdown_table,
    ratio_at_most,
    split_table,
)
from bench.report import text_table as render_text_table
from bench.runner import ROOT, Bench, Side, run_all
from bench.searches import pick_searches
from console.models.encryption import HMAC, cipher_dbapi

DEFAULT_OUT = ROOT / "bench" / "results" / "latest.json"
GENERATION_PATIENTS = 1_000_000
#: What encryption at rest may cost on every figure of ours (issue 14, point 1).
ENCRYPTION_TARGET = ratio_at_most(1.15, "≤ +15 %")
ENCRYPTION_TITLE = "What encryption at rest costs ours (SQLCipher against plain SQLite)"
ENCRYPTION_NOTE = (
    "Ours again, in the same runs, on a copy of each database encrypted with SQLCipher "
    f"(raw 32-byte key, {HMAC} pages) by the console's own export; the cost is encrypted / "
    "plain - 1, of the medians. The plain file is read by Python's SQLite, the encrypted one "
    "by the SQLite built into SQLCipher (their versions: machine in the JSON)."
)


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--accounts", type=int, default=1_000_000, help="portal accounts")
    parser.add_argument("--runs", type=int, default=5, help="runs of each measurement")
    parser.add_argument(
        "--search-runs", type=int, default=3, help="runs of our 50 searches (at most --runs)"
    )
    parser.add_argument(
        "--baseline-search-runs",
        type=int,
        default=1,
        help="runs of the baseline's 50 searches (each re-runs the query on the GUI thread)",
    )
    parser.add_argument(
        "--memory-runs", type=int, default=1, help="runs of the end-to-end visit (peak memory)"
    )
    parser.add_argument(
        "--visit-steps", type=int, default=200, help="even jumps of the end-to-end visit"
    )
    parser.add_argument(
        "--cold-patients", type=int, default=100_000, help="patients of the cold-start clinic"
    )
    parser.add_argument(
        "--with-generation",
        action="store_true",
        help=f"also time filling a {GENERATION_PATIENTS:,}-patient demo clinic (~2 min)",
    )
    parser.add_argument(
        "--encrypted",
        action="store_true",
        help="also measure ours on encrypted copies of the databases and print the cost",
    )
    parser.add_argument("--quick", action="store_true", help="20,000 accounts, 1 run")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the JSON to write")
    arguments = parser.parse_args(argv)
    if arguments.quick:
        arguments.accounts, arguments.runs = 20_000, 1
        arguments.cold_patients, arguments.visit_steps = 20_000, 20
        if arguments.out == DEFAULT_OUT:  # a smoke check's figures are not for committing
            arguments.out = DATA_DIR / "quick.json"
    return arguments


def metrics_of(
    bench: Bench, generation_s: float | None, ours: str = "ours", baseline: str = "baseline"
) -> list[Metric]:
    """The issue's figures from the samples of the tables ``ours`` and ``baseline``."""
    arguments = bench.arguments

    def pair(key: str, label: str, unit: str, figures: tuple[str, ...]) -> Metric:
        metric = Metric(key, label, unit)
        for figure in figures:
            metric.ours += bench.samples(figure, ours)
            metric.baseline += bench.samples(figure, baseline)
            metric.ours_data += bench.data_samples(figure, ours)
            metric.baseline_data += bench.data_samples(figure, baseline)
        return metric

    first = pair("first_paint", "First painted page", "ms", ("first_paint_ms",))
    first.target = ratio_at_most(1.0, "ratio ≤ 1.0")
    first.note = (
        "From build_main_window (ours) or QSqlQueryModel.setQuery (baseline) to the first "
        "page painted with its rows, in a 1280x800 window; every child process's first paint."
    )
    last = pair("jump_last", "Jump to the last row, painted", "ms", ("jump_last_ms",))
    last.target = ratio_at_most(1 / 40, "≥ 40x faster")
    last.note = "The baseline must fetch every row first (fetchMore until canFetchMore is false)."
    middle = pair("jump_middle", "Jump to the middle row, painted", "ms", ("jump_middle_ms",))
    middle.note = "The baseline fetches up to the middle row (it is told the row count)."
    resort = pair("sort_name", "Re-sort by name, painted", "ms", ("sort_desc_ms", "sort_asc_ms"))
    resort.note = (
        "Name descending, then back to ascending, from the top of the list: a header click "
        "(ours), setQuery with the other ORDER BY (baseline)."
    )
    p50 = Metric("search_p50", "Search keystroke → painted, p50", "ms")
    p95 = Metric("search_p95", "Search keystroke → painted, p95", "ms")
    for metric, percent in ((p50, 50), (p95, 95)):
        metric.ours = bench.search_percentiles(ours, percent)
        metric.baseline = bench.search_percentiles(baseline, percent)
        metric.ours_data = bench.search_data_percentiles(ours, percent)
        metric.baseline_data = bench.search_data_percentiles(baseline, percent)
    p95.target = below(50, "< 50 ms")
    p50.note = (
        f"50 fixed searches; each typed but its last key, left to finish, then the last key "
        f"pressed and timed until its results are painted. Percentiles of each run, median "
        f"over {min(arguments.search_runs, arguments.runs)} run(s) (ours) and "
        f"{min(arguments.baseline_search_runs, arguments.runs)} (baseline, whose every "
        f"keystroke re-runs the query on the GUI thread)."
    )
    p95.note = "As p50."
    memory = Metric("peak_memory", "Peak memory after visiting the whole list", "MB")
    memory.ours, memory.baseline = bench.memory_samples(ours), bench.memory_samples(baseline)
    memory.target = both(ratio_at_most(0.2, "≤ 1/5 of baseline"), below(200, "< 200 MB"))
    memory.note = (
        f"Peak RSS of the whole process (interpreter and Qt included) after a jump to the last "
        f"row and {arguments.visit_steps} even jumps from the top to the bottom."
    )
    clusters = pair("clusters", "List all shared-e-mail clusters", "ms", ("clusters_ms",))
    clusters.target = below(300, "< 300 ms")
    scratch = bench.info_samples("clusters", "from_scratch_ms", "baseline")
    clusters.note = (
        "On a new connection: console.models.shared_email.shared_email_clusters (ours); one "
        "GROUP BY over the kept shared_email flag through QSqlQuery (baseline)."
    )
    if scratch:
        clusters.note += (
            f" Without the flag (GROUP BY e-mail HAVING count > 1 over active accounts) the "
            f"baseline takes {statistics.median(scratch):,.0f} ms."
        )
    flag = pair("shared_page", "Shared-e-mail only: page painted", "ms", ("shared_page_ms",))
    flag.note = (
        "Ticking 'Shared e-mail only' (ours) or setQuery with shared_email = 1 (baseline); "
        "both read the flag from its column, every page shows it."
    )
    cold = pair("cold_start", "Cold start to a usable window", "ms", ("cold_ms",))
    cold.label += f" ({arguments.cold_patients:,} patients)"
    cold.target = below(1500, "< 1.5 s")
    cold.note = (
        "From starting the process to its first page painted: interpreter, imports, opening "
        "the database (ours checks its migrations) and the window."
    )
    metrics = [first, last, middle, resort, p50, p95, memory, clusters, flag, cold]
    if generation_s is not None:
        generation = Metric("generation", f"Demo fill, {GENERATION_PATIENTS:,} patients", "s")
        generation.ours = [round(generation_s, 2)]
        generation.target = Target("≤ 2 min", lambda ours, _baseline: ours <= 120)
        metrics.append(generation)
    return metrics


def encryption_costs(bench: Bench) -> list[Metric]:
    """Each figure of ours on the encrypted copies against the same on the plain files."""
    costs = metrics_of(bench, None, ours="encrypted", baseline="ours")
    for metric in costs:
        metric.sides, metric.target, metric.note = ("encrypted", "plain"), ENCRYPTION_TARGET, ""
    return costs


def machine_info(database: BenchDatabase) -> dict[str, Any]:
    """Where and with what the figures were taken."""
    import PySide6
    import sqlalchemy
    from PySide6.QtCore import qVersion

    memory_kb = 0
    try:
        with open("/proc/meminfo") as meminfo:
            memory_kb = int(meminfo.readline().split()[1])
    except (OSError, ValueError, IndexError):
        pass
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            names = [line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "memory_gb": round(memory_kb / 2**20, 1),
        "python": platform.python_version(),
        "pyside6": PySide6.__version__,
        "qt": qVersion(),
        "sqlalchemy": sqlalchemy.__version__,
        "sqlite_python": sqlite3.sqlite_version,
        "sqlite_qt": baseline.sqlite_version(database.path),
        "sqlcipher": sqlcipher_version(),
    }


def sqlcipher_version() -> str:
    """SQLCipher's version and that of the SQLite it is built on (encrypted files only)."""
    with closing(cipher_dbapi().connect(":memory:")) as connection:
        (version,) = connection.execute("PRAGMA cipher_version").fetchone()
    return f"{version}, SQLite {cipher_dbapi().sqlite_version}"


def busy_share(seconds: float = 1.0) -> float | None:
    """The share of all CPU time spent on work (anyone's) over the next ``seconds``, while
    this process sleeps: how busy the machine is besides the benchmark (None off Linux)."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
        return sum(values), idle

    try:
        total_before, idle_before = sample()
        time.sleep(seconds)
        total_after, idle_after = sample()
    except (OSError, ValueError, IndexError):
        return None
    total = total_after - total_before
    return round(1 - (idle_after - idle_before) / total, 2) if total else None


def code_version() -> dict[str, Any]:
    """The commit measured, and whether the working tree differed from it."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, cwd=ROOT, check=False
        ).stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))}


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    began = time.perf_counter()
    code = code_version()  # before the results file is rewritten
    prefix = "quick" if arguments.quick else "accounts"
    database = ensure_database(
        f"{prefix}-{arguments.accounts}", patients_for(arguments.accounts), arguments.accounts
    )
    cold = database
    if arguments.cold_patients != database.patients:
        cold = ensure_database(f"cold-start-{arguments.cold_patients}", arguments.cold_patients)
    print(
        f"Database: {database.path.name}, {database.patients:,} patients, "
        f"{database.accounts:,} accounts; cold start on {cold.patients:,} patients",
        flush=True,
    )
    bench = Bench(arguments, database, cold)
    if arguments.encrypted:
        encrypted = ensure_encrypted(database)
        encrypted_cold = encrypted if cold is database else ensure_encrypted(cold)
        bench.sides["encrypted"] = Side("ours", encrypted.path, encrypted_cold.path, BENCH_KEY)
        print(f"Encrypted copies: {encrypted.path.name}, {encrypted_cold.path.name}", flush=True)
    generation_s = None
    if arguments.with_generation:
        print(f"Timing a {GENERATION_PATIENTS:,}-patient demo fill …", flush=True)
        generation_s = time_generation(GENERATION_PATIENTS)
        print(f"  {generation_s:.1f} s", flush=True)
    searches = pick_searches(database.path)
    bench.busy_at_start = busy = busy_share()
    if busy is not None and busy > 0.25:
        print(f"Warning: other work keeps {busy:.0%} of the CPUs busy; figures will suffer.")
    with tempfile.TemporaryDirectory() as scratch:
        searches_file = Path(scratch) / "searches.json"
        searches_file.write_text(json.dumps(searches))
        run_all(bench, searches_file)
    metrics = metrics_of(bench, generation_s)
    costs = encryption_costs(bench) if arguments.encrypted else []
    print()
    print(render_text_table(metrics))
    print()
    print(split_table(metrics))
    if costs:
        print(f"\n{ENCRYPTION_TITLE}:\n")
        print(render_text_table(costs, cost=True))
    if arguments.quick:
        print("(The targets are for 1,000,000 accounts; a quick run only checks that all runs.)")
    for error in bench.errors:
        print(f"error: run {error['run']} {error['scenario']} {error['model']}: {error['error']}")
    elapsed_s = round(time.perf_counter() - began, 1)
    document = results_document(bench, cold, searches, metrics, costs, argv)
    document["code"], document["elapsed_s"] = code, elapsed_s
    markdown = markdown_table(metrics) + "\n\n"
    markdown += "".join(f"- {m.label}: {m.note}\n" for m in metrics if m.note)
    if costs:
        markdown += f"\n{ENCRYPTION_TITLE}:\n\n{markdown_table(costs, cost=True)}\n\n"
        markdown += f"{ENCRYPTION_NOTE}\n"
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.write_text(json.dumps(document, indent=1) + "\n")
    arguments.out.with_suffix(".md").write_text(markdown)
    print(f"\nWrote {arguments.out} and {arguments.out.with_suffix('.md').name}")
    print(f"({elapsed_s / 60:.1f} min)")
    return 1 if bench.errors else 0


def results_document(
    bench: Bench,
    cold: BenchDatabase,
    searches: list[dict[str, str]],
    metrics: list[Metric],
    costs: list[Metric],
    argv: list[str] | None,
) -> dict[str, Any]:
    """Everything the JSON file holds: where, on what and with which code the figures were
    taken, every figure with all its samples (and what encryption costs each, if measured),
    and every child's raw result."""
    database = bench.database
    encrypted = bench.sides.get("encrypted")
    encryption = None
    if encrypted is not None:
        encryption = {
            "database": encrypted.database.name,
            "cold_start_database": encrypted.cold_start.name,
            "key": "bench.cipher.BENCH_KEY: fixed, not a secret",
            "target": ENCRYPTION_TARGET.text,
            "note": ENCRYPTION_NOTE,
            "metrics": [metric.as_json() for metric in costs],
        }
    return {
        "issue": "A million accounts, instantly: benchmark suite against Qt's own SQL model",
        "command": " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])]),
        "machine": machine_info(database),
        "config": {
            key: str(value) if isinstance(value, Path) else value
            for key, value in vars(bench.arguments).items()
        },
        "database": {
            "file": database.path.name,
            "patients": database.patients,
            "accounts": database.accounts,
            "generated_s": database.generated_s,
        },
        "cold_start_database": {"file": cold.path.name, "patients": cold.patients},
        "baseline_queries": baseline.describe(database.path),
        "searches": searches,
        "metrics": [metric.as_json() for metric in metrics],
        "encryption": encryption,
        "cpu_busy_share": {"before": bench.busy_at_start, "after": busy_share()},
        "results": bench.results,
        "errors": bench.errors,
    }


if __name__ == "__main__":
    sys.exit(main())
