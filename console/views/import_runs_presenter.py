"""The import wizard's runs over one export, without Qt: the dry run, the import, and saving
either's report, each on the worker.

Each run keeps every line of its report (``ReportLines``) for "Save … as CSV…", and says
how many entries it went through after each batch: the count crosses to the GUI thread
through ``on_gui_thread`` (a queued signal in the window), and only the newest run's counts
are passed on. ``stop()`` sets a ``threading.Event`` that the service's ``cancelled`` reads
between batches. An import's ``Changes`` are published when it ends, even after the wizard
was closed (closing stops it first): batches written must reach every page. An import that
breaks off publishes a bulk change too, for the batches written before the failure.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path

from console.services.desk import StaffDesk
from console.services.errors import DomainError
from console.services.imports.report_file import ReportLines
from console.services.imports.run import ImportReport, import_export
from console.services.imports.source import Export
from console.services.workstation import Changes
from console.views.import_steps_presenter import Crossing
from console.workers.service_calls import ServiceCalls, Submitter

#: Told, on the GUI thread, how many entries the newest run went through: (dry run?, count).
Progressed = Callable[[bool, int], None]
Refused = Callable[[DomainError], None]
#: What the worker calls after each batch with the entries gone through.
_Progress = Callable[[int], None]


class ImportRuns:
    """The dry run and the import of the wizard's export, and their reports."""

    def __init__(
        self,
        desk: StaffDesk,
        runner: Submitter,
        *,
        publish: Callable[[Changes], None],
        on_gui_thread: Crossing,
        progressed: Progressed,
    ) -> None:
        self._desk = desk
        self._publish = publish
        self._progressed = progressed
        self._calls = ServiceCalls(runner)  # dry runs and saves: dropped when closed
        self._imports = ServiceCalls(runner)  # never dropped: their changes are published
        self._cross = on_gui_thread(self._arrived)
        self._stop = threading.Event()
        self._run = 0
        self._closed = False
        #: The newest finished dry run's report, and the newest import's.
        self.preview: ImportReport | None = None
        self.report: ImportReport | None = None
        self._preview_lines: ReportLines | None = None
        self._report_lines: ReportLines | None = None

    @property
    def importing(self) -> bool:
        """Whether an import is under way."""
        return self._imports.busy

    @property
    def stopping(self) -> bool:
        """Whether the run under way was asked to stop."""
        return self._stop.is_set()

    def dry_run(
        self,
        open_file: Callable[[], Export],
        on_done: Callable[[Export, ImportReport], None],
        on_refused: Refused,
    ) -> None:
        """Open the export (``open_file`` runs on the worker) and work out what importing
        it would do; ``on_done`` gets the export and the report, finished or stopped."""
        lines, stop, progress = self._begin(dry_run=True)

        def work() -> tuple[Export, ImportReport]:
            export = open_file()
            report = self._desk.act(
                import_export,
                export,
                dry_run=True,
                on_line=lines.add,
                progress=progress,
                cancelled=stop.is_set,
            )
            if self._closed:
                lines.close()
            return export, report

        def done(answer: tuple[Export, ImportReport]) -> None:
            export, report = answer
            if report.finished:
                self.forget_preview()
                self.preview, self._preview_lines = report, lines
            else:
                lines.close()
            on_done(export, report)

        def refused(error: DomainError) -> None:
            lines.close()
            on_refused(error)

        self._calls.run("Working out what the import would do", work, done, refused)

    def start_import(
        self,
        export: Export,
        on_done: Callable[[ImportReport], None],
        on_refused: Refused,
    ) -> None:
        """Import ``export``; ``on_done`` gets the report, whether it went through the whole
        file or was stopped."""
        self._forget_report()
        lines, stop, progress = self._begin(dry_run=False)
        run = self._run

        def done(report: ImportReport) -> None:
            if report.changes.bulk:
                self._publish(report.changes)  # even when the wizard is gone
            if self._closed or run != self._run:
                lines.close()
                return
            self.report, self._report_lines = report, lines
            on_done(report)

        def refused(error: DomainError) -> None:
            lines.close()
            self._publish(Changes(bulk=True))  # the batches before the failure
            if not self._closed and run == self._run:
                on_refused(error)

        self._imports.run(
            "Importing the file",
            lambda: self._desk.act(
                import_export,
                export,
                dry_run=False,
                on_line=lines.add,
                progress=progress,
                cancelled=stop.is_set,
            ),
            done,
            refused,
        )

    def stop(self) -> None:
        """Stop the run under way after its batch."""
        self._stop.set()

    def save(
        self,
        path: Path,
        *,
        preview: bool,
        on_done: Callable[[None], None],
        on_refused: Refused,
    ) -> bool:
        """Write the preview's report (or the import's) to ``path`` as CSV; False when
        there is none to write."""
        if preview:
            lines, report = self._preview_lines, self.preview
        else:
            lines, report = self._report_lines, self.report
        if lines is None or report is None:
            return False
        self._calls.run("Saving the report", partial(lines.save, path, report), on_done, on_refused)
        return True

    def forget_preview(self) -> None:
        """Let go of the preview (its file or columns are changing)."""
        if self._preview_lines is not None:
            self._preview_lines.close()
        self.preview, self._preview_lines = None, None

    def close(self) -> None:
        """Stop what runs and deliver nothing more (an import's changes are still
        published); let go of every report's lines."""
        self._closed = True
        self._stop.set()
        self._calls.cancel()
        self.forget_preview()
        self._forget_report()

    # --- internals -------------------------------------------------------------------------

    def _begin(
        self, *, dry_run: bool
    ) -> tuple[ReportLines, threading.Event, Callable[[int], None]]:
        """A new run: its lines, its stop, and what its worker calls after each batch."""
        self._stop = threading.Event()
        self._run += 1
        run, cross = self._run, self._cross
        return ReportLines(), self._stop, lambda done: cross((run, dry_run, done))

    def _arrived(self, news: tuple[int, bool, int]) -> None:
        run, dry_run, done = news
        if not self._closed and run == self._run:
            self._progressed(dry_run, done)

    def _forget_report(self) -> None:
        if self._report_lines is not None:
            self._report_lines.close()
        self.report, self._report_lines = None, None


__all__ = ["ImportRuns", "Progressed"]
