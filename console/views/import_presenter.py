"""What the import wizard decides, without Qt (issue 13, point 6): which step it is on, what
each button says and allows, which column each field is read from, and every call to the
services — opening the file, the dry run, the import, saving the report or a mapping — on a
worker, so that the window stays responsive throughout.

Steps: choose the file → check its columns (skipped for a file without columns, such as a
FHIR export) → the preview (the dry run's figures, first rejected rows and warnings) →
import, with progress after each batch and a Stop → the report, savable as CSV. An import
stopped part-way keeps every batch written before it whole; Resume imports the file again,
which completes it (rows already written are found up to date).

Progress crosses from the worker to the GUI thread through ``on_gui_thread`` (a queued
signal in the window, the same thread in tests), Stop through a ``threading.Event`` the
import reads between batches. An import's ``Changes`` are published even when the wizard
was closed before it ended (the lock screen closes it, which also stops the import): every
page then reads everything again.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from console.services.desk import StaffDesk
from console.services.errors import DomainError
from console.services.imports.columns import ColumnMatch, Field, MappingRefused
from console.services.imports.files import open_export, read_mapping, write_mapping
from console.services.imports.report_file import ReportLines
from console.services.imports.run import ImportReport, import_export
from console.services.imports.source import Export, ExportFormat
from console.services.workstation import Changes
from console.views.import_columns_presenter import (
    ColumnsPage,
    applied_mapping,
    columns_page,
    mapping_problem,
    still_needed_columns,
    unread_text,
)
from console.views.import_report_presenter import ReportPage, preview_page, report_page
from console.workers.service_calls import ServiceCalls, Submitter


class Step(Enum):
    """The wizard's pages, in order."""

    FILE = 1
    COLUMNS = 2
    PREVIEW = 3
    IMPORTING = 4
    REPORT = 5


STEP_TITLES = {
    Step.FILE: "Choose the export",
    Step.COLUMNS: "Check the columns",
    Step.PREVIEW: "Preview",
    Step.IMPORTING: "Import",
    Step.REPORT: "Report",
}

#: The format choices, in order: (what the list says, the format; None: from the name).
FORMATS: tuple[tuple[str, ExportFormat | None], ...] = (
    ("Found from the file name", None),
    ("CSV (.csv, .txt)", ExportFormat.CSV),
    ("Excel workbook (.xlsx)", ExportFormat.XLSX),
    ("FHIR R4 Patient resources (.json, .ndjson)", ExportFormat.FHIR),
)
#: The text encodings offered for CSV: (what the list says, the codec; None: found out).
ENCODINGS: tuple[tuple[str, str | None], ...] = (
    ("Found from the file", None),
    ("UTF-8", "utf-8"),
    ("Windows-1252 (Western European)", "cp1252"),
    ("ISO-8859-1 (Latin-1)", "latin-1"),
)

CHOOSE_FILE = "Choose the export file."
READING = "Reading the file…"
PREVIEWING = "Working out what the import would do…"
IMPORTING = "Importing…"
STOPPING = "Stopping after the batch under way…"
SAVING = "Saving…"
PREVIEW_STOPPED = "The preview was stopped before the end of the file; nothing was written."
CONFIRM = "Nothing has been written yet: Import writes what the preview shows."
IMPORT_AGAIN = (
    "Every batch written before it is kept whole; import again to complete the file (rows "
    "already written are found up to date)."
)


def step_caption(step: Step, with_columns: bool = True) -> str:
    """ "Step 2 of 5 · Check the columns" (a file without columns has four steps)."""
    steps = [s for s in Step if with_columns or s is not Step.COLUMNS]
    return f"Step {steps.index(step) + 1} of {len(steps)} · {STEP_TITLES[step]}"


@dataclass(frozen=True)
class ImportProgress:
    """How far the import is: entries gone through of the dry run's count."""

    done: int
    total: int
    text: str


@dataclass(frozen=True)
class WizardForm:
    """What the footer's buttons and the page's controls allow and say now."""

    step: Step
    #: What is under way, in words ("" when nothing is).
    under_way: str
    #: The page's own controls can be changed.
    editable: bool
    back_visible: bool
    back_enabled: bool
    next_text: str
    next_visible: bool
    next_enabled: bool
    cancel_text: str
    cancel_visible: bool
    cancel_enabled: bool
    #: What is still needed before Next, or what is under way.
    hint: str


