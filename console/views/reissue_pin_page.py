"""The re-issue dialog's second page: the invitation's PIN, shown once, with Copy PIN, Print
handout… (a PDF, opened in the system's viewer) and Print… When the dialog closes, ``clear``
takes the PIN out of every widget and, if it is still there, off the clipboard."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QSize, QStandardPaths, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFont, QFontDatabase, QGuiApplication
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.views.address_badge import AMBER, GREY, RED, state_icon
from console.views.address_verdict import AddressState
from console.views.handout import print_handout
from console.views.reissue_presenter import PinPage, ReissuePresenter


def open_with_system_viewer(path: Path) -> bool:
    """Open ``path`` with the system's PDF viewer (tests replace this)."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


class ReissuePinPage(QWidget):
    """The PIN, once: where the e-mail went, the six digits, their expiry, and the ways to
    hand them over."""

    #: Done was pressed: close the dialog (which forgets the PIN).
    done = Signal()

    def __init__(
        self, presenter: ReissuePresenter, mrn: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._presenter = presenter
        self._mrn = mrn
        self._copied_pin: str | None = None
        self._printer: QPrinter | None = None
        self.file_dialog: QFileDialog | None = None
        self.print_dialog: QPrintDialog | None = None
        self.sent_to = QLabel()
        self.pin_label = QLabel()
        self.pin_expiry = QLabel()
        self.carried = QLabel()
        self.warning = QLabel()
        self.note = QLabel()
        self.copy_button = QPushButton("&Copy PIN")
        self.handout_button = QPushButton("Print &handout…")
        self.print_button = QPushButton("&Print…")
        self.done_button = QPushButton("&Done")
        self.done_button.setObjectName("pinDoneButton")
        self._build()

    def show_page(self, page: PinPage) -> None:
        """Fill the page from ``page`` and put the focus on Copy PIN."""
        self.sent_to.setText(f"Invitation e-mail queued to <b>{html.escape(page.address)}</b>")
        self.pin_label.setText(page.pin)
        self.pin_label.setAccessibleDescription(page.pin)
        self.pin_expiry.setText(f"Valid until <b>{html.escape(page.expires)}</b>")
        self.carried.setText(page.carried_links)
        self.carried.setVisible(bool(page.carried_links))
        self.warning.setText(page.warning)
        self.warning.setVisible(bool(page.warning))
        self.done_button.setDefault(True)
        self.copy_button.setFocus()

    def open_document(self, path: Path) -> None:
        """The handout was written to ``path``: open it."""
        self.note.setText(f"Handout saved to {path}. Shred it once it is handed over.")
        if not open_with_system_viewer(path):
            self.show_problem(
                f"The handout was saved to {path}, but no PDF viewer opened it. "
                "Open it from that folder, or use Print… instead."
            )

    def show_problem(self, text: str) -> None:
        """The handout could not be written or printed."""
        self.note.setText(text)
        self.note.setStyleSheet(f"color: {RED};")

    def copy_pin(self) -> None:
        """Put the six digits on the clipboard."""
        pin = self._presenter.pin
        if pin is None:
            return
        QGuiApplication.clipboard().setText(pin)
        self._copied_pin = pin
        self.copy_button.setText("Copied ✓")
        self.note.setStyleSheet("")
        self.note.setText("Copied. It is removed from the clipboard when you click Done.")

    def save_handout(self) -> None:
        """Ask where to save the handout PDF (without blocking), then write and open it."""
        if self._presenter.handout() is None:
            return
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        name = f"invitation-{self._mrn or 'patient'}.pdf"
        if self.file_dialog is not None:
            self.file_dialog.deleteLater()
        dialog = QFileDialog(self, "Save the invitation handout", str(Path(folder) / name))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter("PDF document (*.pdf)")
        dialog.setDefaultSuffix("pdf")
        dialog.fileSelected.connect(self._presenter.save_handout)
        self.file_dialog = dialog
        dialog.open()

    def print_directly(self) -> None:
        """Print the handout through the Qt print dialog (without blocking)."""
        if self._presenter.handout() is None:
            return
        self._printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        if self.print_dialog is not None:
            self.print_dialog.deleteLater()
        dialog = QPrintDialog(self._printer, self)
        dialog.setWindowTitle("Print the invitation handout")
        dialog.accepted.connect(self._print_now)
        self.print_dialog = dialog
        QDialog.open(dialog)  # QPrintDialog.open() wants a receiver; this one does not block

    def clear(self) -> None:
        """Forget the PIN: off the screen, off the clipboard if it is still there, and close
        the file and print dialogs."""
        clipboard = QGuiApplication.clipboard()
        if self._copied_pin is not None and clipboard.text() == self._copied_pin:
            clipboard.clear()
        self._copied_pin = None
        self.pin_label.clear()
        self.pin_label.setAccessibleDescription("")
        self.note.clear()
        for dialog in (self.file_dialog, self.print_dialog):
            if dialog is not None:
                dialog.done(QDialog.DialogCode.Rejected)

    def _print_now(self) -> None:
        text = self._presenter.handout()
        if text is not None and self._printer is not None:
            try:
                print_handout(self._printer, text)
            except OSError as error:
                self.show_problem(str(error))

    def _build(self) -> None:
        tick = QLabel()
        tick.setPixmap(state_icon(AddressState.FREE))
        tick.setFixedSize(QSize(18, 18))
        tick.setAccessibleName("Issued")
        self.sent_to.setAccessibleName("Sent to")
        self.sent_to.setTextFormat(Qt.TextFormat.RichText)
        self.sent_to.setWordWrap(True)
        sent = QHBoxLayout()
        sent.addWidget(tick, 0, Qt.AlignmentFlag.AlignTop)
        sent.addWidget(self.sent_to, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        layout.addLayout(sent)
        layout.addWidget(self._pin_box())
        once = QLabel(
            "Shown only now: read it to the patient or print the handout. The PIN is not in "
            "the e-mail and the console cannot show it again."
        )
        once.setWordWrap(True)
        layout.addWidget(once)
        self.carried.setWordWrap(True)
        self.carried.setAccessibleName("Family links")
        self.carried.hide()
        layout.addWidget(self.carried)
        self.warning.setWordWrap(True)
        self.warning.setAccessibleName("Warning")
        self.warning.setStyleSheet(
            f"color: {AMBER}; background: #fff7e6; border: 1px solid #f2d29b; "
            "border-radius: 4px; padding: 6px 8px;"
        )
        self.warning.hide()
        layout.addWidget(self.warning)
        self.note.setWordWrap(True)
        self.note.setAccessibleName("Handout and clipboard")
        layout.addWidget(self.note)
        layout.addStretch(1)
        layout.addLayout(self._actions())

    def _pin_box(self) -> QFrame:
        caption = QLabel("GIVE THE PATIENT THIS PIN")
        caption.setStyleSheet(f"color: {GREY}; font-size: 11px; font-weight: 600;")
        caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPixelSize(46)
        font.setWeight(QFont.Weight.Bold)
        font.setLetterSpacing(QFont.SpacingType.AbsoluteSpacing, 6)
        self.pin_label.setFont(font)
        self.pin_label.setObjectName("pinLabel")
        self.pin_label.setAccessibleName("PIN")
        self.pin_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pin_label.setStyleSheet("color: #1f2933;")
        self.pin_expiry.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pin_expiry.setAccessibleName("PIN valid until")
        self.pin_expiry.setTextFormat(Qt.TextFormat.RichText)
        box = QFrame()
        box.setObjectName("pinBox")
        box.setStyleSheet(
            "QFrame#pinBox { background: #f2f7fc; border: 2px solid #2b6cb0; border-radius: 8px; }"
        )
        inside = QVBoxLayout(box)
        inside.setContentsMargins(16, 12, 16, 14)
        inside.addWidget(caption)
        inside.addWidget(self.pin_label)
        inside.addWidget(self.pin_expiry)
        return box

    def _actions(self) -> QHBoxLayout:
        for button, name, slot in (
            (self.copy_button, "Copy the PIN", self.copy_pin),
            (self.handout_button, "Save the handout as PDF and open it", self.save_handout),
            (self.print_button, "Print the handout", self.print_directly),
            (self.done_button, "Done: close and forget the PIN", self.done.emit),
        ):
            button.setAccessibleName(name)
            button.setAutoDefault(False)
            button.clicked.connect(slot)
        actions = QHBoxLayout()
        actions.addWidget(self.copy_button)
        actions.addWidget(self.handout_button)
        actions.addWidget(self.print_button)
        actions.addStretch(1)
        actions.addWidget(self.done_button)
        return actions


__all__ = ["ReissuePinPage", "open_with_system_viewer"]
