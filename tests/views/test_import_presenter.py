"""The import wizard's decisions, driven without a display (issue 13, point 6): a stand-in
screen, a real SQLite file, real export files and the real services, the work run inline
(or held until the test runs it). Progress reaches the screen on the same thread here."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from console.models.schema import Patient
from console.models.states import StaffRole
from console.services.desk import StaffDesk
from console.services.imports import run
from console.services.imports.columns import Field, match_columns
from console.services.imports.files import read_mapping
from console.services.imports.source import ExportFormat
from console.services.permissions import Actor
from console.services.workstation import Changes, Workstation
from console.views.import_columns_presenter import (
    EVERY_COLUMN_READ,
    ColumnsPage,
    applied_mapping,
    field_label,
    mapping_problem,
    still_needed_columns,
    unread_text,
)
from console.views.import_presenter import PREVIEW_STOPPED, ImportPresenter
from console.views.import_report_presenter import (
    FILE_CHANGED,
    KIND_LABELS,
    NOTHING_TO_CHANGE,
    ReportPage,
    lines_of,
)
from console.views.import_steps_presenter import (
    CHOOSE_FILE,
    CONFIRM,
    IMPORTING,
    STOPPING,
    ImportProgress,
    Step,
    WizardForm,
    step_caption,
)
from tests.runners import HeldRunner, InlineRunner
from tests.services.conftest import add_staff

HEADER = "Acct No,First Name,Last Name,DOB,Email,Username,Favourite colour\n"
ROWS = [f"A{n},Pat,Lee{n},1990-01-{n % 28 + 1:02d},,user{n},blue\n" for n in range(1, 31)]
BAD = "A7,Dup,Lee,1990-01-01,,,\n,No,Mrn,1990-01-01,,,\nA40,Bad,Date,1990-02-30,x@y,,\n"


class FakeImportScreen:
    """Keeps what the presenter told the wizard; ``on_progress`` acts as staff would on
    seeing the progress bar move."""

    def __init__(self) -> None:
        self.step = Step.FILE
        self.caption = ""
        self.forms: list[WizardForm] = []
        self.problem = ""
        self.note = ""
        self.columns: ColumnsPage | None = None
        self.unread = ""
        self.preview: ReportPage | None = None
        self.progress: list[ImportProgress] = []
        self.report: ReportPage | None = None
        self.finished = False
        self.on_progress: Callable[[ImportProgress], None] = lambda _progress: None

    @property
    def form(self) -> WizardForm:
        return self.forms[-1]

    def show_step(self, step: Step, caption: str) -> None:
        self.step, self.caption = step, caption

    def show_form(self, form: WizardForm) -> None:
        self.forms.append(form)

    def show_problem(self, text: str) -> None:
        self.problem = text

    def show_note(self, text: str) -> None:
        self.note = text

    def show_columns(self, page: ColumnsPage) -> None:
        self.columns, self.unread = page, page.unread

    def show_unread(self, text: str) -> None:
        self.unread = text

    def show_preview(self, page: ReportPage) -> None:
        self.preview = page

    def show_progress(self, progress: ImportProgress) -> None:
        self.progress.append(progress)
        self.on_progress(progress)

    def show_report(self, page: ReportPage) -> None:
        self.report = page

    def finish(self) -> None:
        self.finished = True


@pytest.fixture
def manager(desk: Workstation, staff_hash: str) -> Actor:
    return add_staff(desk.database, StaffRole.MANAGER, staff_hash)


@pytest.fixture
def screen() -> FakeImportScreen:
    return FakeImportScreen()


@pytest.fixture
def published() -> list[Changes]:
    return []


@pytest.fixture
def wizard(
    desk: Workstation, manager: Actor, screen: FakeImportScreen, published: list[Changes]
) -> Iterator[ImportPresenter]:
    presenter = ImportPresenter(
        StaffDesk(desk, manager), InlineRunner(), screen, publish=published.append
    )
    yield presenter
    presenter.close()


def export_file(folder: Path, text: str = HEADER + "".join(ROWS) + BAD) -> Path:
    path = folder / "clinic export.csv"
    path.write_text(text, encoding="utf-8")
    return path


def charts(desk: Workstation) -> int:
    with Session(desk.database.engine) as session:
        return session.scalar(select(func.count()).select_from(Patient)) or 0


def to_columns(wizard: ImportPresenter, path: Path) -> None:
    wizard.choose_file(str(path))
    wizard.next()


def to_preview(wizard: ImportPresenter, path: Path) -> None:
    to_columns(wizard, path)
    wizard.choose_column(Field.MRN, "Acct No")
    wizard.next()


def test_step_captions_and_the_first_page() -> None:
    assert step_caption(Step.COLUMNS) == "Step 2 of 5 · Check the columns"
    assert step_caption(Step.PREVIEW, with_columns=False) == "Step 2 of 4 · Preview"


def test_the_file_is_needed_first_and_a_missing_one_is_said(
    wizard: ImportPresenter, screen: FakeImportScreen, tmp_path: Path
) -> None:
    assert wizard.form.hint == CHOOSE_FILE and not wizard.form.next_enabled
    assert not wizard.form.back_visible and wizard.form.cancel_text == "Cancel"
    wizard.choose_file(f"  {tmp_path / 'gone.csv'}  ")
    assert screen.form.next_enabled and screen.form.next_text == "&Next"
    wizard.next()
    assert screen.problem == f"There is no file at {tmp_path / 'gone.csv'}."
    assert wizard.step is Step.FILE and not wizard.busy
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    wizard.choose_file(str(tmp_path / "notes.pdf"))
    assert screen.problem == ""  # a new choice clears the old problem
    wizard.next()
    assert "cannot tell what kind of export 'notes.pdf' is" in screen.problem
    (tmp_path / "empty.csv").write_bytes(b"")
    wizard.choose_file(str(tmp_path / "empty.csv"))
    wizard.next()
    assert screen.problem == "The file is empty: it has not even a header row."


def test_a_column_the_console_does_not_know_is_chosen_on_the_columns_page(
    wizard: ImportPresenter, screen: FakeImportScreen, tmp_path: Path
) -> None:
    to_columns(wizard, export_file(tmp_path))
    assert wizard.step is Step.COLUMNS and screen.caption == "Step 2 of 5 · Check the columns"
    page = screen.columns
    assert page is not None and screen.problem == ""
    assert page.about == "clinic export.csv · 7 columns"
    assert [(c.field, c.header) for c in page.choices][:4] == [
        (Field.MRN, None),
        (Field.FIRST_NAME, "First Name"),
        (Field.LAST_NAME, "Last Name"),
        (Field.BIRTH_DATE, "DOB"),
    ]
    assert page.choices[0].label == "MRN (required)"
    assert screen.unread == "Not read: Acct No, Favourite colour."
    assert not screen.form.next_enabled
    assert screen.form.hint == "Choose the column that holds the MRN."
    assert screen.form.back_visible and screen.form.back_enabled

    wizard.choose_column(Field.MRN, "Username")
    assert screen.form.hint == (
        "The column 'Username' is chosen for MRN and Portal username: a column holds one field."
    )
    wizard.choose_column(Field.MRN, "Acct No")
    assert screen.unread == "Not read: Favourite colour." and screen.form.next_enabled
    wizard.back()
    assert wizard.step is Step.FILE
    wizard.next()  # the same file again: what was chosen stays
    assert wizard.step is Step.COLUMNS and wizard.choices[Field.MRN] == "Acct No"


def test_the_preview_counts_and_first_rejected_rows_then_confirm_and_import(
    wizard: ImportPresenter,
    screen: FakeImportScreen,
    desk: Workstation,
    published: list[Changes],
    tmp_path: Path,
) -> None:
    to_preview(wizard, export_file(tmp_path))
    assert wizard.step is Step.PREVIEW and charts(desk) == 0
    page = screen.preview
    assert page is not None
    shown = {figure.caption: figure.value for figure in page.figures}
    assert shown["Rows gone through"] == "33" and shown["New charts"] == "30"
    assert shown["Rows rejected"] == "3" and shown["New portal accounts"] == "30"
    assert page.outcome == (
        "Nothing has been written yet. Importing would add 30 charts and 30 portal accounts, "
        "and update 0 charts and 0 accounts. 3 rows would be left out (rejected)."
    )
    assert page.lines[:3] == (
        ("32", "Rejected", "", "", "MRN A7 repeats row 8"),
        ("33", "Rejected", "", "", "no MRN"),
        ("34", "Rejected", "", "", "the date of birth '1990-02-30' is not a real date"),
    )
    assert page.lines_caption.startswith("First rejected rows and warnings (up to 50 of each")
    assert screen.form.next_text == "&Import" and screen.form.hint == CONFIRM

    wizard.next()  # confirmed
    assert wizard.step is Step.REPORT and charts(desk) == 30
    report = screen.report
    assert report is not None and report.outcome == (
        "Import finished: 33 rows gone through; 30 charts and 30 portal accounts added, "
        "0 charts and 0 accounts updated. 3 rows rejected."
    )
    assert screen.progress[0] == ImportProgress(0, 33, "0 of 33 rows gone through")
    assert screen.progress[-1].done == 33
    assert published == [wizard.report.changes] and published[0].bulk  # type: ignore[union-attr]
    assert screen.form.next_text == "&Close" and not screen.form.cancel_visible
    assert report.kinds[0].label == "Every kind (63)"
    labels = [choice.label for choice in report.kinds[1:]]
    assert labels == ["Rejected (3)", "New chart (30)", "New account (30)"]
    assert lines_of(wizard.report, report.kinds[1].kind) == page.lines[:3]  # type: ignore[arg-type]
    wizard.next()
    assert screen.finished


def test_stop_half_way_keeps_whole_batches_and_resume_completes_it(
    wizard: ImportPresenter,
    screen: FakeImportScreen,
    desk: Workstation,
    published: list[Changes],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(run, "BATCH_ENTRIES", 5)
    to_preview(wizard, export_file(tmp_path))

    def stop_after_two_batches(progress: ImportProgress) -> None:
        if progress.done == 10 and wizard.importing:
            assert wizard.form.cancel_text == "&Stop import"
            assert not wizard.cancel()  # the wizard stays, to show what was written

    screen.on_progress = stop_after_two_batches
    wizard.next()
    assert [p.done for p in screen.progress] == [0, 5, 10, 10]
    assert (
        screen.progress[-1].text
        == "10 of 33 rows gone through — stopping after the batch under way…"
    )
    assert wizard.step is Step.REPORT and charts(desk) == 10
    report = screen.report
    assert report is not None and report.outcome.startswith(
        "Import stopped after 10 of 33 rows: those were written in whole batches (10 charts "
        "and 10 portal accounts added, 0 charts and 0 accounts updated), nothing of the rest."
    )
    assert screen.form.next_text == "&Resume import" and screen.form.cancel_text == "Close"
    assert len(published) == 1 and published[0].bulk

    screen.on_progress = lambda _progress: None
    wizard.next()  # resume
    assert wizard.step is Step.REPORT and charts(desk) == 30
    assert wizard.report is not None and wizard.report.finished
    figures = wizard.report.figures()
    assert (figures["unchanged_charts"], figures["new_charts"]) == (10, 20)
    assert len(published) == 2


def test_save_the_preview_and_the_report_as_csv(
    wizard: ImportPresenter, screen: FakeImportScreen, tmp_path: Path
) -> None:
    to_preview(wizard, export_file(tmp_path))
    assert wizard.report_name() == "clinic export-preview.csv"
    wizard.save_report(str(tmp_path / "missing" / "preview.csv"))
    assert screen.problem.startswith("The report could not be saved to ")
    wizard.save_report(str(tmp_path / "preview.csv"))
    assert screen.note == f"Report saved to {tmp_path / 'preview.csv'}."
    with (tmp_path / "preview.csv").open(encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["row", "kind", "mrn", "username", "detail"]
    assert ["2", "new chart", "A1", "user1", ""] in rows
    assert ["", "summary", "", "", "dry run: nothing was written"] in rows
    wizard.next()
    assert wizard.report_name() == "clinic export-import-report.csv"
    wizard.save_report(str(tmp_path / "report.csv"))
    text = (tmp_path / "report.csv").read_text(encoding="utf-8")
    assert ",summary,,,import finished" in text and ",summary,,,new_charts: 30" in text


def test_a_mapping_is_saved_and_read_back(
    wizard: ImportPresenter, screen: FakeImportScreen, tmp_path: Path
) -> None:
    path = export_file(tmp_path)
    to_columns(wizard, path)
    wizard.choose_column(Field.MRN, "Acct No")
    wizard.choose_column(Field.USERNAME, None)
    mapping = tmp_path / "mapping.csv"
    wizard.save_mapping(str(mapping))
    assert screen.note == f"Mapping saved to {mapping}."
    assert (
        read_mapping(mapping)["mrn"] == "Acct No" and read_mapping(mapping)["portal_username"] == ""
    )

    wizard.back()
    to_columns(wizard, path)  # the usual names again: no MRN, the username read
    assert wizard.choices[Field.MRN] is None and wizard.choices[Field.USERNAME] == "Username"
    wizard.load_mapping(str(mapping))
    assert wizard.choices[Field.MRN] == "Acct No" and wizard.choices[Field.USERNAME] is None
    assert screen.unread == "Not read: Username, Favourite colour."

    mapping.write_text("field,column\nmrn,Chart Number\n", encoding="utf-8")
    wizard.load_mapping(str(mapping))
    assert screen.problem == "The mapping names the column 'Chart Number', which this file has not."
    mapping.write_text("field,column\ncolour,Favourite colour\n", encoding="utf-8")
    wizard.load_mapping(str(mapping))
    assert screen.problem.startswith("The mapping names 'colour', which is not a field")
    mapping.write_text("field,column\nmrn\n", encoding="utf-8")
    wizard.load_mapping(str(mapping))
    assert screen.problem == "Row 2 of the mapping file should be a field and a column header."
    assert wizard.choices[Field.MRN] == "Acct No"  # a refused mapping changes nothing


def test_the_columns_page_texts() -> None:
    assert field_label(Field.FIRST_NAME) == "First name (this or the last name)"
    assert field_label(Field.BIRTH_DATE) == "Date of birth (required)"
    choices: dict[Field, str | None] = {Field.MRN: "MRN", Field.BIRTH_DATE: "DOB"}
    assert still_needed_columns(choices) == (
        "Choose the column that holds the last name (or the first name)."
    )
    choices[Field.BIRTH_DATE] = None
    assert still_needed_columns(choices) == "Choose the column that holds the date of birth."
    assert applied_mapping({Field.MRN: "MRN"})["portal_status"] == ""
    match = match_columns(["MRN", "DOB", "Surname"])
    assert mapping_problem(match, {"mrn": "mrn", "last_name": ""}) == (
        "",
        {Field.MRN: "MRN", Field.LAST_NAME: None},
    )

    assert (
        unread_text(match, {Field.MRN: "MRN", Field.BIRTH_DATE: "DOB", Field.LAST_NAME: "surname"})
        == EVERY_COLUMN_READ
    )


def test_staff_who_may_not_import_are_told_why(
    desk: Workstation, actor: Actor, screen: FakeImportScreen, tmp_path: Path
) -> None:
    """The window hides the action from them; the service refuses anyway."""
    wizard = ImportPresenter(StaffDesk(desk, actor), InlineRunner(), screen, publish=print)
    to_preview(wizard, export_file(tmp_path))
    assert wizard.step is Step.COLUMNS
    assert screen.problem == (
        "Only office managers and administrators may import charts and accounts; ask one of them."
    )
    assert charts(desk) == 0


def test_a_preview_with_nothing_to_change_and_a_file_changed_since(
    desk: Workstation, manager: Actor, screen: FakeImportScreen, tmp_path: Path
) -> None:
    path = export_file(tmp_path, HEADER + ROWS[0])
    first = ImportPresenter(StaffDesk(desk, manager), InlineRunner(), screen, publish=print)
    to_preview(first, path)
    first.next()
    first.back()  # nothing to go back to from the report
    assert first.step is Step.REPORT
    first.close()

    again = ImportPresenter(StaffDesk(desk, manager), InlineRunner(), screen, publish=print)
    to_preview(again, path)
    assert screen.preview is not None and screen.preview.outcome == NOTHING_TO_CHANGE
    path.write_text(HEADER + ROWS[1], encoding="utf-8")  # changed after the preview
    again.next()
    assert screen.report is not None and screen.report.outcome.endswith(FILE_CHANGED)
    again.close()


def test_closing_during_the_import_stops_it_and_still_publishes_what_it_wrote(
    desk: Workstation,
    manager: Actor,
    screen: FakeImportScreen,
    published: list[Changes],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(run, "BATCH_ENTRIES", 5)
    held = HeldRunner()
    wizard = ImportPresenter(StaffDesk(desk, manager), held, screen, publish=published.append)
    to_columns(wizard, export_file(tmp_path, HEADER + "".join(ROWS)))
    held.run_all()
    wizard.choose_column(Field.MRN, "Acct No")
    wizard.next()
    held.run_all()
    wizard.next()
    assert wizard.importing and screen.form.under_way == IMPORTING
    assert not screen.form.next_visible and not screen.form.back_visible
    # The lock screen closes every dialog, here once the second batch is in.
    screen.on_progress = lambda progress: wizard.close() if progress.done == 10 else None
    held.run_all()
    assert charts(desk) == 10  # two whole batches, nothing of the rest
    assert len(published) == 1 and published[0].bulk  # every page reads everything again
    assert screen.report is None and wizard.step is Step.IMPORTING


def test_a_long_preview_is_stopped_by_cancel_and_the_wizard_stays(
    desk: Workstation, manager: Actor, screen: FakeImportScreen, tmp_path: Path
) -> None:
    held = HeldRunner()
    wizard = ImportPresenter(StaffDesk(desk, manager), held, screen, publish=print)
    to_columns(wizard, export_file(tmp_path))
    held.run_all()
    wizard.choose_column(Field.MRN, "Acct No")
    wizard.next()
    assert wizard.busy and not screen.form.next_enabled and not screen.form.editable
    assert screen.form.cancel_text == "&Stop preview"
    assert not wizard.cancel() and not wizard.cancel()  # stopping; asked once
    assert screen.form.hint == STOPPING and not screen.form.cancel_enabled
    held.run_all()
    assert screen.problem == PREVIEW_STOPPED and wizard.step is Step.COLUMNS
    assert screen.form.cancel_text == "Cancel" and wizard.cancel()  # now Cancel closes
    wizard.close()


def test_a_file_without_columns_goes_straight_to_the_preview(
    wizard: ImportPresenter,
    screen: FakeImportScreen,
    tmp_path: Path,
) -> None:
    """A FHIR export has no columns to map: the wizard goes from the file to the preview."""
    mr = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}
    patients = [
        {
            "resourceType": "Patient",
            "identifier": [{"type": mr, "value": f"F{n}"}],
            "name": [{"family": "Lee", "given": ["Ann"]}],
            "birthDate": "1990-01-31",
        }
        for n in range(3)
    ]
    bulk = tmp_path / "Patient.ndjson"
    bulk.write_text("".join(json.dumps(p) + "\n" for p in patients), encoding="utf-8")
    wizard.choose_format(ExportFormat.FHIR)
    assert not wizard.encoding_applies
    wizard.choose_file(str(bulk))
    wizard.next()
    assert wizard.step is Step.PREVIEW and screen.columns is None
    assert screen.caption == "Step 2 of 4 · Preview"
    assert screen.preview is not None
    assert screen.preview.figures[0].caption == "Entries gone through"
    assert KIND_LABELS  # every kind has words
    wizard.back()
    assert wizard.step is Step.FILE
