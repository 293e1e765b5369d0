"""An import's report as a CSV file (issue 13): the lines of a real dry run and import, their
columns and header, the summary after them; lines kept beyond memory, and a report that
cannot be written leaving nothing half-written."""

from __future__ import annotations

import csv
import stat
import threading
from pathlib import Path

import pytest

from console.models.states import StaffRole
from console.services.imports.files import open_export
from console.services.imports.plan import Kind, ReportLine
from console.services.imports.report_file import (
    REPORT_COLUMNS,
    ReportFile,
    ReportLines,
    ReportNotSaved,
    report_row,
)
from console.services.imports.run import ImportReport, import_export
from console.services.workstation import Workstation
from tests.services.conftest import add_staff
from tests.services.imports.reading import TODAY, write_file

EXPORT = (
    "MRN,First Name,Last Name,DOB,Email,Username\n"
    "M1,Ann,Lee,1990-01-01,ann@example.org,ann\n"
    "M2,Bob,Lee,1990-02-30,,bob\n"
    'M3,"Cy, Jr.",Lee,1990-03-03,not-an-address,cy\n'
)


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.reader(file))


def run(
    desk: Workstation, staff_hash: str, tmp_path: Path, *, dry_run: bool
) -> tuple[ImportReport, list[ReportLine]]:
    manager = add_staff(desk.database, StaffRole.MANAGER, staff_hash, f"m{dry_run}")
    export = open_export(write_file(tmp_path, EXPORT), today=TODAY)
    lines: list[ReportLine] = []
    report = import_export(desk, manager, export, dry_run=dry_run, on_line=lines.append)
    return report, lines


def write_report_csv(
    path: Path, lines: list[ReportLine], report: ImportReport, writer: str = "window"
) -> None:
    """The report saved as the window saves it (lines kept, then saved) or as the command
    line writes it (streamed)."""
    if writer == "window":
        kept = ReportLines()
        for line in lines:
            kept.add(line)
        kept.save(path, report)
        kept.close()
        return
    with ReportFile(path) as streamed:
        for line in lines:
            streamed.add(line)
        streamed.finish(report)


@pytest.mark.parametrize("writer", ["window", "command line"])
def test_the_report_is_a_header_every_line_then_the_summary(
    desk: Workstation, staff_hash: str, tmp_path: Path, writer: str
) -> None:
    report, lines = run(desk, staff_hash, tmp_path, dry_run=False)
    path = tmp_path / "report.csv"
    write_report_csv(path, lines, report, writer)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    rows = read_csv(path)
    assert rows[0] == list(REPORT_COLUMNS) == ["row", "kind", "mrn", "username", "detail"]
    body = [row for row in rows[1:] if row[1] != "summary"]
    assert body == [list(report_row(line)) for line in lines]
    assert ["3", "rejected", "", "", "the date of birth '1990-02-30' is not a real date"] in body
    assert ["2", "new chart", "M1", "ann", ""] in body
    warning = next(row for row in body if row[1] == "warning")
    assert warning[:4] == ["4", "warning", "M3", "cy"] and "not-an-address" in warning[4]
    summary = [row[4] for row in rows[1:] if row[1] == "summary"]
    assert all(row[:4] == ["", "summary", "", ""] for row in rows if row[1] == "summary")
    assert summary[:3] == ["import finished", "file: export.csv", f"sha256: {report.sha256}"]
    assert summary[3:] == [f"{name}: {count}" for name, count in report.figures().items()]
    assert "new_charts: 2" in summary and "rejected: 1" in summary
    assert rows[-1][4] == "stale_addresses: 0"


def test_a_dry_run_says_nothing_was_written(
    desk: Workstation, staff_hash: str, tmp_path: Path
) -> None:
    report, lines = run(desk, staff_hash, tmp_path, dry_run=True)
    kept = ReportLines()
    for line in lines:
        kept.add(line)
    path = tmp_path / "preview.csv"
    kept.save(path, report)
    kept.close()
    rows = read_csv(path)
    assert rows[len(lines) + 1] == ["", "summary", "", "", "dry run: nothing was written"]
    assert [tuple(row) for row in rows[1 : len(lines) + 1]] == [report_row(line) for line in lines]


