"""The Import wizard from the window (issue 13, point 6), on real widgets offscreen, a real
SQLite file, real export files and the real services: the mapping changed so that an
unknown column is read, the dry run's preview, the import stopped half-way and resumed, the
report saved as CSV; who may open it; and every page reading everything again afterwards."""

from __future__ import annotations

import csv
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QLabel, QScrollBar, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from console.app import build_main_window
from console.models.database import Database
from console.models.schema import AuditEvent, Patient, PortalAccount
from console.models.states import StaffRole
from console.services.clock import ManualClock
from console.services.desk import StaffDesk
from console.services.imports import run, source
from console.services.imports.columns import Field
from console.services.imports.files import open_export
from console.services.imports.run import import_export
from console.services.imports.source import Entry
from console.services.permissions import Actor, NotAllowed
from console.services.staff.session import StaffSession
from console.services.staff.users import SignedIn
from console.services.workstation import Workstation
from console.views.front_desk import FrontDesk
from console.views.import_wizard import ImportWizard
from console.views.main_window import MainWindow
from console.workers.job_runner import JobRunner
from tests.adapters.clinic_accounts import add_clinic_accounts
from tests.runners import InlineRunner
from tests.services.conftest import NOW, add_staff, make_workstation

HEADER = "Acct No,First Name,Last Name,DOB,Email,Username,Favourite colour\n"
GOOD = [
    f"A{n},Pat,Lee{n},1990-01-{n % 28 + 1:02d},pat{n}@example.org,pat{n},blue\n"
    for n in range(1, 31)
]
BAD = "A7,Dup,Lee,1990-01-01,,,\n,No,Mrn,1990-01-01,,,\nA40,Bad,Date,1990-02-30,,,\n"


@dataclass
class Console:
    window: MainWindow
    desk: FrontDesk
    workstation: Workstation
    member: Actor


def console_for(
    qtbot: QtBot, database: Database, runner: JobRunner, member: Actor
) -> Iterator[Console]:
    """The window as the console composes it for ``member``: the pages on ``runner``, the
    Import wizard on a one-thread runner of its own."""
    workstation = make_workstation(database, ManualClock(NOW))
    window = build_main_window(database, StaffSession.begin(SignedIn(member, False), NOW))
    qtbot.addWidget(window)
    imports = JobRunner(max_threads=1)
    desk = FrontDesk(window, StaffDesk(workstation, member), runner, import_runner=imports)
    with qtbot.waitSignal(window.model.row_count_changed, timeout=5000):
        pass
    yield Console(window, desk, workstation, member)
    desk.stop_import()
    imports.close()
    window.shutdown()


@pytest.fixture
def manager(database: Database, staff_hash: str) -> Actor:
    return add_staff(database, StaffRole.MANAGER, staff_hash)


@pytest.fixture
def manager_console(
    qtbot: QtBot, database: Database, runner: JobRunner, manager: Actor
) -> Iterator[Console]:
    yield from console_for(qtbot, database, runner, manager)


@pytest.fixture
def front_desk_console(
    qtbot: QtBot, database: Database, runner: JobRunner, actor: Actor
) -> Iterator[Console]:
    """The console of the shared fixtures' front-desk member of staff."""
    yield from console_for(qtbot, database, runner, actor)


@pytest.fixture
def clinic_console(
    qtbot: QtBot, database: Database, runner: JobRunner, manager: Actor
) -> Iterator[Console]:
    """A manager's console over the small clinic of the table tests."""
    add_clinic_accounts(database)
    yield from console_for(qtbot, database, runner, manager)


def counted(database: Database, model: type[Any]) -> int:
    with Session(database.engine) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def open_wizard(console: Console) -> ImportWizard:
    console.window.actions_by_id["import"].trigger()
    (wizard,) = console.window.findChildren(ImportWizard)
    assert wizard.isVisible() and wizard.windowTitle() == "Import records"
    assert not wizard.isModal()  # the rest of the console stays usable during an import
    return wizard


def on_page(qtbot: QtBot, wizard: ImportWizard, page: QWidget) -> None:
    qtbot.waitUntil(
        lambda: wizard.pages.currentWidget() is page and not wizard.presenter.busy,
        timeout=10_000,
    )


