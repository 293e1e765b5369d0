"""The re-issue invitation dialog (SPEC §5): a new, checked e-mail address for a chart and an
expiry, then the PIN page (``reissue_pin_page``) — the six digits shown once.

An ``ActionDialog`` like the revoke, link and account dialogs: heading, the patient, the
form, a problem line, "what is still needed" beside Issue invitation and Cancel. It binds its
widgets to a ``ReissuePresenter`` (``console.views.reissue_presenter``), which decides. The
address is checked on the worker once typing pauses; the verdict is shown next to the field
in words and with a badge. When the dialog closes, the PIN is cleared from every widget, from
the clipboard (if it is still there) and from the presenter.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from console.services.desk import StaffDesk
from console.services.permissions import Permission
from console.services.workstation import Changes
from console.views.action_dialog import (
    PRIMARY_BLUE,
    ActionDialog,
    dialog_style,
    filled_button_style,
)
from console.views.address_badge import GREY, STATE_COLOURS, STATE_NAMES, state_icon
from console.views.address_verdict import AddressVerdict
from console.views.form_presenter import FormState
from console.views.handout import write_handout
from console.views.reissue_pin_page import ReissuePinPage
from console.views.reissue_presenter import PinPage, ReissuePresenter
from console.workers.service_calls import Submitter

#: How long typing must pause before the address is checked.
CHECK_DELAY_MS = 300
_ACTION = "&Issue invitation"
_INTRO = (
    "The invitation e-mail goes to the address below and the chart's earlier pending "
    "invitations are cancelled. You will then see a 6-digit PIN, once, to give to the "
    "patient by phone or on a printed handout — it is never in the e-mail."
)


class ReissueDialog(ActionDialog):
    """Re-issue a chart's portal invitation to a new e-mail address and show its PIN once.

    Raises ``NotAllowed`` (before any window exists) for a user who may not send
    invitations."""

    #: ``Changes`` — the invitation was issued (the chart's earlier ones cancelled).
    issued = Signal(object)

    presenter: ReissuePresenter

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
        super().__init__(
            f"Re-issue invitation — {patient_name}", _ACTION, prefix="reissue", parent=parent
        )
        self.setObjectName("reissueDialog")
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
        self._busy_cursor = False
        self.email = QLineEdit()
        self.address_icon = QLabel()
        self.address_status = QLabel()
        self.days = QSpinBox()
        self.expiry = QLabel()
        self.issue_button = self.action_button
        self.first_field = self.email
        self.pin_page = ReissuePinPage(self.presenter, mrn)
        self.pin_page.done.connect(self.accept)

        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(CHECK_DELAY_MS)
        self._check_timer.timeout.connect(self._check_now)

        self.describe(
            "Re-issue portal invitation",
            "Re-issue portal invitation",
            f"{patient_name} · MRN {mrn}",
            "Patient",
        )
        self._build()
        self.issue_button.clicked.connect(self._issue)
        self.presenter.address_edited("")

    # --- ReissueView ------------------------------------------------------------------------

    def show_address(self, verdict: AddressVerdict) -> None:
        self.address_icon.setPixmap(state_icon(verdict.state))
        self.address_icon.setAccessibleName(STATE_NAMES[verdict.state])
        self.address_status.setText(verdict.words)
        self.address_status.setAccessibleDescription(verdict.words)
        self.address_status.setToolTip(verdict.detail if verdict.detail != verdict.words else "")
        self.address_status.setStyleSheet(f"color: {STATE_COLOURS[verdict.state]};")

    def show_refusal(self, text: str) -> None:
        self.show_problem(text)

    def show_form(self, form: FormState) -> None:
        # What is still needed is always about the address, and the verdict next to the
        # field already says it (in words, with a badge): the footer's hint stays hidden.
        self.email.setReadOnly(not form.editable)
        self.days.setEnabled(form.editable)
        self.issue_button.setEnabled(form.accept_enabled)
        self.issue_button.setText("Issuing…" if form.busy else _ACTION)
        self.cancel_button.setEnabled(form.cancel_enabled)
        self._busy_while(form.busy)

    def show_pin(self, page: PinPage) -> None:
        # Two pages in one layout, one hidden (not a QStackedWidget, whose height is the
        # tallest page's): the form stays compact.
        self.form_page.hide()
        self.show_problem("")
        self.buttons.hide()
        self.pin_page.show()
        self.pin_page.show_page(page)
        self.adjustSize()

    def invitation_issued(self, changes: Changes) -> None:
        self.issued.emit(changes)

    def open_document(self, path: Path) -> None:
        self.pin_page.open_document(path)

    def show_handout_problem(self, text: str) -> None:
        self.pin_page.show_problem(text)

    # --- opening and closing ----------------------------------------------------------------

    @property
    def on_pin_page(self) -> bool:
        """Whether the PIN page is showing (the invitation was issued)."""
        return not self.pin_page.isHidden()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.adjustSize()  # to the form page, which is shorter than the PIN page

    def done(self, result: int) -> None:
        self._check_timer.stop()
        self._busy_while(False)
        self.pin_page.clear()
        super().done(result)  # the presenter forgets the PIN

    # --- the rest ---------------------------------------------------------------------------

    def _busy_while(self, busy: bool) -> None:
        """The busy cursor while issuing (set and restored once each)."""
        if busy and not self._busy_cursor:
            QGuiApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        elif self._busy_cursor and not busy:
            QGuiApplication.restoreOverrideCursor()
        self._busy_cursor = busy

    def _edited(self, text: str) -> None:
        self.show_problem("")
        self.presenter.address_edited(text)
        self._check_timer.start()

    def _check_now(self) -> None:
        self.presenter.check_address(self.email.text())

    def _issue(self) -> None:
        if self.on_pin_page:
            return
        if self._check_timer.isActive():
            # Enter before typing paused: check now; Issue is pressed once it is checked.
            self._check_timer.stop()
            self._check_now()
            return
        self.show_problem("")
        self.presenter.issue(self.email.text(), self.days.value())

    def _days_changed(self, days: int) -> None:
        self.days.setSuffix(" day" if days == 1 else " days")
        day = self.presenter.expiry_date(days)
        self.expiry.setText(f"until {day:%A} {day.day} {day:%B %Y}")
        self.expiry.setAccessibleDescription(self.expiry.text())

    def _build(self) -> None:
        self.form_page = self._form_page()
        self.pin_page.hide()
        self.hint.hide()  # see show_form
        layout = self.begin_layout(4)
        layout.addWidget(self.intro)
        layout.addSpacing(12)
        layout.addWidget(self.form_page, 1)
        layout.addWidget(self.pin_page, 1)
        self.end_layout(layout, stretch=False)
        self.setMinimumWidth(580)
        # The light palette greys disabled text but not disabled button text.
        self.setStyleSheet(
            dialog_style("reissue")
            + "QPushButton:disabled { color: #9aa3ae; }"
            + filled_button_style("reissueButton", *PRIMARY_BLUE)
            + filled_button_style("pinDoneButton", *PRIMARY_BLUE)
        )

    def _form_page(self) -> QWidget:
        intro = QLabel(_INTRO)
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
        self.expiry.setStyleSheet(f"color: {GREY};")
        self.expiry.setAccessibleName("Expiry date")
        self.days.setMinimumWidth(90)
        days_row = QHBoxLayout()
        days_row.setSpacing(10)
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

        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addStretch(1)
        self.setTabOrder(self.email, self.days)
        return page


__all__ = ["CHECK_DELAY_MS", "ReissueDialog"]
