"""An import's report as a file the clinic keeps (issue 13, points 6 and 7): every line as the
import makes it, then its figures, in CSV (for a spreadsheet) or JSON (for a script).

Lines are written as they come, so a million-row import's report never sits in memory. The
columns are ``row, kind, mrn, username, detail``; the figures follow as lines of kind
``total`` (``detail`` says ``new_charts: 3``), so that one file holds the whole report.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import TextIO

from console.models.private_files import open_private
from console.services.imports.plan import ReportLine
from console.services.imports.run import ImportReport
from console.services.imports.source import FileRefused
from console.tabular import RecordWriter

COLUMNS = ("row", "kind", "mrn", "username", "detail")
#: The report formats, by the file name's ending.
FORMATS = {".csv": "csv", ".json": "json"}


class ReportFile:
    """A report file being written: open it (a context manager), hand ``add`` to the import
    as its ``on_line``, then ``finish`` with the import's report. A report left unfinished
    (the import failed) says so in its last line."""

    def __init__(self, path: Path) -> None:
        fmt = FORMATS.get(path.suffix.casefold())
        if fmt is None:
            raise FileRefused(
                f"A report is saved as .csv or .json, not '{path.suffix or path.name}'."
            )
        self.path = path
        self._fmt = fmt
        self._file: TextIO | None = None
        self._writer: RecordWriter | None = None
        self._finished = False

    def __enter__(self) -> ReportFile:
        try:
            self._file = open_private(self.path, encoding="utf-8", newline="")
        except OSError as error:
            raise FileRefused(
                f"The report cannot be written to {self.path} ({error.strerror})."
            ) from None
        self._writer = RecordWriter(COLUMNS, self._fmt, self._file)
        return self

    def add(self, line: ReportLine) -> None:
        """Write one line of the report."""
        assert self._writer is not None
        self._writer.write(
            {
                "row": line.row,
                "kind": line.kind.value,
                "mrn": line.mrn,
                "username": line.username,
                "detail": line.detail,
            }
        )

    def finish(self, report: ImportReport) -> None:
        """Write the figures, and whether the import went to the end of the file."""
        assert self._writer is not None
        outcome = "dry run" if report.dry_run else "imported"
        if not report.finished:
            outcome += ", cancelled before the end of the file"
        totals: list[tuple[str, object]] = [
            ("outcome", outcome),
            ("file", report.file_name),
            ("sha256", report.sha256),
            *report.figures().items(),
        ]
        for name, value in totals:
            self._writer.write(
                {
                    "row": "",
                    "kind": "total",
                    "mrn": "",
                    "username": "",
                    "detail": f"{name}: {value}",
                }
            )
        self._finished = True

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        assert self._writer is not None and self._file is not None
        if not self._finished:
            said = "the import stopped before its end; this report is incomplete"
            self._writer.write(
                {"row": "", "kind": "total", "mrn": "", "username": "", "detail": said}
            )
        self._writer.close()
        self._file.close()


__all__ = ["COLUMNS", "FORMATS", "ReportFile"]
