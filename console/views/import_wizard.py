"""The Import wizard (issue 13, point 6), for office managers and administrators: choose the
export, check its columns, read the dry run's preview, import with a progress bar and Stop,
and keep the report as CSV.

A dialog with its pages in a ``QStackedWidget`` and its own footer (Back, the step's main
button, Cancel/Stop), rather than a ``QWizard``: the wizard's steps wait for workers (the
file read, the dry run, the import), which ``QWizard``'s synchronous page checks do not
allow, and it looks like the console's other dialogs. It binds its widgets to an
``ImportPresenter`` (``console.views.import_presenter``), which decides; progress reaches
it through ``on_gui_thread``. File choosers open with ``open()``, never blocking. Escape or
Cancel stops an import or a dry run under way (the wizard stays, to say what was written),
and otherwise closes it; closing it in any other way (the lock screen) stops the import too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from console.services.desk import StaffDesk
from console.services.imports.plan import Kind
from console.services.permissions import Permission
from console.services.workstation import Changes
from console.views.action_dialog import PRIMARY_BLUE, dialog_style, filled_button_style
from console.views.import_columns_presenter import ColumnsPage
from console.views.import_pages import ColumnMappingPage, ExportFilePage, ProgressPage
from console.views.import_presenter import ImportPresenter
from console.views.import_report_presenter import ReportPage, lines_of
from console.views.import_report_view import ReportView
from console.views.import_steps_presenter import ImportProgress, Step, WizardForm, step_caption
from console.views.list_page import named_label, show_value, table_style
from console.workers.gui_thread import on_gui_thread
from console.workers.service_calls import Submitter

TITLE = "Import records"
EXPORT_FILES = "Clinic exports (*.csv *.txt *.xlsx *.json *.ndjson);;All files (*)"
CSV_FILES = "CSV files (*.csv);;All files (*)"
PROGRESS_ABOUT = (
    "Each batch of rows is written whole, in a transaction of its own. Stop ends the import "
    "after the batch under way: what was written stays, and importing the file again "
    "completes it."
)

_STYLE = """
QLabel#importStep { color: #2b6cb0; font-weight: 600; }
QProgressBar#importBusy { border: none; background: #e3e7ec; max-height: 3px; }
QProgressBar#importBusy::chunk { background: #2b6cb0; }
QLabel#importAbout { font-weight: 600; color: #1f2933; }
QLabel#importOutcome { color: #1f2933; }
QLabel#importUnread, QLabel#importLinesCaption, QLabel#importNote { color: #5f6b7a; }
QFrame#importFigures { background: #f6f7f9; border: 1px solid #d5dae1; border-radius: 6px; }
QFrame#importFigures QLabel { background: transparent; }
QLabel#figureCaption { color: #3e4a59; }
QLabel#figureValue { color: #1f2933; font-weight: 600; }
QLabel#figureValue[zero="true"] { color: #8a94a3; font-weight: 400; }
QProgressBar#importProgress { border: 1px solid #c3cad3; border-radius: 4px; background: #eef1f5;
    min-height: 14px; max-height: 14px; }
