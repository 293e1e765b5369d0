"""The account details panel beside the account table (issue 6, point 2).

It shows one ``AccountDetails`` value, loaded off the GUI thread through ``ServiceCalls``: an
answer for an account that is no longer the chosen one is dropped, and ``clear()`` (the lock
screen) wipes every label so that no patient data stays on screen or in memory of the widgets.
After an action, ``apply_changes`` reads the account again only when the ``Changes`` name it
or its chart. At the top, "What the patient sees" states the exact login message with a text
tag, so that its meaning never rests on colour alone.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QProgressBar,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from console.services.accounts.details import AccountDetails, account_details
from console.services.desk import StaffDesk
from console.services.errors import DomainError
from console.services.workstation import Changes
from console.views.account_details_presenter import (
    ACCOUNT_FIELDS,
    CHART_FIELDS,
    EMPTY_TEXT,
    LOADING_TEXT,
    details_page,
    reload_needed,
)
from console.views.details_section import DetailsSection, caption_label, value_label
from console.views.list_page import restyle, show_value
from console.workers.service_calls import ServiceCalls, Submitter

_STYLE = """
QWidget#detailsContent { background: #ffffff; }
QScrollArea#detailsScroll { border: none; background: #ffffff; }
QLabel#detailsPlaceholder { color: #6b7684; font-size: 13px; padding: 24px; }
QLabel#detailsPlaceholder[problem="true"] { color: #b42318; }
QLabel#detailsName { font-size: 17px; font-weight: 600; color: #1f2933; }
QLabel#detailsSubtitle { color: #5f6b7a; }
QFrame#patientSeesBanner { border-radius: 6px; border: 1px solid #c3cad4; }
QFrame#patientSeesBanner[tone="ok"] { background: #ecf8f0; border-color: #9fd4b1; }
QFrame#patientSeesBanner[tone="warn"] { background: #fff4dc; border-color: #e3b254; }
QFrame#patientSeesBanner[tone="stop"] { background: #fdeceb; border-color: #eba39c; }
QLabel#bannerCaption { color: #5f6b7a; font-size: 11px; font-weight: 600; }
QLabel#situationTag { font-weight: 700; font-size: 11px; border-radius: 9px; padding: 2px 8px; }
QLabel#situationTag[tone="ok"] { background: #1f7a45; color: #ffffff; }
QLabel#situationTag[tone="warn"] { background: #fbd98a; color: #4a3200; }
QLabel#situationTag[tone="stop"] { background: #b42318; color: #ffffff; }
QLabel#patientMessage { font-size: 14px; font-weight: 600; color: #1f2933; }
QLabel#patientExplanation { color: #3e4a59; }
QLabel#patientFix { color: #1f2933; }
QLabel#fixCaption { color: #5f6b7a; font-size: 11px; font-weight: 600; }
QLabel#sectionTitle {
    color: #2b6cb0; font-size: 11px; font-weight: 700;
    border-bottom: 1px solid #e3e7ec; padding-bottom: 3px;
}
QLabel#fieldName { color: #6b7684; }
QLabel#rowDetail, QLabel#historyTime { color: #6b7684; }
QLabel#nothingYet { color: #8a94a3; font-style: italic; }
QLabel#pill {
    border-radius: 4px; padding: 1px 6px; font-size: 11px; font-weight: 600;
    background: #e8f0fa; color: #28476b; border: 1px solid #b9cde6;
}
QLabel#pill[tone="muted"] { background: #f1f3f6; color: #6b7684; border-color: #d5dae1; }
QProgressBar#detailsBusy { border: none; background: #e3e7ec; max-height: 3px; }
QProgressBar#detailsBusy::chunk { background: #2b6cb0; }
"""


class AccountDetailsPanel(QWidget):
    """One account in full, beside the table. ``loaded`` carries the ``AccountDetails`` each
    time an account has been shown; ``details_changed`` the details on screen, or None, each
    time they change (the window enables its account actions from it)."""

    loaded = Signal(object)
    details_changed = Signal(object)

    def __init__(
        self,
        desk: StaffDesk,
        runner: Submitter,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("accountDetailsPanel")
        self.setAccessibleName("Account details")
        self.setMinimumWidth(380)  # the banner's caption and its situation tag side by side
        self.setStyleSheet(_STYLE)
        self._desk = desk
        self._calls = ServiceCalls(runner)
        self._account_id: int | None = None
        self._details: AccountDetails | None = None

        self._busy = QProgressBar()
        self._busy.setObjectName("detailsBusy")
        self._busy.setAccessibleName("Loading the account")
        self._busy.setRange(0, 0)
        self._busy.setTextVisible(False)
        self._busy.setFixedHeight(3)
        self._busy.hide()
        self._placeholder = value_label("Account details status", "detailsPlaceholder")
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._placeholder.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self._stack = QStackedWidget()
        self._stack.addWidget(self._placeholder)
        self._stack.addWidget(self._build_details())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._busy)
        layout.addWidget(self._stack, 1)
        self._show_placeholder(EMPTY_TEXT)

    # --- What the window calls ----------------------------------------------------------------

    @property
    def account_id(self) -> int | None:
        """The account shown or being loaded, if any."""
        return self._account_id

    @property
    def details(self) -> AccountDetails | None:
        """The details on screen, if any."""
        return self._details

    @property
    def busy(self) -> bool:
        """Whether an account is being loaded."""
        return self._calls.busy

    def show_account(self, account_id: int) -> None:
        """Load ``account_id`` in the background and show it; an answer still on its way for
        another account is dropped. Showing the same account again refreshes it in place."""
        self._calls.cancel()
        if account_id != self._account_id or self._details is None:
            self._wipe()
            self._show_placeholder(LOADING_TEXT)
        self._account_id = account_id
        self._busy.show()
        self._calls.run(
            "Opening the account",
            partial(self._desk.act, account_details, account_id),
            self._show_details,
            self._show_refusal,
        )

    def reload(self) -> None:
        """Read the shown account again (after an action changed it)."""
        if self._account_id is not None:
            self.show_account(self._account_id)

    def apply_changes(self, changes: Changes) -> None:
        """Read the shown account again if ``changes`` name it or its chart (an account being
        opened, whose chart is not known yet, is read again too)."""
        if reload_needed(changes, self._account_id, self._details, self.busy):
            self.reload()

    def clear(self) -> None:
        """Show nothing and keep no patient data (the lock screen, an empty selection)."""
        self._calls.cancel()
        self._account_id = None
        self._wipe()
        self._show_placeholder(EMPTY_TEXT)

    def sizeHint(self) -> QSize:
        return QSize(380, 640)

    # --- Answers ------------------------------------------------------------------------------

    def _show_details(self, details: AccountDetails) -> None:
        self._busy.hide()
        self._clear_labels()  # the details stay known until the new ones replace them
        self._fill(details)
        self._set_details(details)
        self._stack.setCurrentIndex(1)
        self.loaded.emit(details)

    def _show_refusal(self, error: DomainError) -> None:
        self._wipe()
        self._show_placeholder(error.message, problem=True)

    def _show_placeholder(self, text: str, *, problem: bool = False) -> None:
        self._busy.setVisible(self._calls.busy)
        show_value(self._placeholder, text)
        restyle(self._placeholder, "problem", problem)
        self._stack.setCurrentIndex(0)

    # --- Building and filling -----------------------------------------------------------------

    def _build_details(self) -> QScrollArea:
        content = QWidget()
        content.setObjectName("detailsContent")
        layout = QVBoxLayout(content)
        layout.setContentsMargins(14, 12, 14, 14)
        layout.setSpacing(14)
        header = QVBoxLayout()
        header.setSpacing(1)
        self._name = value_label("Patient name", "detailsName")
        self._subtitle = value_label("MRN and username", "detailsSubtitle")
        header.addWidget(self._name)
        header.addWidget(self._subtitle)
        layout.addLayout(header)
        layout.addWidget(self._build_banner())
        self._chart = DetailsSection("Chart", CHART_FIELDS)
        self._account = DetailsSection("Account", ACCOUNT_FIELDS)
        self._can_see = DetailsSection("Can see")
        self._invitations = DetailsSection("Invitations")
        self._history = DetailsSection("History")
        self._sections = (
            self._chart,
            self._account,
            self._can_see,
            self._invitations,
            self._history,
        )
        for section in self._sections:
            layout.addWidget(section)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setObjectName("detailsScroll")
        scroll.setAccessibleName("Account details, scrollable")
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(content)
        return scroll

    def _build_banner(self) -> QFrame:
        banner = QFrame()
        banner.setObjectName("patientSeesBanner")
        banner.setAccessibleName("What the patient sees")
        layout = QVBoxLayout(banner)
        layout.setContentsMargins(12, 10, 12, 12)
        layout.setSpacing(6)
        top = QHBoxLayout()
        caption = caption_label("Banner caption", "bannerCaption", "WHAT THE PATIENT SEES")
        self._tag = caption_label("Login situation", "situationTag", "")
        top.addWidget(caption)
        top.addStretch(1)
        top.addWidget(self._tag)
        layout.addLayout(top)
        self._message = value_label("Message the patient sees", "patientMessage")
        self._explanation = value_label("Why the patient sees it", "patientExplanation")
        self._fix_caption = caption_label("Suggested fix caption", "fixCaption", "")
        self._fix = value_label("Suggested fix", "patientFix")
        # The message and the fix are read with the keyboard too (Tab from the message).
        for label in (self._message, self._fix):
            label.setTextInteractionFlags(
                Qt.TextInteractionFlag.TextSelectableByMouse
                | Qt.TextInteractionFlag.TextSelectableByKeyboard
            )
        self.setFocusProxy(self._message)  # Enter on a row lands on what the patient sees
        for widget in (self._message, self._explanation, self._fix_caption, self._fix):
            layout.addWidget(widget)
        self._banner = banner
        return banner

    def _fill(self, details: AccountDetails) -> None:
        page = details_page(details)
        for label, text in (
            (self._name, page.name),
            (self._subtitle, page.subtitle),
            (self._tag, page.tag),
            (self._message, page.message),
            (self._explanation, page.explanation),
            (self._fix_caption, "WHAT FIXES IT" if page.fix else ""),
            (self._fix, page.fix),
        ):
            show_value(label, text)
        restyle(self._tag, "tone", page.tone)
        restyle(self._banner, "tone", page.tone)
        self._fix_caption.setVisible(bool(page.fix))
        self._fix.setVisible(bool(page.fix))
        self._chart.fill(page.chart)
        self._account.fill(page.account)
        self._can_see.show_list(page.can_see)
        self._invitations.show_list(page.invitations)
        self._history.show_list(page.history)

    def _set_details(self, details: AccountDetails | None) -> None:
        if details is not self._details:
            self._details = details
            self.details_changed.emit(details)

    def _wipe(self) -> None:
        self._set_details(None)
        self._clear_labels()

    def _clear_labels(self) -> None:
        for label in (
            self._name,
            self._subtitle,
            self._tag,
            self._message,
            self._explanation,
            self._fix_caption,
            self._fix,
        ):
            show_value(label, "")
        for section in self._sections:
            section.wipe()


__all__ = ["AccountDetailsPanel"]