class ImportScreen(Protocol):
    """What the presenter tells the wizard (the dialog, or a test's stand-in)."""

    def show_step(self, step: Step, caption: str) -> None: ...
    def show_form(self, form: WizardForm) -> None: ...
    def show_problem(self, text: str) -> None: ...
    def show_note(self, text: str) -> None: ...
    def show_columns(self, page: ColumnsPage) -> None: ...
    def show_unread(self, text: str) -> None: ...
    def show_preview(self, page: ReportPage) -> None: ...
    def show_progress(self, progress: ImportProgress) -> None: ...
    def show_report(self, page: ReportPage) -> None: ...
    def finish(self) -> None: ...


#: Makes a callable that any thread may call, whose values reach the given callable on the
#: GUI thread (``console.workers.gui_thread.on_gui_thread``; the identity in tests).
Crossing = Callable[[Callable[[Any], None]], Callable[[Any], None]]


class ImportPresenter:
    """The import wizard's steps and its calls to the services."""

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
        self._publish = publish
        self._calls = ServiceCalls(runner)  # dropped when the wizard closes
        self._imports = ServiceCalls(runner)  # never dropped: its changes are published
        self._progress = on_gui_thread(self._progressed)
        self.step = Step.FILE
        self.path = ""
        self.format: ExportFormat | None = None
        self.encoding: str | None = None
        self._export: Export | None = None
        self._match: ColumnMatch | None = None
        self._choices: dict[Field, str | None] = {}
        self._preview: ImportReport | None = None
        self._preview_lines: ReportLines | None = None
        self.report: ImportReport | None = None
        self._report_lines: ReportLines | None = None
        self._under_way = ""
        self._stop = threading.Event()
        self._run = 0
        self._done = 0
        self._import_failed = False
        self._closed = False

    # --- what the wizard shows ------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether something is under way (the page's controls wait for it)."""
        return bool(self._under_way)

    @property
    def importing(self) -> bool:
        """Whether an import is under way (closing the wizard would stop it)."""
        return self._imports.busy

    @property
    def preview(self) -> ImportReport | None:
        """The dry run's report, once it arrived."""
        return self._preview

    @property
    def choices(self) -> dict[Field, str | None]:
        """The header each field is read from (None: not read)."""
        return dict(self._choices)

    @property
    def total(self) -> int:
        """The dry run's count of entries (the progress bar's end)."""
        return self._preview.counts["entries"] if self._preview is not None else 0

    @property
    def encoding_applies(self) -> bool:
        """Whether the encoding choice means anything for the chosen format (CSV only)."""
        return self.format in (None, ExportFormat.CSV)

    @property
    def form(self) -> WizardForm:
        """What the buttons and the page's controls allow now."""
        step, busy = self.step, self.busy
        stoppable = self._stoppable()
        if step is Step.REPORT:
            finished = self.report is not None and self.report.finished
            next_text = "&Close" if finished else "&Resume import"
        elif step is Step.IMPORTING:
            next_text = "&Import again"
        elif step is Step.PREVIEW:
            next_text = "&Import"
        else:
            next_text = "&Next"
        needed = self._still_needed()
        return WizardForm(
            step=step,
            under_way=self._under_way,
            editable=not busy,
            back_visible=step in (Step.COLUMNS, Step.PREVIEW),
            back_enabled=not busy,
            next_text=next_text,
            next_visible=not (step is Step.IMPORTING and not self._import_failed),
            next_enabled=not busy and not needed,
            cancel_text=self._cancel_text(stoppable),
            cancel_visible=not (step is Step.REPORT and next_text == "&Close"),
            cancel_enabled=not (stoppable and self._stop.is_set()),
            hint=self._under_way or needed or (CONFIRM if step is Step.PREVIEW else ""),
        )

    def _cancel_text(self, stoppable: bool) -> str:
        if stoppable:
            return "&Stop import" if self.step is Step.IMPORTING else "&Stop preview"
        return "Close" if self.step in (Step.IMPORTING, Step.REPORT) else "Cancel"

    def _still_needed(self) -> str:
        if self.step is Step.FILE and not self.path:
            return CHOOSE_FILE
        if self.step is Step.COLUMNS:
            return still_needed_columns(self._choices)
        return ""

    # --- the file page ---------------------------------------------------------------------

    def choose_file(self, path: str) -> None:
        """The file typed or chosen."""
        self._forget_file(path=path.strip())

    def choose_format(self, kind: ExportFormat | None) -> None:
        """The format chosen (None: found from the file's name)."""
        self._forget_file(kind=kind)

    def choose_encoding(self, encoding: str | None) -> None:
        """The text encoding chosen (None: found out from the file)."""
        self._forget_file(encoding=encoding)

    def _forget_file(self, **chosen: Any) -> None:
        self.path = chosen.get("path", self.path)
        self.format = chosen.get("kind", self.format)
        self.encoding = chosen.get("encoding", self.encoding)
        self._export = self._match = None
        self._screen.show_problem("")
        self._show_form()

    # --- moving on and back ----------------------------------------------------------------

    def next(self) -> None:
        """The footer's main button: what it does depends on the step."""
        if not self.form.next_enabled:
            return
        self._screen.show_problem("")
        self._screen.show_note("")
        if self.step is Step.FILE:
            self._open_file()
        elif self.step is Step.COLUMNS:
            self._run_preview(applied_mapping(self._choices))
        elif self.step is Step.REPORT and self.report is not None and self.report.finished:
            self._screen.finish()
        else:  # the preview confirmed, a stopped import resumed, a failed one run again
            self._start_import()

    def back(self) -> None:
        """Back to the columns (or, for a file without columns, to the file)."""
        if self.busy or self.step not in (Step.COLUMNS, Step.PREVIEW):
            return
        self._screen.show_problem("")
        self._screen.show_note("")
        self._forget_preview()
        if self.step is Step.PREVIEW and self._match is not None:
            self._go(Step.COLUMNS)
        else:
            self._go(Step.FILE)

    def cancel(self) -> bool:
        """Cancel, Stop or Escape: an import or a preview under way is asked to stop after
        its batch (the wizard stays, to show what was written, or to change the columns);
        otherwise True — the wizard may close."""
        if self._stoppable():
            if not self._stop.is_set():
                self._stop.set()
                self._under_way = STOPPING
                if self.step is Step.IMPORTING:
                    self._show_progress()
                self._show_form()
            return False
        return True

    def _stoppable(self) -> bool:
        """Whether an import or a dry run is under way (Cancel stops it)."""
        if self.step is Step.IMPORTING:
            return self.importing
        return self._under_way in (PREVIEWING, STOPPING)

    def close(self) -> None:
        """The wizard is closing: stop whatever runs, deliver nothing more to it, let go of
        the report's lines. An import under way still publishes what it changed."""
        self._closed = True
        self._stop.set()
        self._calls.cancel()
        self._forget_preview()
        if self._report_lines is not None:
            self._report_lines.close()
            self._report_lines = None

    # --- the columns page -------------------------------------------------------------------

    def choose_column(self, field: Field, header: str | None) -> None:
        """``field`` is read from the column ``header`` (None: not read)."""
        self._choices[field] = header
        self._screen.show_problem("")
        self._screen.show_unread(unread_text(self._match, self._choices))
        self._show_form()

    def save_mapping(self, path: str) -> None:
        """Save the columns chosen as a mapping file (for the next export, or the command
        line's ``--mapping``)."""
        if not path or self._match is None:
            return
        chosen = {field: header or "" for field, header in self._choices.items()}
        where = Path(path)

        def work() -> Path:
            try:
                write_mapping(where, chosen)
            except OSError as error:
                raise DomainError(
                    f"The mapping could not be saved to {where} ({error.strerror or error}); "
                    "choose another folder."
                ) from None
            return where

        self._call("Saving the mapping", SAVING, work, self._mapping_saved)

    def load_mapping(self, path: str) -> None:
        """Choose the columns a mapping file names (the other fields keep their choice)."""
        if not path or self._match is None:
            return
        self._call("Reading the mapping", READING, partial(read_mapping, Path(path)), self._apply)

    # --- the preview and report pages --------------------------------------------------------

    def save_report(self, path: str) -> None:
        """Write the report on screen (the preview's, or the import's) to ``path`` as CSV."""
        if self.step is Step.PREVIEW:
            lines, report = self._preview_lines, self._preview
        else:
            lines, report = self._report_lines, self.report
        if not path or lines is None or report is None:
            return
        where = Path(path)
        self._call(
            "Saving the report",
            SAVING,
            partial(lines.save, where, report),
            lambda _none: self._screen.show_note(f"Report saved to {where}."),
        )

    def report_name(self) -> str:
        """A file name for the report on screen ("export-preview.csv")."""
        stem = Path(self.path).stem or "import"
        return f"{stem}-{'preview' if self.step is Step.PREVIEW else 'import-report'}.csv"

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

        self._call("Reading the file", READING, work, self._file_opened)

    def _file_opened(self, opened: Export | MappingRefused) -> None:
        if isinstance(opened, Export) and opened.columns is None:
            self._export, self._match = opened, None
            self._run_preview(None)  # nothing to map: straight to the preview
            return
        match = opened.columns if isinstance(opened, Export) else opened.match
        assert match is not None
        self._export = opened if isinstance(opened, Export) else None
        self._match = match
        self._choices = {
            field: match.header_of(field) if field in match.columns else None for field in Field
        }
        self._go(Step.COLUMNS)
        self._screen.show_columns(self._columns_page())

    def _run_preview(self, mapping: dict[str, str] | None) -> None:
        path, kind, encoding = Path(self.path), self.format, self._encoding_used()
        today = self._desk.clock.now().astimezone().date()
        opened = self._export if mapping is None else None
        lines, stop = ReportLines(), self._new_stop()
        progress = self._progress_of(self._next_run(), PREVIEWING)

        def work() -> tuple[Export, ImportReport]:
            export = opened or open_export(
                path, today=today, format=kind, encoding=encoding, mapping=mapping
            )
            report = self._desk.act(
                import_export,
                export,
                dry_run=True,
                on_line=lines.add,
                progress=progress,
                cancelled=stop.is_set,
            )
            return export, report

        self._call(
            "Working out what the import would do",
            PREVIEWING,
            work,
            partial(self._previewed, lines),
            partial(self._preview_refused, lines),
        )

    def _previewed(self, lines: ReportLines, answer: tuple[Export, ImportReport]) -> None:
        export, report = answer
        if not report.finished:
            lines.close()
            self._screen.show_problem(PREVIEW_STOPPED)
            return
        self._export = export
        self._forget_preview()
        self._preview, self._preview_lines = report, lines
        self._go(Step.PREVIEW)
        self._screen.show_preview(preview_page(report, export.unit))

    def _preview_refused(self, lines: ReportLines, error: DomainError) -> None:
        lines.close()
        self._screen.show_problem(error.message)

    def _start_import(self) -> None:
        export, preview = self._export, self._preview
        if export is None or preview is None:
            return
        if self._report_lines is not None:
            self._report_lines.close()
        self.report, self._report_lines = None, None
        lines, stop, run = ReportLines(), self._new_stop(), self._next_run()
        progress = self._progress_of(run, IMPORTING)
        self._done, self._import_failed = 0, False
        self._under_way = IMPORTING
        self._go(Step.IMPORTING)
        self._show_progress()
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
            partial(self._imported, run, lines),
            partial(self._import_refused, run, lines),
        )
        self._show_form()

    def _imported(self, run: int, lines: ReportLines, report: ImportReport) -> None:
        if report.changes.bulk:
            self._publish(report.changes)  # even when the wizard is gone
        if self._closed or run != self._run:
            lines.close()
            return
        self.report, self._report_lines = report, lines
        self._under_way = ""
        self._go(Step.REPORT)
        unit = self._export.unit if self._export is not None else "row"
        previewed = self._preview.sha256 if self._preview is not None else ""
        self._screen.show_report(
            report_page(report, unit, total=self.total or None, previewed=previewed)
        )

    def _import_refused(self, run: int, lines: ReportLines, error: DomainError) -> None:
        lines.close()
        # Batches before the failure were written: every page reads everything again.
        self._publish(Changes(bulk=True))
        if self._closed or run != self._run:
            return
        self._under_way = ""
        self._import_failed = True
        self._screen.show_problem(f"{error.message} {IMPORT_AGAIN}")
        self._show_progress()
        self._show_form()

    # --- helpers ---------------------------------------------------------------------------

    def _call(
        self,
        what: str,
        under_way: str,
        work: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_refused: Callable[[DomainError], None] | None = None,
    ) -> None:
        """Run ``work`` on the worker, saying ``under_way`` meanwhile."""
        self._under_way = under_way

        def done(result: Any) -> None:
            self._under_way = ""
            on_done(result)
            self._show_form()

        def refused(error: DomainError) -> None:
            self._under_way = ""
            (on_refused or self._refused)(error)
            self._show_form()

        self._calls.run(what, work, done, refused)
        self._show_form()

    def _refused(self, error: DomainError) -> None:
        self._screen.show_problem(error.message)

    def _apply(self, mapping: dict[str, str]) -> None:
        if self._match is None:
            return
        problem, chosen = mapping_problem(self._match, mapping)
        if problem:
            self._screen.show_problem(problem)
            return
        self._choices.update(chosen)
        self._screen.show_columns(self._columns_page())

    def _mapping_saved(self, where: Path) -> None:
        self._screen.show_note(f"Mapping saved to {where}.")

    def _columns_page(self) -> ColumnsPage:
        assert self._match is not None
        return columns_page(
            Path(self.path).name,
            self._match,
            self._choices,
            self._export.encoding if self._export is not None else None,
        )

    def _encoding_used(self) -> str | None:
        return self.encoding if self.encoding_applies else None

    def _new_stop(self) -> threading.Event:
        self._stop = threading.Event()
        return self._stop

    def _next_run(self) -> int:
        self._run += 1
        return self._run

    def _progress_of(self, run: int, doing: str) -> Callable[[int], None]:
        """What the worker calls after each batch: the count reaches ``_progressed`` on the
        GUI thread, with the run it belongs to."""
        cross = self._progress
        return lambda done: cross((run, doing, done))

    def _progressed(self, news: tuple[int, str, int]) -> None:
        run, doing, done = news
        if self._closed or run != self._run:
            return
        if doing == PREVIEWING:
            if self._under_way == PREVIEWING:
                self._screen.show_form(self._with_hint(f"{PREVIEWING} {done:,} read"))
            return
        self._done = done
        self._show_progress()

    def _with_hint(self, hint: str) -> WizardForm:
        return dataclasses.replace(self.form, hint=hint)

    def _show_progress(self) -> None:
        total = max(self.total, self._done)
        unit = self._export.unit if self._export is not None else "row"
        plural = "entries" if unit == "entry" else f"{unit}s"
        text = f"{self._done:,} of {total:,} {plural} gone through"
        if self._under_way == STOPPING:
            text += f" — {STOPPING[0].lower()}{STOPPING[1:]}"
        elif self._import_failed:
            text += " — the import stopped"
        self._screen.show_progress(ImportProgress(self._done, total, text))

    def _forget_preview(self) -> None:
        if self._preview_lines is not None:
            self._preview_lines.close()
        self._preview, self._preview_lines = None, None

    def _go(self, step: Step) -> None:
        self.step = step
        self._screen.show_step(step, step_caption(step, with_columns=self._has_columns()))
        self._show_form()

    def _has_columns(self) -> bool:
        return self._match is not None or self.step is Step.FILE

    def _show_form(self) -> None:
        if not self._closed:
            self._screen.show_form(self.form)


__all__ = [
    "CHOOSE_FILE",
    "CONFIRM",
    "ENCODINGS",
    "FORMATS",
    "IMPORTING",
    "IMPORT_AGAIN",
    "PREVIEWING",
    "PREVIEW_STOPPED",
    "READING",
    "STEP_TITLES",
    "STOPPING",
    "Crossing",
    "ImportPresenter",
    "ImportProgress",
    "ImportScreen",
    "Step",
    "WizardForm",
    "step_caption",
]