QProgressBar#importProgress::chunk { background: #2b6cb0; border-radius: 3px; }
QLabel#importProgressText { color: #1f2933; }
QPushButton:disabled { color: #9aa3ae; }
"""


class ImportWizard(QDialog):
    """Import a clinic's export of charts and portal accounts, from choosing the file to
    the saved report. Raises ``NotAllowed`` (before any window exists) for a user who may
    not import. ``publish`` hands the import's ``Changes`` to every page."""

    presenter: ImportPresenter

    def __init__(
        self,
        desk: StaffDesk,
        runner: Submitter,
        *,
        publish: Callable[[Changes], None],
        parent: QWidget | None = None,
    ) -> None:
        desk.actor.require(Permission.IMPORT_RECORDS)
        super().__init__(parent)
        self.setWindowTitle(TITLE)
        self.setObjectName("importWizard")
        self.setStyleSheet(
            dialog_style("import")
            + filled_button_style("importNext", *PRIMARY_BLUE)
            + table_style("importLines")
            + _STYLE
        )
        self.heading = named_label("Import", "importHeading", "Import charts and portal accounts")
        self.step_label = named_label("Step", "importStep")
        self.busy = QProgressBar()
        self.busy.setObjectName("importBusy")
        self.busy.setAccessibleName("Working")
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setFixedHeight(3)
        self.busy.hide()
        self.file_page = ExportFilePage()
        self.columns_page = ColumnMappingPage()
        self.preview_page = ReportView(preview=True)
        self.progress_page = ProgressPage()
        show_value(self.progress_page.about, PROGRESS_ABOUT)
        self.report_page = ReportView(preview=False)
        self.pages = QStackedWidget()
        self._page_of: dict[Step, QWidget] = {
            Step.FILE: self.file_page,
            Step.COLUMNS: self.columns_page,
            Step.PREVIEW: self.preview_page,
            Step.IMPORTING: self.progress_page,
            Step.REPORT: self.report_page,
        }
        for page in self._page_of.values():
            self.pages.addWidget(page)
        self.problem = named_label("Problem", "importProblem", wrap=True)
        self.problem.hide()
        self.hint = named_label("What is still needed", "importHint", wrap=True)
        self.back_button = QPushButton("&Back")
        self.next_button = QPushButton("&Next")
        self.next_button.setObjectName("importNext")
        self.next_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.back_button.setAutoDefault(False)
        self.cancel_button.setAutoDefault(False)
        self.file_dialog: QFileDialog | None = None
        self._lay_out()

        self.presenter = ImportPresenter(
            desk, runner, self, publish=publish, on_gui_thread=on_gui_thread
        )
        self._connect()
        self.show_step(Step.FILE, step_caption(Step.FILE))
        self.show_form(self.presenter.form)
        self.setMinimumSize(720, 560)
        self.resize(820, 660)

    # --- ImportScreen -----------------------------------------------------------------------

    def show_step(self, step: Step, caption: str) -> None:
        self.pages.setCurrentWidget(self._page_of[step])
        show_value(self.step_label, caption)
        self._first_control().setFocus(Qt.FocusReason.OtherFocusReason)

    def show_form(self, form: WizardForm) -> None:
        for button, text, visible, enabled in (
            (self.back_button, "&Back", form.back_visible, form.back_enabled),
            (self.next_button, form.next_text, form.next_visible, form.next_enabled),
            (self.cancel_button, form.cancel_text, form.cancel_visible, form.cancel_enabled),
        ):
            button.setText(text)
            button.setAccessibleName(text.replace("&", ""))
            button.setVisible(visible)
            button.setEnabled(enabled)
        show_value(self.hint, form.hint)
        self.busy.setVisible(bool(form.under_way) and form.step is not Step.IMPORTING)
        self.file_page.set_editable(form.editable, encoding_applies=self.presenter.encoding_applies)
        self.columns_page.set_editable(form.editable)
        for page in (self.preview_page, self.report_page):
            page.save_button.setEnabled(form.editable)
            if page.kinds is not None:
                page.kinds.setEnabled(form.editable)

    def show_problem(self, text: str) -> None:
        show_value(self.problem, text)
        self.problem.setVisible(bool(text))

    def show_note(self, text: str) -> None:
        page = self.pages.currentWidget()
        if isinstance(page, ColumnMappingPage | ReportView):
            page.show_note(text)

    def show_columns(self, page: ColumnsPage) -> None:
        self.columns_page.show_columns(page)

    def show_unread(self, text: str) -> None:
        self.columns_page.show_unread(text)

    def show_preview(self, page: ReportPage) -> None:
        self.preview_page.show_page(page)

    def show_progress(self, progress: ImportProgress) -> None:
        self.progress_page.show_progress(progress)

    def show_report(self, page: ReportPage) -> None:
        self.report_page.show_page(page)
        self.report_page.first_control.setFocus(Qt.FocusReason.OtherFocusReason)

    def finish(self) -> None:
        self.accept()

    # --- opening and closing ----------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._first_control().setFocus(Qt.FocusReason.OtherFocusReason)

    def reject(self) -> None:
        """Cancel, Stop and Escape: stop what runs (the wizard stays), else close."""
        if self.presenter.cancel():
            super().reject()

    def done(self, result: int) -> None:
        self.presenter.close()
        if self.file_dialog is not None:
            self.file_dialog.done(QDialog.DialogCode.Rejected)
        super().done(result)

    # --- file choosers (never blocking) -----------------------------------------------------

    def browse(self) -> None:
        """Choose the export file."""
        start = self.presenter.path or _documents()
        self._ask_file("Choose the export", start, EXPORT_FILES, self.file_page.path.setText)

    def save_mapping(self) -> None:
        """Choose where to save the columns as a mapping file."""
        name = f"{Path(self.presenter.path).stem or 'export'}-mapping.csv"
        where = str(Path(self.presenter.path).parent / name)
        self._ask_file("Save the mapping", where, CSV_FILES, self.presenter.save_mapping, True)

    def load_mapping(self) -> None:
        """Choose a mapping file to read the columns from."""
        where = str(Path(self.presenter.path).parent)
        self._ask_file("Load a mapping", where, CSV_FILES, self.presenter.load_mapping)

    def save_report(self) -> None:
        """Choose where to save the report (or the preview) as CSV."""
        where = str(Path(_documents()) / self.presenter.report_name())
        self._ask_file("Save the report", where, CSV_FILES, self.presenter.save_report, True)

    def _ask_file(
        self,
        title: str,
        start: str,
        filters: str,
        chosen: Callable[[str], None],
        saving: bool = False,
    ) -> None:
        if self.file_dialog is not None:
            self.file_dialog.deleteLater()
        dialog = QFileDialog(self, title, start)
        dialog.setNameFilter(filters)
        if saving:
            dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
            dialog.setDefaultSuffix("csv")
        else:
            dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(chosen)
        self.file_dialog = dialog
        dialog.open()

    # --- building ---------------------------------------------------------------------------

    def _connect(self) -> None:
        presenter = self.presenter
        self.file_page.path_changed.connect(presenter.choose_file)
        self.file_page.format_chosen.connect(presenter.choose_format)
        self.file_page.encoding_chosen.connect(presenter.choose_encoding)
        self.file_page.browse_requested.connect(self.browse)
        self.columns_page.column_chosen.connect(presenter.choose_column)
        self.columns_page.save_requested.connect(self.save_mapping)
        self.columns_page.load_requested.connect(self.load_mapping)
        self.preview_page.save_requested.connect(self.save_report)
        self.report_page.save_requested.connect(self.save_report)
        self.report_page.kind_chosen.connect(self._kind_chosen)
        self.back_button.clicked.connect(presenter.back)
        self.next_button.clicked.connect(presenter.next)
        self.cancel_button.clicked.connect(self.reject)

    def _first_control(self) -> QWidget:
        """Where the focus goes when a page opens: its first decision."""
        page = self.pages.currentWidget()
        if page is self.progress_page:
            return self.cancel_button  # Stop
        first = getattr(page, "first_control", None)
        return first if isinstance(first, QWidget) else self.next_button

    def _kind_chosen(self, kind: Kind | None) -> None:
        report = self.presenter.report
        if report is not None:
            self.report_page.show_lines(lines_of(report, kind))

    def _lay_out(self) -> None:
        header = QHBoxLayout()
        header.addWidget(self.heading, 1)
        header.addWidget(self.step_label, 0, Qt.AlignmentFlag.AlignBottom)
        footer = QHBoxLayout()
        footer.setSpacing(8)
        footer.addWidget(self.hint, 1)
        for button in (self.back_button, self.next_button, self.cancel_button):
            footer.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.setSpacing(10)
        layout.addLayout(header)
        layout.addWidget(self.busy)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.problem)
        layout.addLayout(footer)


def _documents() -> str:
    return QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)


__all__ = ["CSV_FILES", "EXPORT_FILES", "PROGRESS_ABOUT", "TITLE", "ImportWizard"]
