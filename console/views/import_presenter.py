"""What the import wizard decides, without Qt (issue 13, point 6): which page it is on,
which column each field is read from, and when to open the file, run the dry run, import
and save — each on a worker, so that the window stays responsive throughout.

Steps (``import_steps_presenter``): choose the file → check its columns (skipped for a file
without columns, such as a FHIR export) → the preview (the dry run's figures, first
rejected rows and warnings) → import, with progress after each batch and Stop → the report,
savable as CSV. An import stopped part-way keeps every batch before it whole; Resume imports
the file again, which completes it (rows already written are found up to date). The runs
themselves — progress, Stop, the report's lines, publishing what changed — are
``ImportRuns``' (``import_runs_presenter``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from console.services.desk import StaffDesk
from console.services.errors import DomainError
from console.services.imports.columns import ColumnMatch, Field, MappingRefused
from console.services.imports.files import open_export, read_mapping
from console.services.imports.run import ImportReport
from console.services.imports.source import Export, ExportFormat
from console.services.workstation import Changes
from console.views.import_columns_presenter import (
    ColumnsPage,
    applied_mapping,
    columns_page,
    mapping_problem,
    save_mapping_file,
    still_needed_columns,
    unread_text,
)
from console.views.import_report_presenter import preview_page, report_page
from console.views.import_runs_presenter import ImportRuns
from console.views.import_steps_presenter import (
    CHOOSE_FILE,
    IMPORTING,
    PREVIEWING,
    READING,
    SAVING,
    STOPPING,
    Crossing,
    ImportScreen,
    Step,
    WizardForm,
    decide_form,
    import_progress,
    step_caption,
)
from console.workers.service_calls import ServiceCalls, Submitter

PREVIEW_STOPPED = "The preview was stopped before the end of the file; nothing was written."
IMPORT_AGAIN = (
    "Every batch written before it is kept whole; import again to complete the file (rows "
    "already written are found up to date)."
)


class ImportPresenter:
    """The import wizard's pages, choices and calls."""

    def __init__(
        self,
        desk: StaffDesk,
        runner: Submitter,
        screen: ImportScreen,
        *,
        publish: Callable[[Changes], None],
        on_gui_thread: Crossing = lambda receiver: receiver,
    ) -> None:
        self._desk = desk
        self._screen = screen
        self._calls = ServiceCalls(runner)  # the file and the mapping: dropped when closed
        self.runs = ImportRuns(
            desk, runner, publish=publish, on_gui_thread=on_gui_thread, progressed=self._went
        )
        self.step = Step.FILE
        self.path = ""
        self.format: ExportFormat | None = None
        self.encoding: str | None = None
        self._export: Export | None = None
        self._match: ColumnMatch | None = None
        self._choices: dict[Field, str | None] = {}
        self._under_way = ""
        self._done = 0
        self._failed = False
        self._closed = False

    # --- what the wizard shows ------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether something is under way (the page's controls wait for it)."""
        return bool(self._under_way)

    @property
    def importing(self) -> bool:
        """Whether an import is under way (closing the wizard would stop it)."""
        return self.runs.importing

    @property
    def report(self) -> ImportReport | None:
        """The import's report, once it arrived."""
        return self.runs.report

    @property
    def choices(self) -> dict[Field, str | None]:
        """The header each field is read from (None: not read)."""
        return dict(self._choices)

    @property
    def total(self) -> int:
        """The dry run's count of entries (the progress bar's end)."""
        return self.runs.preview.counts["entries"] if self.runs.preview is not None else 0

    @property
    def encoding_applies(self) -> bool:
        """Whether the encoding choice means anything for the chosen format (CSV only)."""
        return self.format in (None, ExportFormat.CSV)

    @property
    def form(self) -> WizardForm:
        """What the buttons and the page's controls allow now."""
        needed = ""
        if self.step is Step.FILE and not self.path:
            needed = CHOOSE_FILE
        elif self.step is Step.COLUMNS:
            needed = still_needed_columns(self._choices)
        return decide_form(
            self.step,
            under_way=self._under_way,
            still_needed=needed,
            running=self._running(),
            stopping=self.runs.stopping,
            finished=self.report is not None and self.report.finished,
            failed=self._failed,
        )

    def report_name(self) -> str:
        """A file name for the report on screen ("export-preview.csv")."""
        stem = Path(self.path).stem or "import"
        return f"{stem}-{'preview' if self.step is Step.PREVIEW else 'import-report'}.csv"

    # --- the file page ---------------------------------------------------------------------

    def choose_file(self, path: str) -> None:
        """The file typed or chosen."""
        self._forget_file(path=path.strip())

    def choose_format(self, kind: ExportFormat | None) -> None:
        """The format chosen (None: found from the file's name)."""
        self._forget_file(format=kind)

    def choose_encoding(self, encoding: str | None) -> None:
        """The text encoding chosen (None: found out from the file)."""
        self._forget_file(encoding=encoding)

    def _forget_file(self, **chosen: Any) -> None:
        self.path = chosen.get("path", self.path)
        self.format = chosen.get("format", self.format)
        self.encoding = chosen.get("encoding", self.encoding)
        self._export = self._match = None
        self._screen.show_problem("")
        self._show_form()

    # --- moving on and back, stopping and closing ------------------------------------------

    def next(self) -> None:
        """The footer's main button: what it does depends on the step."""
        if not self.form.next_enabled:
            return
        self._screen.show_problem("")
        self._screen.show_note("")
        if self.step is Step.FILE:
            self._open_file()
        elif self.step is Step.COLUMNS:
            self._preview(applied_mapping(self._choices))
        elif self.step is Step.REPORT and self.report is not None and self.report.finished:
            self._screen.finish()
        else:  # the preview confirmed, a stopped import resumed, a failed one run again
            self._import()

    def back(self) -> None:
        """Back to the columns (or, for a file without columns, to the file)."""
        if self.busy or self.step not in (Step.COLUMNS, Step.PREVIEW):
            return
        self._screen.show_problem("")
        self._screen.show_note("")
        self.runs.forget_preview()
        self._go(Step.COLUMNS if self.step is Step.PREVIEW and self._match else Step.FILE)

    def cancel(self) -> bool:
        """Cancel, Stop or Escape: an import or a dry run under way is asked to stop after
        its batch (the wizard stays, to show what was written, or to change the columns);
        otherwise True — the wizard may close."""
        if not self._running():
            return True
        if not self.runs.stopping:
            self.runs.stop()
            self._under_way = STOPPING
            if self.step is Step.IMPORTING:
                self._show_progress()
            self._show_form()
        return False

    def close(self) -> None:
        """The wizard is closing: stop whatever runs and deliver nothing more to it (an
        import under way still publishes what it changed)."""
        self._closed = True
        self._calls.cancel()
        self.runs.close()

    def _running(self) -> bool:
        """Whether an import or a dry run is under way (Cancel stops it)."""
        if self.step is Step.IMPORTING:
            return self.runs.importing
        return self._under_way in (PREVIEWING, STOPPING)

    # --- the columns page -------------------------------------------------------------------

    def choose_column(self, field: Field, header: str | None) -> None:
        """``field`` is read from the column ``header`` (None: not read)."""
        self._choices[field] = header
        self._screen.show_problem("")
        self._screen.show_unread(unread_text(self._match, self._choices))
        self._show_form()

    def save_mapping(self, path: str) -> None:
        """Save the columns chosen as a mapping file (for the next export, or the command
        line)."""
        if not path or self._match is None:
            return
        where, chosen = Path(path), dict(self._choices)
        self._call(
            SAVING,
            partial(save_mapping_file, where, chosen),
            lambda _none: self._screen.show_note(f"Mapping saved to {where}."),
        )

    def load_mapping(self, path: str) -> None:
        """Choose the columns a mapping file names (the other fields keep their choice)."""
        if path and self._match is not None:
            self._call(READING, partial(read_mapping, Path(path)), self._apply_mapping)

    def _apply_mapping(self, mapping: dict[str, str]) -> None:
        if self._match is None:
            return
        problem, chosen = mapping_problem(self._match, mapping)
        if problem:
            self._screen.show_problem(problem)
            return
        self._choices.update(chosen)
        self._screen.show_columns(self._columns_page())

    # --- the preview and report pages --------------------------------------------------------

    def save_report(self, path: str) -> None:
        """Write the report on screen (the preview's, or the import's) to ``path`` as CSV."""
        if not path or self.busy:
            return
        where = Path(path)
        self._under_way = SAVING
        saving = self.runs.save(
            where,
            preview=self.step is Step.PREVIEW,
            on_done=lambda _none: self._settled(f"Report saved to {where}."),
            on_refused=self._refused,
        )
        if not saving:
            self._under_way = ""
        self._show_form()

    # --- the calls -----------------------------------------------------------------------

    def _open_file(self) -> None:
        path, kind, encoding = Path(self.path), self.format, self._encoding_used()
        today = self._desk.clock.now().astimezone().date()

        def work() -> Export | MappingRefused:
            try:
                return open_export(path, today=today, format=kind, encoding=encoding)
            except MappingRefused as refused:
                if refused.match is None:
                    raise
                return refused  # no column for a field: staff choose it on the next page

        self._call(READING, work, self._file_opened)

    def _file_opened(self, opened: Export | MappingRefused) -> None:
        if isinstance(opened, Export) and opened.columns is None:
            self._export = opened
            self._preview(None)  # nothing to map: straight to the preview
            return
        match = opened.columns if isinstance(opened, Export) else opened.match
        assert match is not None
        self._export = opened if isinstance(opened, Export) else None
        if self._match is None or self._match.headers != match.headers:
            # A new file (or one whose columns changed): its columns by their names. The
            # same file opened again, after Back, keeps what staff chose.
            self._choices = {f: match.header_of(f) if f in match.columns else None for f in Field}
        self._match = match
        self._go(Step.COLUMNS)
        self._screen.show_columns(self._columns_page())

    def _preview(self, mapping: dict[str, str] | None) -> None:
        """The dry run: of the file opened with ``mapping`` (None: as it was opened)."""
        path, kind, encoding = Path(self.path), self.format, self._encoding_used()
        today = self._desk.clock.now().astimezone().date()
        opened = self._export

        def open_file() -> Export:
            if mapping is None and opened is not None:
                return opened
            return open_export(path, today=today, format=kind, encoding=encoding, mapping=mapping)

        self._under_way = PREVIEWING
        self.runs.dry_run(open_file, self._previewed, self._refused)
        self._show_form()

    def _previewed(self, export: Export, report: ImportReport) -> None:
        self._under_way = ""
        if not report.finished:
            self._settled(problem=PREVIEW_STOPPED)
            return
        self._export = export
        self._go(Step.PREVIEW)
        self._screen.show_preview(preview_page(report, export.unit))

    def _import(self) -> None:
        if self._export is None or self.runs.preview is None:
            return
        self._done, self._failed = 0, False
        self._under_way = IMPORTING
        self._go(Step.IMPORTING)
        self._show_progress()
        self.runs.start_import(self._export, self._imported, self._import_refused)
        self._show_form()

    def _imported(self, report: ImportReport) -> None:
        self._under_way = ""
        self._go(Step.REPORT)
        unit = self._export.unit if self._export is not None else "row"
        previewed = self.runs.preview.sha256 if self.runs.preview is not None else ""
        total = self.total or None
        self._screen.show_report(report_page(report, unit, total=total, previewed=previewed))

    def _import_refused(self, error: DomainError) -> None:
        self._under_way = ""
        self._failed = True
        self._show_progress()
        self._settled(problem=f"{error.message} {IMPORT_AGAIN}")

    def _went(self, dry_run: bool, done: int) -> None:
        """A run went through ``done`` entries (on the GUI thread)."""
        if dry_run:
            if self._under_way == PREVIEWING and not self._closed:
                form = dataclasses.replace(self.form, hint=f"{PREVIEWING} {done:,} read")
                self._screen.show_form(form)
            return
        self._done = done
        self._show_progress()

    # --- helpers ---------------------------------------------------------------------------

    def _call(
        self, under_way: str, work: Callable[[], Any], on_done: Callable[[Any], None]
    ) -> None:
        """Run ``work`` on the worker, saying ``under_way`` meanwhile."""
        self._under_way = under_way

        def done(result: Any) -> None:
            self._under_way = ""
            on_done(result)
            self._show_form()

        self._calls.run(under_way.rstrip("…"), work, done, self._refused)
        self._show_form()

    def _refused(self, error: DomainError) -> None:
        self._settled(problem=error.message)

    def _settled(self, note: str = "", *, problem: str = "") -> None:
        """What was under way is over: say ``note`` or ``problem``."""
        self._under_way = ""
        if note:
            self._screen.show_note(note)
        if problem:
            self._screen.show_problem(problem)
        self._show_form()

    def _show_progress(self) -> None:
        unit = self._export.unit if self._export is not None else "row"
        stopping = self._under_way == STOPPING
        self._screen.show_progress(
            import_progress(self._done, self.total, unit, stopping=stopping, failed=self._failed)
        )

    def _columns_page(self) -> ColumnsPage:
        assert self._match is not None
        encoding = self._export.encoding if self._export is not None else None
        return columns_page(Path(self.path).name, self._match, self._choices, encoding)

    def _encoding_used(self) -> str | None:
        return self.encoding if self.encoding_applies else None

    def _go(self, step: Step) -> None:
        self.step = step
        self._show_form()  # first: the page's controls enabled, so that one takes the focus
        with_columns = self._match is not None or step is Step.FILE
        self._screen.show_step(step, step_caption(step, with_columns=with_columns))

    def _show_form(self) -> None:
        if not self._closed:
            self._screen.show_form(self.form)


__all__ = ["IMPORT_AGAIN", "PREVIEW_STOPPED", "ImportPresenter"]
