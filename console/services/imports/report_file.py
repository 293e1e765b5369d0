"""An import's report as a file the clinic keeps (issue 13): every line of what the import
did, or a dry run would do, row by row, then a summary — the window's "Save report as CSV…"
(``ReportLines``) and the command line's ``--report`` (``ReportFile``, CSV or JSON) alike.

The columns are ``row,kind,mrn,username,detail``, with a header row. The summary follows the
lines in the same columns, its ``kind`` being ``summary`` and its ``detail`` the outcome, the
file and its SHA-256 (as the audit event records them), then every figure as
``new_charts: 3``; a spreadsheet filtered on ``kind`` shows either part alone.

Where the lines wait until they are saved: they arrive one at a time while the import runs
(``import_export``'s ``on_line``), and a file of a million rows makes several million of
them, far more than a window may hold in memory. ``ReportLines`` keeps them as CSV text, in
memory up to ``MEMORY_LIMIT`` (some 50,000 lines: a clinic's usual export never leaves
memory), beyond that in an anonymous temporary file that only the console's user can read
and that the system deletes when it is closed (on POSIX it has no name at all, so not even
a crash leaves patient data behind). The report can then be saved any number of times;
``close()`` lets go of it.
"""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, TextIO

from console.models.private_files import open_private
from console.services.errors import DomainError
from console.services.imports.plan import ReportLine
from console.services.imports.run import ImportReport
from console.tabular import RecordWriter

#: The report's columns, in order (its header row).
REPORT_COLUMNS = ("row", "kind", "mrn", "username", "detail")
#: The report formats of the command line, by the file name's ending.
REPORT_FORMATS = {".csv": "csv", ".json": "json"}
#: The ``kind`` of the summary's rows.
SUMMARY = "summary"
#: How much of a report's text stays in memory before it goes to a temporary file.
MEMORY_LIMIT = 4 * 1024 * 1024


class ReportNotSaved(DomainError):
    """The report file could not be written; the message says where and why."""


def report_row(line: ReportLine) -> tuple[str, str, str, str, str]:
    """``line`` in the report's columns."""
    return (str(line.row), line.kind.value, line.mrn, line.username, line.detail)


def outcome_text(report: ImportReport) -> str:
    """What the run came to, in one sentence."""
    if report.dry_run:
        if report.finished:
            return "dry run: nothing was written"
        return "dry run stopped before the end of the file: nothing was written"
    if report.finished:
        return "import finished"
    return (
        "import stopped before the end of the file: the rows before it were written in whole "
        "batches; importing the file again completes it"
    )


def summary_rows(report: ImportReport) -> list[tuple[str, str, str, str, str]]:
    """The summary that ends the report: outcome, file, SHA-256, then every figure."""
    said = [
        outcome_text(report),
        f"file: {report.file_name}",
        f"sha256: {report.sha256}",
        *(f"{name}: {count}" for name, count in report.figures().items()),
    ]
    return [("", SUMMARY, "", "", detail) for detail in said]