def test_lines_beyond_the_memory_limit_are_kept_and_saved_whole(tmp_path: Path) -> None:
    kept = ReportLines(memory_limit=1_000)  # a few dozen lines, then a temporary file
    lines = [ReportLine(n, Kind.NEW_CHART, f"M{n}", f"user{n}", "") for n in range(2, 5_002)]
    for line in lines:
        kept.add(line)
    assert kept.count == 5_000
    report = ImportReport("big.csv", "ab" * 32, "csv", dry_run=False, finished=True)
    for attempt in ("first.csv", "again.csv"):  # saved as often as staff like
        kept.save(tmp_path / attempt, report)
        rows = read_csv(tmp_path / attempt)
        assert [tuple(row) for row in rows[1:5_001]] == [report_row(line) for line in lines]
        assert rows[5_001][4] == "import finished"
    kept.close()
    kept.add(lines[0])  # after close: dropped, no error
    assert kept.count == 5_000
    with pytest.raises(ValueError, match="let go of"):
        kept.save(tmp_path / "closed.csv", report)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.csv", "first.csv"]


def test_lines_added_by_the_worker_while_the_window_closes_them_are_dropped() -> None:
    kept = ReportLines(memory_limit=100)
    line = ReportLine(2, Kind.WARNING, "M1", "", "the e-mail 'x' is not a valid address")
    started = threading.Event()

    def worker() -> None:
        started.set()
        for _ in range(20_000):
            kept.add(line)

    thread = threading.Thread(target=worker)
    thread.start()
    started.wait(5)
    kept.close()
    thread.join(10)
    assert not thread.is_alive() and kept.count < 20_000


def test_closing_never_waits_for_the_worker_which_lets_go_once_done(tmp_path: Path) -> None:
    """The window closes the wizard while the worker is saving the report (it holds the
    lines): closing returns at once, and the worker lets go of them once its save is done."""
    kept = ReportLines(memory_limit=1_000)
    line = ReportLine(2, Kind.NEW_CHART, "M1", "ann", "")
    for _ in range(200):
        kept.add(line)
    report = ImportReport("export.csv", "00" * 32, "csv", dry_run=False, finished=True)
    path = tmp_path / "report.csv"
    busy = kept._lock  # what the worker holds while it adds a line or copies the lines
    busy.acquire()
    worker = threading.Thread(target=kept.save, args=(path, report))
    worker.start()  # waits for the lines
    kept.close()  # does not wait
    assert not kept.closed
    busy.release()
    worker.join(5)
    assert not worker.is_alive() and kept.closed
    assert len(read_csv(path)) == 1 + 200 + len(report.figures()) + 3  # saved whole

    again = ReportLines()
    with again._lock:  # the worker in the middle of adding a line
        again.close()
        assert not again.closed
    again.add(line)  # its next line is dropped, and the lines let go of
    assert again.closed and again.count == 0


def test_a_report_that_cannot_be_written_says_where_and_leaves_nothing(tmp_path: Path) -> None:
    report = ImportReport("export.csv", "00" * 32, "csv", dry_run=False)
    missing = tmp_path / "no such folder" / "report.csv"
    with pytest.raises(ReportNotSaved) as refused:
        write_report_csv(missing, [], report)
    assert refused.value.message == (
        f"The report could not be saved to {missing} (No such file or directory); "
        "choose another folder."
    )
    earlier = tmp_path / "report.csv"
    earlier.write_text("an earlier report\n", encoding="utf-8")
    blocker = tmp_path / "report.csv.part"
    blocker.mkdir()  # the file beside it cannot be made
    with pytest.raises(ReportNotSaved):
        write_report_csv(earlier, [], report)
    assert earlier.read_text(encoding="utf-8") == "an earlier report\n"
