"""The re-issue invitation dialog (SPEC §5): a new, checked e-mail address for a chart and an
expiry, then the PIN page — the six digits shown once, with Copy, Print handout… and Print….

``ReissueDialog`` binds its widgets to a ``ReissuePresenter``
(``console.views.reissue_presenter``), which decides. The address is checked on the worker
once typing pauses; the verdict is shown next to the field in words and with an icon. When
the dialog closes, the PIN is cleared from every widget, from the clipboard (if it is still
there) and from the presenter.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, QSize, QStandardPaths, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QFont,
    QFontDatabase,
    QGuiApplication,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QShowEvent,
)
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from console.services.desk import StaffDesk
from console.services.permissions import Permission
from console.services.workstation import Changes
from console.views.action_dialog import PRIMARY_BLUE, filled_button_style
from console.views.handout import print_handout, write_handout
from console.views.reissue_presenter import (
    AddressState,
    AddressVerdict,
    PinPage,
    ReissuePresenter,
)
from console.workers.service_calls import Submitter

#: How long typing must pause before the address is checked.
CHECK_DELAY_MS = 300

_GREEN, _AMBER, _RED, _GREY = "#1e7d3a", "#a35f00", "#b42318", "#6b7684"
_STATE_COLOURS = {
    AddressState.FREE: _GREEN,
    AddressState.WARNING: _AMBER,
    AddressState.INVALID: _RED,
    AddressState.TAKEN: _RED,
    AddressState.CHECKING: _GREY,
    AddressState.UNCHECKED: _GREY,
    AddressState.EMPTY: _GREY,
}
_STATE_NAMES = {
    AddressState.FREE: "Free",
    AddressState.WARNING: "Warning",
    AddressState.INVALID: "Not valid",
    AddressState.TAKEN: "Taken",
    AddressState.CHECKING: "Checking",
    AddressState.UNCHECKED: "Not checked",
    AddressState.EMPTY: "",
}


def open_with_system_viewer(path: Path) -> bool:
    """Open ``path`` with the system's PDF viewer (tests replace this)."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def state_icon(state: AddressState, size: int = 18, ratio: float = 2.0) -> QPixmap:
    """A round badge for ``state``: a tick, an exclamation mark, a cross or dots — so that the
    state is not told by colour alone."""
    pixmap = QPixmap(round(size * ratio), round(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    if state is AddressState.EMPTY:
        return pixmap
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(_STATE_COLOURS[state]))
    painter.drawEllipse(QRectF(1, 1, size - 2, size - 2))
    pen = QPen(
        QColor("white"),
        size / 9,
        Qt.PenStyle.SolidLine,
        Qt.PenCapStyle.RoundCap,
        Qt.PenJoinStyle.RoundJoin,
    )
    painter.setPen(pen)
    s = size
    if state is AddressState.FREE:
        path = QPainterPath(QPointF(s * 0.28, s * 0.52))
        path.lineTo(QPointF(s * 0.44, s * 0.67))
        path.lineTo(QPointF(s * 0.72, s * 0.35))
        painter.drawPath(path)
    elif state is AddressState.WARNING:
        painter.drawLine(QPointF(s / 2, s * 0.27), QPointF(s / 2, s * 0.55))
        painter.drawPoint(QPointF(s / 2, s * 0.73))
    elif state in (AddressState.INVALID, AddressState.TAKEN):
        painter.drawLine(QPointF(s * 0.33, s * 0.33), QPointF(s * 0.67, s * 0.67))
        painter.drawLine(QPointF(s * 0.67, s * 0.33), QPointF(s * 0.33, s * 0.67))
    elif state is AddressState.UNCHECKED:
        painter.drawLine(QPointF(s / 2, s * 0.27), QPointF(s / 2, s * 0.55))
        painter.drawPoint(QPointF(s / 2, s * 0.73))
    else:  # checking
        for x in (0.3, 0.5, 0.7):
            painter.drawPoint(QPointF(s * x, s / 2))
    painter.end()
    return pixmap


class ReissueDialog(QDialog):
    """Re-issue a chart's portal invitation to a new e-mail address and show its PIN once.

    Raises ``NotAllowed`` (before any window exists) for a user who may not send
    invitations."""

    #: ``Changes`` — the invitation was issued (the chart's earlier ones cancelled).
    issued = Signal(object)

    def __init__(
        self,
        desk: StaffDesk,
        runner: Submitter,
        patient_id: int,
        *,
        patient_name: str,
        mrn: str,
        clinic_name: str = "",
        portal_url: str = "",
        clinic_phone: str = "",
        expected_version: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        desk.actor.require(Permission.REISSUE_INVITATION)
        super().__init__(parent)
        self.setWindowTitle(f"Re-issue invitation — {patient_name}")
        self.setObjectName("reissueDialog")
        self._mrn = mrn
        self.presenter = ReissuePresenter(
            desk,
            runner,
            self,
            patient_id,
            patient_name=patient_name,
            write_handout=write_handout,
            clinic_name=clinic_name,
            portal_url=portal_url,
            clinic_phone=clinic_phone,
            expected_version=expected_version,
        )
        self._busy = False
        self._copied_pin: str | None = None
        self.file_dialog: QFileDialog | None = None
        self.print_dialog: QPrintDialog | None = None
        self._printer: QPrinter | None = None

        self.email = QLineEdit()
        self.address_icon = QLabel()
        self.address_status = QLabel()
        self.days = QSpinBox()
        self.expiry = QLabel()
        self.problem = QLabel()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.issue_button = self.buttons.addButton(
            "&Issue invitation", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.issue_button.setObjectName("issueButton")

        self.sent_to = QLabel()
        self.pin_label = QLabel()
        self.pin_expiry = QLabel()
        self.carried = QLabel()
        self.warning = QLabel()
        self.pin_note = QLabel()
        self.copy_button = QPushButton("&Copy PIN")
        self.handout_button = QPushButton("Print &handout…")
        self.print_button = QPushButton("&Print…")
        self.done_button = QPushButton("&Done")
        self.done_button.setObjectName("pinDoneButton")

        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(CHECK_DELAY_MS)
        self._check_timer.timeout.connect(self._check_now)

        self._build(patient_name, mrn)
        self.presenter.address_edited("")
        self._update_buttons()

    # --- ReissueView ------------------------------------------------------------------------

    def show_address(self, verdict: AddressVerdict) -> None:
        colour = _STATE_COLOURS[verdict.state]
        self.address_icon.setPixmap(state_icon(verdict.state))
        self.address_icon.setAccessibleName(_STATE_NAMES[verdict.state])
        self.address_status.setText(verdict.words)
        self.address_status.setToolTip(verdict.detail if verdict.detail != verdict.words else "")
        self.address_status.setStyleSheet(f"color: {colour};")
        self._update_buttons()

    def show_refusal(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.setVisible(bool(text))

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.email.setReadOnly(busy)
        self.days.setEnabled(not busy)
        self.issue_button.setText("Issuing…" if busy else "&Issue invitation")
        self.cancel_button.setEnabled(not busy)
        if busy:
            QGuiApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        else:
            QGuiApplication.restoreOverrideCursor()
        self._update_buttons()

    def show_pin(self, page: PinPage) -> None:
        self.sent_to.setText(f"Invitation e-mail queued to <b>{_escape(page.address)}</b>")
        self.pin_label.setText(page.pin)
        self.pin_expiry.setText(f"Valid until <b>{_escape(page.expires)}</b>")
        self.carried.setText(page.carried_links)
        self.carried.setVisible(bool(page.carried_links))
        self.warning.setText(page.warning)
        self.warning.setVisible(bool(page.warning))
        self._show_pin_page()
        self.buttons.hide()
        self.done_button.setDefault(True)
        self.copy_button.setFocus()

    def invitation_issued(self, changes: Changes) -> None:
        self.issued.emit(changes)

    def open_document(self, path: Path) -> None:
        self.pin_note.setText(f"Handout saved to {path}. Shred it once it is handed over.")
        if not open_with_system_viewer(path):
            self.show_handout_problem(
                f"The handout was saved to {path}, but no PDF viewer opened it. "
                "Open it from that folder, or use Print… instead."
            )

    def show_handout_problem(self, text: str) -> None:
        self.pin_note.setText(text)
        self.pin_note.setStyleSheet(f"color: {_RED};")

    # --- the buttons ------------------------------------------------------------------------

    def copy_pin(self) -> None:
        """Put the six digits on the clipboard."""
        pin = self.presenter.pin
        if pin is None:
            return
        QGuiApplication.clipboard().setText(pin)
        self._copied_pin = pin
        self.copy_button.setText("Copied ✓")
        self.pin_note.setStyleSheet("")
        self.pin_note.setText("Copied. It is removed from the clipboard when you click Done.")

    def save_handout(self) -> None:
        """Ask where to save the handout PDF (without blocking), then write and open it."""
        if self.presenter.handout() is None:
            return
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        name = f"invitation-{self._mrn or 'patient'}.pdf"
        if self.file_dialog is not None:
            self.file_dialog.deleteLater()
        dialog = QFileDialog(self, "Save the invitation handout", str(Path(folder) / name))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter("PDF document (*.pdf)")
        dialog.setDefaultSuffix("pdf")
        dialog.fileSelected.connect(self.presenter.save_handout)
        self.file_dialog = dialog
        dialog.open()

    def print_directly(self) -> None:
        """Print the handout through the Qt print dialog (without blocking)."""
        if self.presenter.handout() is None:
            return
        self._printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        if self.print_dialog is not None:
            self.print_dialog.deleteLater()
        dialog = QPrintDialog(self._printer, self)
        dialog.setWindowTitle("Print the invitation handout")
        dialog.accepted.connect(self._print_now)
        self.print_dialog = dialog
        QDialog.open(dialog)  # QPrintDialog.open() wants a receiver; this one does not block

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.adjustSize()  # to the form page, which is shorter than the PIN page

    def reject(self) -> None:
        if not self._busy:
            super().reject()

    def done(self, result: int) -> None:
        self._check_timer.stop()
        if self._busy:
            QGuiApplication.restoreOverrideCursor()
            self._busy = False
        self._clear_pin()
        self.presenter.close()
        for dialog in (self.file_dialog, self.print_dialog):
            if dialog is not None:
                dialog.done(QDialog.DialogCode.Rejected)
        super().done(result)

    # --- the rest ---------------------------------------------------------------------------

    def _print_now(self) -> None:
        text = self.presenter.handout()
        if text is not None and self._printer is not None:
            try:
                print_handout(self._printer, text)
            except OSError as error:
                self.show_handout_problem(str(error))

    def _clear_pin(self) -> None:
        clipboard = QGuiApplication.clipboard()
        if self._copied_pin is not None and clipboard.text() == self._copied_pin:
            clipboard.clear()
        self._copied_pin = None
        self.pin_label.clear()
        self.pin_label.setAccessibleDescription("")
        self.pin_note.clear()

    def _edited(self, text: str) -> None:
        self.show_refusal("")
        self.presenter.address_edited(text)
        self._check_timer.start()

    def _check_now(self) -> None:
        self.presenter.check_address(self.email.text())

    def _issue(self) -> None:
        if not self.on_pin_page:
            self._check_timer.stop()
            self.show_refusal("")
            self.presenter.issue(self.email.text(), self.days.value())

    @property
    def on_pin_page(self) -> bool:
        """Whether the PIN page is showing (the invitation was issued)."""
        return not self.pin_page.isHidden()

    def _show_pin_page(self) -> None:
        # Two pages in one layout, one hidden (not a QStackedWidget, whose height is the
        # tallest page's): the form stays compact.
        self.form_page.hide()
        self.pin_page.show()
        self.adjustSize()

    def _days_changed(self, days: int) -> None:
        self.days.setSuffix(" day" if days == 1 else " days")
        day = self.presenter.expiry_date(days)
        self.expiry.setText(f"until {day:%A} {day.day} {day:%B %Y}")

    def _update_buttons(self) -> None:
        self.issue_button.setEnabled(self.presenter.can_issue(self.email.text()))

    def _build(self, patient_name: str, mrn: str) -> None:
        heading = QLabel("Re-issue portal invitation")
        heading.setObjectName("reissueHeading")
        heading.setStyleSheet("font-size: 17px; font-weight: 600;")
        who = QLabel(f"{_escape(patient_name)} &nbsp;·&nbsp; MRN {_escape(mrn)}")
        who.setTextFormat(Qt.TextFormat.RichText)
        who.setStyleSheet(f"color: {_GREY};")
        who.setAccessibleName("Patient")

        self.form_page = self._form_page()
        self.pin_page = self._pin_page()
        self.pin_page.hide()

        self.issue_button.setAccessibleName("Issue invitation")
        self.issue_button.setDefault(True)
        self.cancel_button.setAccessibleName("Cancel")
        self.cancel_button.setAutoDefault(False)
        self.buttons.accepted.connect(self._issue)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.setSpacing(4)
        layout.addWidget(heading)
        layout.addWidget(who)
        layout.addSpacing(12)
        layout.addWidget(self.form_page, 1)
        layout.addWidget(self.pin_page, 1)
        layout.addSpacing(10)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(580)
        # The light palette greys disabled text but not disabled button text.
        self.setStyleSheet(
            "QPushButton:disabled { color: #9aa3ae; }"
            + filled_button_style("issueButton", *PRIMARY_BLUE)
            + filled_button_style("pinDoneButton", *PRIMARY_BLUE)
        )

    def _form_page(self) -> QWidget:
        intro = QLabel(
            "The invitation e-mail goes to the address below and the chart's earlier pending "
            "invitations are cancelled. You will then see a 6-digit PIN, once, to give to the "
            "patient by phone or on a printed handout — it is never in the e-mail."
        )
        intro.setWordWrap(True)

        self.email.setObjectName("reissueEmail")
        self.email.setAccessibleName("New e-mail address")
        self.email.setPlaceholderText("The patient's own address, e.g. name@example.org")
        self.email.setClearButtonEnabled(True)
        self.email.textEdited.connect(self._edited)
        self.email.returnPressed.connect(self._issue)

        self.address_icon.setFixedSize(QSize(18, 18))
        self.address_status.setObjectName("addressStatus")
        self.address_status.setAccessibleName("Address check")
        self.address_status.setWordWrap(True)
        status = QHBoxLayout()
        status.setContentsMargins(0, 0, 0, 0)
        status.setSpacing(6)
        status.addWidget(self.address_icon, 0, Qt.AlignmentFlag.AlignTop)
        status.addWidget(self.address_status, 1)

        self.days.setRange(1, self.presenter.max_days)
        self.days.setAccessibleName("Invitation valid for, in days")
        self.days.valueChanged.connect(self._days_changed)
        self.days.setValue(self.presenter.default_days)
        self._days_changed(self.days.value())
        self.expiry.setStyleSheet(f"color: {_GREY};")
        self.expiry.setAccessibleName("Expiry date")
        days_row = QHBoxLayout()
        days_row.setSpacing(10)
        self.days.setMinimumWidth(90)
        days_row.addWidget(self.days)
        days_row.addWidget(self.expiry, 1)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setVerticalSpacing(8)
        email_caption = QLabel("New &e-mail:")
        email_caption.setBuddy(self.email)
        form.addRow(email_caption, self.email)
        form.addRow("", status)
        days_caption = QLabel("&Valid for:")
        days_caption.setBuddy(self.days)
        form.addRow(days_caption, days_row)

        self.problem.setObjectName("reissueProblem")
        self.problem.setAccessibleName("Problem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(
            f"color: {_RED}; background: #fef3f2; border: 1px solid #f5c2bd; "
            "border-radius: 4px; padding: 6px 8px;"
        )
        self.problem.hide()

        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addStretch(1)
        self.setTabOrder(self.email, self.days)
        return page

    def _pin_page(self) -> QWidget:
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

        caption = QLabel("GIVE THE PATIENT THIS PIN")
        caption.setStyleSheet(f"color: {_GREY}; font-size: 11px; font-weight: 600;")
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

        once = QLabel(
            "Shown only now: read it to the patient or print the handout. The PIN is not in "
            "the e-mail and the console cannot show it again."
        )
        once.setWordWrap(True)
        self.carried.setWordWrap(True)
        self.carried.setAccessibleName("Family links")
        self.carried.hide()
        self.warning.setWordWrap(True)
        self.warning.setAccessibleName("Warning")
        self.warning.setStyleSheet(
            f"color: {_AMBER}; background: #fff7e6; border: 1px solid #f2d29b; "
            "border-radius: 4px; padding: 6px 8px;"
        )
        self.warning.hide()
        self.pin_note.setWordWrap(True)
        self.pin_note.setAccessibleName("Handout and clipboard")

        for button, name, slot in (
            (self.copy_button, "Copy the PIN", self.copy_pin),
            (self.handout_button, "Save the handout as PDF and open it", self.save_handout),
            (self.print_button, "Print the handout", self.print_directly),
            (self.done_button, "Done: close and forget the PIN", self.accept),
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

        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        layout.addLayout(sent)
        layout.addWidget(box)
        layout.addWidget(once)
        layout.addWidget(self.carried)
        layout.addWidget(self.warning)
        layout.addWidget(self.pin_note)
        layout.addStretch(1)
        layout.addLayout(actions)
        return page


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


__all__ = ["CHECK_DELAY_MS", "ReissueDialog", "open_with_system_viewer", "state_icon"]