class ReportFile:
    """The command line's report, written as the import goes (a million-row report never
    sits in memory): open it (a context manager), hand ``add`` to the import as its
    ``on_line``, then ``finish`` with the import's report. CSV or JSON, by the file's name;
    owner-only. A report left unfinished (the import failed) says so in its last line."""

    def __init__(self, path: Path) -> None:
        fmt = REPORT_FORMATS.get(path.suffix.casefold())
        if fmt is None:
            raise ReportNotSaved(
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
            raise ReportNotSaved(
                f"The report cannot be written to {self.path} ({error.strerror})."
            ) from None
        self._writer = RecordWriter(REPORT_COLUMNS, self._fmt, self._file)
        return self

    def add(self, line: ReportLine) -> None:
        """Write one line of the report."""
        self._write(report_row(line))

    def finish(self, report: ImportReport) -> None:
        """Write the summary: what the run came to, the file, and every figure."""
        for row in summary_rows(report):
            self._write(row)
        self._finished = True

    def _write(self, row: Sequence[str]) -> None:
        assert self._writer is not None
        self._writer.write(dict(zip(REPORT_COLUMNS, row, strict=True)))

    def __exit__(self, *_exc: object) -> None:
        assert self._writer is not None and self._file is not None
        if not self._finished:
            self._write(("", SUMMARY, "", "", "the import stopped: this report is incomplete"))
        self._writer.close()
        self._file.close()


class ReportLines:
    """Every line of one run's report, kept (in memory, then in a temporary file) until the
    report is saved or let go of; see the module's docstring.

    ``add`` and ``save`` run on the worker; ``close`` may come from another thread (the
    window, closing) at any moment and never waits: when the worker is adding a line or
    saving the report just then, the worker lets go of the lines as soon as it is done. A
    line added after ``close()`` is dropped."""

    def __init__(self, memory_limit: int = MEMORY_LIMIT) -> None:
        self._lock = threading.Lock()
        self._text: IO[str] | None = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - kept open
            max_size=memory_limit, mode="w+", encoding="utf-8", newline=""
        )
        self._writer = csv.writer(self._text)
        self._count = 0
        self._closing = False

    @property
    def count(self) -> int:
        """Lines kept so far."""
        return self._count

    @property
    def closed(self) -> bool:
        """Whether the lines were let go of (the temporary file deleted)."""
        return self._text is None

    def add(self, line: ReportLine) -> None:
        """Keep ``line`` (the ``on_line`` of ``import_export``)."""
        with self._lock:
            if self._text is not None and not self._closing:
                self._writer.writerow(report_row(line))
                self._count += 1
        if self._closing:
            self._let_go_if_free()

    def save(self, path: Path, report: ImportReport) -> None:
        """Write the whole report (header, every line kept, the summary of ``report``) to
        ``path``: all of it, or nothing (``ReportNotSaved`` says why)."""

        def write(file: IO[str]) -> None:
            writer = csv.writer(file)
            writer.writerow(REPORT_COLUMNS)
            with self._lock:
                if self._text is None:
                    raise ValueError("the report's lines were let go of")
                self._text.flush()
                self._text.seek(0)
                shutil.copyfileobj(self._text, file)
                self._text.seek(0, os.SEEK_END)
            writer.writerows(summary_rows(report))

        try:
            _write_whole(path, write)
        finally:
            if self._closing:
                self._let_go_if_free()

    def close(self) -> None:
        """Let go of the lines (the temporary file, if any, is deleted), now or, when the
        worker is adding a line or saving just then, as soon as it is done."""
        self._closing = True
        self._let_go_if_free()

    def _let_go_if_free(self) -> None:
        if not self._lock.acquire(blocking=False):
            return  # whoever holds it looks at ``_closing`` once done
        try:
            text, self._text = self._text, None
        finally:
            self._lock.release()
        if text is not None:
            text.close()


def _write_whole(path: Path, write: Callable[[IO[str]], None]) -> None:
    """Write through ``write`` into a file beside ``path``, then put it in place: a failure
    half-way leaves no half-written report (and an earlier one at ``path`` as it was)."""
    part = path.with_name(f"{path.name}.part")
    try:
        with open_private(part, encoding="utf-8", newline="") as file:
            write(file)
        part.replace(path)
    except OSError as error:
        _remove(part)
        reason = error.strerror or str(error)
        raise ReportNotSaved(
            f"The report could not be saved to {path} ({reason}); choose another folder."
        ) from None
    except BaseException:
        _remove(part)
        raise


def _remove(part: Path) -> None:
    # A folder that refused the file may refuse this too: then nothing was written.
    with contextlib.suppress(OSError):
        part.unlink(missing_ok=True)


__all__ = [
    "MEMORY_LIMIT",
    "REPORT_COLUMNS",
    "REPORT_FORMATS",
    "SUMMARY",
    "ReportFile",
    "ReportLines",
    "ReportNotSaved",
    "outcome_text",
    "report_row",
    "summary_rows",
]
