"""The import wizard's steps and footer, without Qt: the pages in order, what the footer's
buttons say and allow on each, what the wizard tells its screen, and the choices of the
file page.

``decide_form`` is the one rule for the buttons: Back on the columns and preview pages;
the main button moves on (Next), confirms (Import), resumes a stopped import or closes a
finished one; Cancel stops an import or a dry run under way, closes otherwise; nothing can
be pressed while something is under way but Stop, once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from console.services.imports.source import ExportFormat
from console.views.import_columns_presenter import ColumnsPage
from console.views.import_report_presenter import ReportPage


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
CONFIRM = "Nothing has been written yet: Import writes what the preview shows."


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


def import_progress(
    done: int, total: int, unit: str = "row", *, stopping: bool = False, failed: bool = False
) -> ImportProgress:
    """ "12,000 of 35,000 rows gone through", and whether it is stopping or broke off."""
    total = max(total, done)  # the file grew since the preview
    text = f"{done:,} of {total:,} {'entries' if unit == 'entry' else f'{unit}s'} gone through"
    if stopping:
        text += " — stopping after the batch under way…"
    elif failed:
        text += " — the import broke off"
    return ImportProgress(done, total, text)


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
    #: What is still needed before the main button, or what is under way.
    hint: str


def decide_form(
    step: Step,
    *,
    under_way: str,
    still_needed: str,
    running: bool,
    stopping: bool,
    finished: bool,
    failed: bool,
) -> WizardForm:
    """The footer on ``step``: ``under_way`` says what runs ("" for nothing), ``running``
    whether it is an import or a dry run (which Stop ends), ``stopping`` whether Stop was
    pressed, ``finished`` whether the import went through the whole file and ``failed``
    whether it broke off."""
    busy = bool(under_way)
    if step is Step.REPORT:
        next_text = "&Close" if finished else "&Resume import"
    elif step is Step.IMPORTING:
        next_text = "&Import again"
    elif step is Step.PREVIEW:
        next_text = "&Import"
    else:
        next_text = "&Next"
    if running:
        cancel_text = "&Stop import" if step is Step.IMPORTING else "&Stop preview"
    else:
        cancel_text = "Close" if step in (Step.IMPORTING, Step.REPORT) else "Cancel"
    return WizardForm(
        step=step,
        under_way=under_way,
        editable=not busy,
        back_visible=step in (Step.COLUMNS, Step.PREVIEW),
        back_enabled=not busy,
        next_text=next_text,
        next_visible=not (step is Step.IMPORTING and not failed),
        next_enabled=not busy and not still_needed,
        cancel_text=cancel_text,
        cancel_visible=not (step is Step.REPORT and finished),
        cancel_enabled=not (running and stopping),
        hint=under_way or still_needed or (CONFIRM if step is Step.PREVIEW else ""),
    )


class ImportScreen(Protocol):
    """What the presenter tells the wizard (the dialog, or a test's stand-in)."""

    def show_step(self, step: Step, caption: str) -> None:
        """Show the page of ``step``; ``caption`` says which step of how many it is."""
        ...

    def show_form(self, form: WizardForm) -> None:
        """Label, show and enable the footer's buttons and the page's controls."""
        ...

    def show_problem(self, text: str) -> None:
        """Say why something was refused ("" to clear it)."""
        ...

    def show_note(self, text: str) -> None:
        """Say on the page where a file was saved ("" to clear it)."""
        ...

    def show_columns(self, page: ColumnsPage) -> None:
        """Show the file's columns and the field each is read as."""
        ...

    def show_unread(self, text: str) -> None:
        """Say which columns no field is read from."""
        ...

    def show_preview(self, page: ReportPage) -> None:
        """Show what the dry run found."""
        ...

    def show_progress(self, progress: ImportProgress) -> None:
        """Show how far the import is."""
        ...

    def show_report(self, page: ReportPage) -> None:
        """Show what the import did."""
        ...

    def finish(self) -> None:
        """Close the wizard: its work is done."""
        ...


#: Makes a callable that any thread may call, whose values reach the given callable on the
#: GUI thread (``console.workers.gui_thread.on_gui_thread``; the identity in tests).
Crossing = Callable[[Callable[[Any], None]], Callable[[Any], None]]


__all__ = [
    "CHOOSE_FILE",
    "CONFIRM",
    "ENCODINGS",
    "FORMATS",
    "IMPORTING",
    "PREVIEWING",
    "READING",
    "SAVING",
    "STEP_TITLES",
    "STOPPING",
    "Crossing",
    "ImportProgress",
    "ImportScreen",
    "Step",
    "WizardForm",
    "decide_form",
    "import_progress",
    "step_caption",
]