def test_choose_map_preview_import_stop_resume_and_save_the_report(
    qtbot: QtBot,
    database: Database,
    manager_console: Console,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    export = tmp_path / "riverside export.csv"
    export.write_text(HEADER + "".join(GOOD) + BAD, encoding="utf-8")
    monkeypatch.setattr(run, "BATCH_ENTRIES", 5)
    window = manager_console.window
    wizard = open_wizard(manager_console)

    # 1. The file.
    assert wizard.step_label.text() == "Step 1 of 5 · Choose the export"
    assert wizard.focusWidget() is wizard.file_page.path and not wizard.next_button.isEnabled()
    assert wizard.hint.text() == "Choose the export file."
    qtbot.keyClicks(wizard.file_page.path, str(export))
    assert wizard.next_button.isEnabled()
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)

    # 2. The columns: "Acct No" is no name the console knows; choose it as the MRN.
    columns = wizard.columns_page
    on_page(qtbot, wizard, columns)
    assert wizard.step_label.text() == "Step 2 of 5 · Check the columns"
    mrn = columns.combos[Field.MRN]
    assert mrn.currentText() == "(not read)" and mrn.accessibleName() == "MRN (required)"
    assert columns.combos[Field.LAST_NAME].currentText() == "Last Name"
    assert columns.unread.text() == "Not read: Acct No, Favourite colour."
    assert not wizard.next_button.isEnabled()
    assert wizard.hint.text() == "Choose the column that holds the MRN."
    mrn.setCurrentIndex(mrn.findText("Acct No"))
    assert columns.unread.text() == "Not read: Favourite colour."
    assert wizard.next_button.isEnabled() and wizard.hint.text() == ""
    wizard.next_button.click()

    # 3. The preview: counts and the first rejected rows, with their reasons.
    preview = wizard.preview_page
    on_page(qtbot, wizard, preview)
    assert counted(database, Patient) == 0  # a dry run writes nothing
    figures = preview.figures
    assert (figures.value("entries"), figures.value("new_charts")) == ("33", "30")
    assert (figures.value("new_accounts"), figures.value("rejected")) == ("30", "3")
    assert figures.values["new_charts"].accessibleName() == "New charts"
    assert figures.values["new_charts"].accessibleDescription() == "30"
    assert [row[:2] + row[4:] for row in preview.model.rows] == [
        ("32", "Rejected", "MRN A7 repeats row 8"),
        ("33", "Rejected", "no MRN"),
        ("34", "Rejected", "the date of birth '1990-02-30' is not a real date"),
    ]
    assert preview.outcome.text().startswith("Nothing has been written yet. Importing would add")
    assert wizard.next_button.text() == "&Import" and wizard.back_button.isVisible()

    # 4. Confirm; stop once the progress bar shows two batches done. So that the worker
    # cannot reach its third batch before the click, it waits for the test when it reads
    # the third batch's first row (the stop is looked at after that read).
    gate = threading.Event()
    reads = source.first_in_file

    def wait_before_the_third_batch(entries: Iterable[Entry], unit: str = "row") -> Any:
        for number, entry in enumerate(reads(entries, unit), start=1):
            if number == 11:
                assert gate.wait(10)
            yield entry

    monkeypatch.setattr(source, "first_in_file", wait_before_the_third_batch)
    wizard.next_button.click()
    progress = wizard.progress_page
    assert wizard.pages.currentWidget() is progress and progress.bar.maximum() == 33
    assert wizard.cancel_button.text() == "&Stop import" and not wizard.next_button.isVisible()
    qtbot.waitUntil(lambda: progress.bar.value() == 10, timeout=10_000)
    assert progress.text.text() == "10 of 33 rows gone through"
    qtbot.mouseClick(wizard.cancel_button, Qt.MouseButton.LeftButton)  # the window answers
    assert wizard.isVisible() and not wizard.cancel_button.isEnabled()
    assert "stopping after the batch under way" in progress.text.text()
    gate.set()
    report = wizard.report_page
    on_page(qtbot, wizard, report)
    assert counted(database, Patient) == counted(database, PortalAccount) == 10  # whole batches
    assert report.outcome.text().startswith("Import stopped after 10 of 33 rows")
    assert wizard.next_button.text() == "&Resume import" and wizard.cancel_button.text() == "Close"
    qtbot.waitUntil(lambda: window.model.rowCount() == 10, timeout=5000)  # the list read again

    # 5. Resume: the rest is written, what was written is found up to date.
    wizard.next_button.click()
    on_page(qtbot, wizard, report)
    assert counted(database, Patient) == counted(database, PortalAccount) == 30
    assert report.outcome.text().startswith("Import finished: 33 rows gone through")
    figures = report.figures
    assert (figures.value("new_charts"), figures.value("unchanged_charts")) == ("20", "10")
    assert report.kinds is not None and report.kinds.itemText(1) == "Rejected (3)"
    report.kinds.setCurrentIndex(1)
    assert [row[1] for row in report.model.rows] == ["Rejected"] * 3
    qtbot.waitUntil(lambda: window.model.rowCount() == 30, timeout=5000)
    with Session(database.engine) as session:
        outcomes = session.scalars(
            select(AuditEvent.outcome)
            .where(AuditEvent.action == "records_imported")
            .order_by(AuditEvent.seq)
        ).all()
    assert outcomes == ["cancelled", "ok"]

    # 6. The report, saved as CSV through the file chooser.
    saved = tmp_path / "report.csv"
    report.save_button.click()
    chooser = wizard.file_dialog
    assert chooser is not None and chooser.isVisible()
    chooser.selectFile(str(saved))
    chooser.accept()
    qtbot.waitUntil(lambda: report.note.text() == f"Report saved to {saved}.", timeout=5000)
    with saved.open(encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["row", "kind", "mrn", "username", "detail"]
    assert ["32", "rejected", "", "", "MRN A7 repeats row 8"] in rows
    assert ["17", "new chart", "A16", "pat16", ""] in rows
    assert ["2", "new chart", "A1", "pat1", ""] not in rows  # written by the stopped run
    summary = [row[4] for row in rows if row[1] == "summary"]
    assert summary[:2] == ["import finished", "file: riverside export.csv"]
    assert {"new_charts: 20", "unchanged_charts: 10", "rejected: 3"} <= set(summary)

    wizard.next_button.click()  # Close
    assert not wizard.isVisible()


def test_only_managers_and_administrators_may_open_it(front_desk_console: Console) -> None:
    console = front_desk_console
    action = console.window.actions_by_id["import"]
    assert not action.isEnabled()
    assert action.toolTip() == (
        "Only office managers and administrators may import charts and accounts; ask one of them."
    )
    assert console.desk.import_records() is None
    assert console.window.findChildren(ImportWizard) == []
    with pytest.raises(NotAllowed):
        ImportWizard(StaffDesk(console.workstation, console.member), InlineRunner(), publish=print)


def test_one_wizard_at_a_time_and_the_lock_screen_closes_it(
    qtbot: QtBot, manager_console: Console
) -> None:
    wizard = open_wizard(manager_console)
    manager_console.window.actions_by_id["import"].trigger()
    assert manager_console.window.findChildren(ImportWizard) == [wizard]
    manager_console.window.show_locked("manager", 5)
    assert not wizard.isVisible()


def test_each_refusal_is_said_in_the_clinics_words(
    qtbot: QtBot, manager_console: Console, tmp_path: Path
) -> None:
    wizard = open_wizard(manager_console)

    def refused(path: Path) -> str:
        wizard.file_page.path.setText(str(path))
        wizard.next_button.click()
        qtbot.waitUntil(lambda: not wizard.presenter.busy, timeout=5000)
        assert wizard.pages.currentWidget() is wizard.file_page and wizard.problem.isVisible()
        assert wizard.problem.accessibleDescription() == wizard.problem.text()
        return wizard.problem.text()

    assert refused(tmp_path / "gone.csv") == f"There is no file at {tmp_path / 'gone.csv'}."
    garbled = tmp_path / "garbled.csv"
    garbled.write_bytes(b"MRN,DOB\n\x81\x8d\x8f\x90\x9d")
    assert refused(garbled) == (
        "The file is neither UTF-8 nor Windows-1252 text; save it as CSV (UTF-8) and try again."
    )
    wizard.file_page.encoding.setCurrentIndex(wizard.file_page.encoding.findData("utf-8"))
    assert refused(garbled).startswith("The file is not in the encoding 'utf-8'")
    folder = tmp_path / "a folder.csv"
    folder.mkdir()
    assert refused(folder) == f"There is no file at {folder}."
    wizard.file_page.path.setText("")
    assert not wizard.problem.isVisible() and not wizard.next_button.isEnabled()


def tab_stops(wizard: ImportWizard) -> list[str]:
    """What Tab reaches on the page shown, in order (each by its accessible name)."""
    stops, widget = [], wizard.nextInFocusChain()
    while widget is not wizard:
        if (
            widget.isVisible()
            and widget.isEnabled()
            and widget.focusPolicy() & Qt.FocusPolicy.TabFocus == Qt.FocusPolicy.TabFocus
        ):
            stops.append(widget.accessibleName())
        widget = widget.nextInFocusChain()
    return stops


def mnemonics(wizard: ImportWizard) -> list[str]:
    """The Alt+letter keys of the page shown (labels' and buttons')."""
    texts = [
        w.text()
        for w in wizard.findChildren(QWidget)
        if w.isVisible()
        and (isinstance(w, QAbstractButton) or (isinstance(w, QLabel) and w.buddy()))
    ]
    return [text[text.index("&") + 1].lower() for text in texts if "&" in text]


def test_every_page_by_keyboard_alone(
    qtbot: QtBot, manager_console: Console, tmp_path: Path
) -> None:
    """Tab goes through each page's decisions in order, then the footer; every Alt+letter
    of a page is its own."""
    export = tmp_path / "export.csv"
    export.write_text(HEADER + "".join(GOOD[:3]), encoding="utf-8")
    wizard = open_wizard(manager_console)
    wizard.file_page.path.setText(str(export))
    assert tab_stops(wizard) == [
        "Export file",
        "Browse for the export file",
        "Kind of export",
        "Text encoding (CSV only)",
        "Next",
        "Cancel",
    ]
    assert len(set(mnemonics(wizard))) == len(mnemonics(wizard)) == 5
    wizard.next_button.click()
    on_page(qtbot, wizard, wizard.columns_page)
    assert tab_stops(wizard)[:2] == ["MRN (required)", "First name (this or the last name)"]
    assert tab_stops(wizard)[-5:] == [
        "Last portal login",
        "Save these columns as a mapping file",
        "Choose the columns a mapping file names",
        "Back",
        "Cancel",  # Next waits for the MRN's column
    ]
    assert wizard.focusWidget() is wizard.columns_page.combos[Field.MRN]
    assert len(set(mnemonics(wizard))) == len(mnemonics(wizard)) == 14
    combo = wizard.columns_page.combos[Field.MRN]
    combo.setCurrentIndex(combo.findText("Acct No"))
    wizard.next_button.click()
    on_page(qtbot, wizard, wizard.preview_page)
    assert tab_stops(wizard) == [
        "First rejected rows and warnings",
        "Save the whole preview as a CSV file",
        "Back",
        "Import",
        "Cancel",
    ]
    assert len(set(mnemonics(wizard))) == len(mnemonics(wizard))
    wizard.next_button.click()
    on_page(qtbot, wizard, wizard.report_page)
    assert wizard.focusWidget() is wizard.report_page.kinds
    assert tab_stops(wizard) == [
        "Show the lines of",
        "Report lines",
        "Save the whole report as a CSV file",
        "Close",
    ]
    assert len(set(mnemonics(wizard))) == len(mnemonics(wizard))


def test_every_control_has_a_name_and_every_value_reaches_a_screen_reader(
    qtbot: QtBot, manager_console: Console, tmp_path: Path
) -> None:
    export = tmp_path / "export.csv"
    export.write_text(HEADER + "".join(GOOD[:3]) + BAD, encoding="utf-8")
    wizard = open_wizard(manager_console)

    def check_page() -> None:
        shown = [w for w in wizard.findChildren(QWidget) if w.isVisible()]
        unnamed = [
            f"{type(w).__name__} {w.objectName()}"
            for w in shown
            if w.focusPolicy() != Qt.FocusPolicy.NoFocus
            and not w.accessibleName()
            and not (isinstance(w, QAbstractButton) and w.text())
            and not isinstance(w, QScrollBar)
        ]
        assert unnamed == []
        silent = [
            label.objectName()
            for label in shown
            if isinstance(label, QLabel)
            and label.text()
            and label.buddy() is None
            and label.accessibleDescription() != label.text()
            and label.accessibleName() != label.text()
        ]
        assert silent == []

    check_page()
    wizard.file_page.path.setText(str(export))
    wizard.next_button.click()
    on_page(qtbot, wizard, wizard.columns_page)
    check_page()
    for field, combo in wizard.columns_page.combos.items():
        assert wizard.columns_page.captions[field].buddy() is combo  # a mnemonic reaches it
    combo = wizard.columns_page.combos[Field.MRN]
    combo.setCurrentIndex(combo.findText("Acct No"))
    wizard.next_button.click()
    on_page(qtbot, wizard, wizard.preview_page)
    check_page()
    assert not wizard.preview_page.table.tabKeyNavigation()  # Tab leaves the table
    wizard.next_button.click()
    on_page(qtbot, wizard, wizard.report_page)
    check_page()
    assert wizard.progress_page.bar.accessibleDescription() == "6 of 6 rows gone through"


def test_an_import_makes_every_page_read_everything_again(
    qtbot: QtBot, clinic_console: Console, tmp_path: Path
) -> None:
    """Changes.bulk: records changed by the thousand. The account list counts again, the
    worklist reads every address (new shared ones included), the invitations are read
    again and the details panel reads its account again (its chart renamed)."""
    window, desk = clinic_console.window, clinic_console.desk
    qtbot.waitUntil(lambda: not (desk.worklist.busy or desk.invitations.busy), timeout=5000)
    shared_before = {case.address for case in desk.worklist.model.cases}
    assert window.model.rowCount() == 16
    with qtbot.waitSignal(window.model.row_count_changed, timeout=5000):
        window.search_field.setText("aturing")
    with qtbot.waitSignal(desk.panel.loaded, timeout=5000):
        window.table.selectRow(0)
    alan = desk.panel.details
    assert alan is not None and alan.chart.full_name == "Alan Turing"

    export = tmp_path / "export.csv"
    export.write_text(
        "MRN,First Name,Last Name,DOB,Email,Username\n"
        f"{alan.chart.mrn},Alan M.,Turing,{alan.chart.birth_date},,\n"
        "N1,Ruth,Okafor,1980-01-01,okafor.home@example.org,rokafor\n"
        "N2,Ben,Okafor,1982-01-01,okafor.home@example.org,bokafor\n",
        encoding="utf-8",
    )
    report = import_export(
        clinic_console.workstation, clinic_console.member, open_export(export, today=NOW.date())
    )
    assert report.changes.bulk and not report.changes.accounts  # it names no account
    invitations: list[int] = []
    desk.invitations.loaded.connect(invitations.append)
    with qtbot.waitSignal(window.model.row_count_changed, timeout=5000):
        desk.changes.publish(report.changes)
    window.search_field.clear()
    qtbot.waitUntil(lambda: window.model.rowCount() == 18, timeout=5000)
    qtbot.waitUntil(
        lambda: "okafor.home@example.org" in {case.address for case in desk.worklist.model.cases},
        timeout=5000,
    )
    assert shared_before < {case.address for case in desk.worklist.model.cases}
    qtbot.waitUntil(
        lambda: (
            desk.panel.details is not None
            and desk.panel.details.chart.full_name == "Alan M. Turing"
        ),
        timeout=5000,
    )
    qtbot.waitUntil(lambda: invitations != [], timeout=5000)
