"""The GUI-stall probe's import steps (issue 13 in the window of issue 6): the demo clinic's
office manager signs in and brings in a clinic's CSV export of N rows (``bench.import_speed``'s
generated export: one chart a row, six in ten with a portal account, one in fifty with a bad
e-mail) through the real Import wizard — the file, its columns, the dry run's preview, the
import with its progress bar, the report — while the probe's 5 ms timer measures the GUI
thread. The dry run and the import run on the wizard's own worker thread, as in the console,
and every page reads everything again when the import publishes its bulk change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from bench.import_speed import write_export
from bench.stall_console import open_console, signed_in
from bench.stall_probe import Driver, StepFailed
from console.models.database import Database
from console.services.settings.values import ConsoleSettings
from console.services.workstation import Workstation
from console.views.import_wizard import ImportWizard

MANAGER_USER = "demo_manager"
#: Longest wait for the dry run or the import of the whole file.
RUN_TIMEOUT_S = 600.0


def walk_import(
    driver: Driver,
    database: Database,
    workstation: Workstation,
    settings: ConsoleSettings,
    *,
    folder: Path,
    rows: int,
    freeze: bool,
) -> None:
    """Sign in as the office manager and import an export of ``rows`` rows through the
    wizard, each step measured by ``driver``. The export is written to ``folder`` first."""
    export = folder / "clinic-export.csv"
    write_export(export, rows)
    session = signed_in(workstation, MANAGER_USER)
    wizards: list[ImportWizard] = []

    def wizard() -> ImportWizard:
        if not wizards:
            raise StepFailed("no Import wizard open")
        return wizards[-1]

    with driver.step("Import: the office manager's window, first page painted"):
        made: list[Any] = []
        driver.call(
            "build and show the window (before it is on screen)",
            lambda: made.append(
                open_console(database, workstation, settings, session, folder=folder, freeze=freeze)
            ),
        )
        driver.restart()  # the build is not a stall: nothing is on screen yet
        (opened,) = made
        window = opened.window
        driver.settled = lambda: opened.settled() and not (wizards and wizard().presenter.busy)
        driver.wait("first page", lambda: window.model.rowCount() > 0 and opened.painted())
        window.activateWindow()
        driver.wait("the window active", window.isActiveWindow)

    def click(button: Any, what: str) -> None:
        driver.call(what, lambda: QTest.mouseClick(button, Qt.MouseButton.LeftButton))

    def on_page(page: Any, what: str, timeout: float | None = None) -> None:
        shown = wizard()
        driver.wait(
            what,
            lambda: shown.pages.currentWidget() is page and not shown.presenter.busy,
            timeout=timeout,
        )
        if shown.problem.isVisible():
            raise StepFailed(f"the wizard says: {shown.problem.text()}")

    with driver.step("Import: open the wizard (Import records…)"):
        driver.call("Import records…", window.actions_by_id["import"].trigger)
        found: list[ImportWizard] = [w for w in window.findChildren(ImportWizard) if w.isVisible()]
        if not found:
            raise StepFailed("the Import wizard did not open")
        wizards.append(found[-1])
        driver.wait("the file page", lambda: wizard().file_page.path.hasFocus())
    with driver.step("Import: paste the file's path, Next (file read, columns found)"):
        driver.call("paste the path", lambda: wizard().file_page.path.setText(str(export)))
        click(wizard().next_button, "Next")
        on_page(wizard().columns_page, "the columns")
    with driver.step(f"Import: Next, the dry run of {rows:,} rows (preview shown)"):
        click(wizard().next_button, "Next")
        on_page(wizard().preview_page, "the preview", RUN_TIMEOUT_S)
    with driver.step(f"Import: Import, {rows:,} rows written (report shown, pages re-read)"):
        click(wizard().next_button, "Import")
        on_page(wizard().report_page, "the report", RUN_TIMEOUT_S)
        if not wizard().report_page.outcome.text().startswith("Import finished"):
            raise StepFailed(wizard().report_page.outcome.text())
    with driver.step("Import: Close the wizard"):
        shown = wizard()
        closed = [False]
        shown.finished.connect(lambda _result: closed.__setitem__(0, True))
        click(shown.next_button, "Close")
        driver.wait("the wizard closed", lambda: closed[0])
        wizards.clear()
    opened.close()


__all__ = ["MANAGER_USER", "walk_import"]
