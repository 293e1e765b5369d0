"""``portal-console import``: a clinic's export brought in headless (issue 13, point 7), through
the same service as the window's wizard.

Exit status: 0 when every row was imported (or, with ``--dry-run``, would be); 3 when some
rows were rejected (the report says which, and why); 2, with one line, when the file cannot
be read at all; 130 when Ctrl+C stopped the import between two batches (what was written is
whole: run the same command again to complete it).
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from types import FrameType

from console.cli_workstation import Adder, acting, with_staff, workstation_for
from console.services.imports.files import open_export, read_mapping
from console.services.imports.plan import Kind
from console.services.imports.report_file import ReportFile
from console.services.imports.run import ImportReport, import_export
from console.services.imports.source import ExportFormat

SOME_REJECTED = 3
INTERRUPTED = 130
#: Rejected rows shown on the terminal (the report file has them all).
SHOWN_REJECTED = 10


def cmd_import(args: argparse.Namespace) -> int:
    """Import charts and portal accounts from a CSV, Excel or FHIR export (a manager)."""
    mapping = read_mapping(Path(args.mapping)) if args.mapping else None
    with workstation_for(args) as workstation:
        actor = acting(workstation, args.staff)
        export = open_export(
            Path(args.file),
            today=workstation.clock.now().date(),
            format=ExportFormat(args.format) if args.format else None,
            encoding=args.encoding,
            mapping=mapping,
        )
        report_file = ReportFile(Path(args.report)) if args.report else None
        with report_file or nullcontext(), _ctrl_c_between_batches() as stopped:
            report = import_export(
                workstation,
                actor,
                export,
                dry_run=args.dry_run,
                on_line=report_file.add if report_file else None,
                progress=_progress_printer(),
                cancelled=stopped,
            )
            if report_file is not None:
                report_file.finish(report)
    _print_summary(report, args.report)
    if not report.finished:
        return INTERRUPTED
    return SOME_REJECTED if report.counts["rejected"] else 0


@contextmanager
def _ctrl_c_between_batches() -> Iterator[Callable[[], bool]]:
    """Ctrl+C asks the import to stop after the batch it is writing, instead of abandoning
    it half-way; a second Ctrl+C stops at once (the batch is then rolled back)."""
    asked: list[bool] = []

    def ask(signum: int, frame: FrameType | None) -> None:
        if asked:
            raise KeyboardInterrupt
        asked.append(True)
        print("\nStopping after this batch (Ctrl+C again to stop now)…", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, ask)
    try:
        yield lambda: bool(asked)
    finally:
        signal.signal(signal.SIGINT, previous)


def _progress_printer() -> Callable[[int], None] | None:
    if not sys.stderr.isatty():
        return None
    return lambda done: print(f"\rRead {done:,} entries", end="", file=sys.stderr)


def _print_summary(report: ImportReport, report_path: str | None) -> None:
    if sys.stderr.isatty():
        print(file=sys.stderr)
    heading = "Dry run — nothing was written" if report.dry_run else "Imported"
    if not report.finished:
        heading += " (stopped before the end of the file: run the command again to complete it)"
    print(f"{heading}: {report.file_name}")
    for name, value in report.figures().items():
        print(f"  {name.replace('_', ' ').capitalize():<24}{value:>10,}")
    rejected = report.first(Kind.REJECTED)[:SHOWN_REJECTED]
    for line in rejected:
        print(f"  rejected row {line.row}: {line.detail}", file=sys.stderr)
    if report.counts["rejected"] > len(rejected):
        where = f"the report {report_path}" if report_path else "--report FILE.csv"
        more = report.counts["rejected"] - len(rejected)
        print(f"  … and {more:,} more rejected rows: see {where}", file=sys.stderr)


def add_import_command(add: Adder) -> None:
    """``import``, added to the main parser by ``console.cli``."""
    command = with_staff(add("import", cmd_import))
    command.add_argument("file", metavar="FILE", help="the export: .csv, .xlsx, .json or .ndjson")
    command.add_argument(
        "--format", choices=[f.value for f in ExportFormat], help="default: from the file name"
    )
    command.add_argument("--encoding", metavar="E", help="a CSV's text encoding (default: found)")
    command.add_argument(
        "--mapping", metavar="FILE", help="a CSV of field,column naming the export's columns"
    )
    command.add_argument("--dry-run", action="store_true", help="report, and write nothing")
    command.add_argument("--report", metavar="FILE", help="every line of the report (.csv/.json)")


__all__ = ["INTERRUPTED", "SOME_REJECTED", "add_import_command"]
