"""The account details panel beside the account table (issue 6, point 2).

It shows one ``AccountDetails`` value, loaded off the GUI thread through ``ServiceCalls``: an
answer for an account that is no longer the chosen one is dropped, and ``clear()`` (the lock
screen) wipes every label so that no patient data stays on screen or in memory of the widgets.
After an action, ``apply_changes`` reads the account again only when the ``Changes`` name it
or its chart. At the top, "What the patient sees" states the exact login message with a text
tag, so that its meaning never rests on colour alone.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from console.services.accounts.details import AccountDetails, account_details
from console.services.accounts.patient_view import LoginSituation
from console.services.desk import StaffDesk
from console.services.errors import DomainError
from console.services.workstation import Changes
from console.workers.service_calls import ServiceCalls, Submitter

EMPTY_TEXT = "Select an account to see its details"
LOADING_TEXT = "Opening the account…"

#: The banner's tag and tone for each situation: the words carry the meaning, the colour helps.
_SITUATION_TAGS: dict[LoginSituation, tuple[str, str]] = {
    LoginSituation.SIGNED_IN: ("✓  Signs in", "ok"),
    LoginSituation.SHARED_EMAIL: ("!  Shared e-mail", "warn"),
    LoginSituation.RESET_SENT: ("!  Reset needed", "warn"),
    LoginSituation.RESET_RECENTLY_SENT: ("!  Reset needed", "warn"),
    LoginSituation.LOCKED: ("!  Locked", "warn"),
    LoginSituation.LOCKED_OUT: ("!  Locked", "warn"),
    LoginSituation.REVOKED: ("✕  Revoked", "stop"),
    LoginSituation.DEACTIVATED: ("✕  Deactivated", "stop"),
    LoginSituation.NO_RESET_ADDRESS: ("✕  No usable e-mail", "stop"),
}

_STATES = {
    "legacy": "Legacy — not reset yet",
    "reset_pending": "Reset e-mail sent",
    "migrated": "Migrated",
    "revoked": "Revoked",
    "deactivated": "Deactivated",
}

_ACTIONS = {
    "revoke_access": "Access revoked",
    "reissue_invitation": "Invitation sent",
    "cancel_invitation": "Invitation cancelled",
    "accept_invitation": "Invitation accepted",
    "resend_reset": "Reset e-mail resent",
    "deactivate_account": "Account deactivated",
    "link_chart": "Chart linked",
    "edit_contact": "Contact details edited",
}

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


def _label(name: str, object_name: str = "", *, wrap: bool = True) -> QLabel:
    """A plain-text label that can be selected for copying, with an accessible name."""
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setAccessibleName(name)
    if object_name:
        label.setObjectName(object_name)
    return label


def _set_tone(widget: QWidget, tone: str) -> None:
    widget.setProperty("tone", tone)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"


def _when(moment: dt.datetime | None, never: str = "—") -> str:
    return never if moment is None else f"{moment.astimezone():%d %b %Y %H:%M}"


class _Section(QWidget):
    """A titled block: either name/value rows or a list of rows rebuilt on every load."""

    def __init__(self, title: str, fields: tuple[str, ...] = ()) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        heading = _label(f"{title} section", "sectionTitle", wrap=False)
        heading.setText(title.upper())
        heading.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        layout.addWidget(heading)
        self.values: dict[str, QLabel] = {}
        if fields:
            form = QFormLayout()
            form.setContentsMargins(0, 0, 0, 0)
            form.setHorizontalSpacing(12)
            form.setVerticalSpacing(4)
            form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
            form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            for field in fields:
                name = _label(f"{field} caption", "fieldName", wrap=False)
                name.setText(field)
                name.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
                value = _label(f"{title} {field.lower()}")
                # A long e-mail address is cut rather than widening the whole panel.
                value.setMinimumWidth(60)
                name.setBuddy(value)
                form.addRow(name, value)
                self.values[field] = value
            layout.addLayout(form)
        self._rows = QVBoxLayout()
        self._rows.setSpacing(6)
        layout.addLayout(self._rows)
        self._title = title

    def set(self, field: str, text: str) -> None:
        self.values[field].setText(text)

    def add_row(self, pill: str, text: str, detail: str, tone: str = "") -> None:
        """One list row: a short tag, a line of text and a muted line under it."""
        n = self._rows.count() + 1
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        line.setSpacing(8)
        if pill:
            tag = _label(f"{self._title} row {n} kind", "pill", wrap=False)
            tag.setText(pill)
            tag.setAlignment(Qt.AlignmentFlag.AlignCenter)
            tag.setFixedWidth(70)
            _set_tone(tag, tone)
            line.addWidget(tag, 0, Qt.AlignmentFlag.AlignTop)
        texts = QVBoxLayout()
        texts.setSpacing(0)
        main = _label(f"{self._title} row {n}")
        main.setText(text)
        texts.addWidget(main)
        if detail:
            sub = _label(f"{self._title} row {n} detail", "rowDetail")
            sub.setText(detail)
            texts.addWidget(sub)
        line.addLayout(texts, 1)
        self._rows.addWidget(row)

    def add_note(self, text: str) -> None:
        """A muted line saying the list is empty."""
        note = _label(f"{self._title} note", "nothingYet")
        note.setText(text)
        self._rows.addWidget(note)

    def wipe(self) -> None:
        """Empty every value and remove every list row."""
        for value in self.values.values():
            value.clear()
        while (item := self._rows.takeAt(0)) is not None:
            widget = item.widget()
            if widget is not None:
                widget.setParent(None)
                widget.deleteLater()


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
        self._placeholder = _label("Account details status", "detailsPlaceholder")
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
        if self._account_id is None:
            return
        details = self._details
        named = self._account_id in changes.accounts or (
            details.chart.patient_id in changes.patients if details else self.busy
        )
        if named:
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
        self._placeholder.setText(text)
        self._placeholder.setProperty("problem", problem)
        self._placeholder.style().unpolish(self._placeholder)
        self._placeholder.style().polish(self._placeholder)
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
        self._name = _label("Patient name", "detailsName")
        self._subtitle = _label("MRN and username", "detailsSubtitle")
        header.addWidget(self._name)
        header.addWidget(self._subtitle)
        layout.addLayout(header)
        layout.addWidget(self._build_banner())
        self._chart = _Section("Chart", ("MRN", "Born", "Contact e-mail", "Mobile phone"))
        self._account = _Section(
            "Account",
            (
                "Username",
                "Login e-mail",
                "State",
                "Shared e-mail",
                "Last login",
                "Failed logins",
                "Locked until",
                "Holds",
            ),
        )
        self._can_see = _Section("Can see")
        self._invitations = _Section("Invitations")
        self._history = _Section("History")
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
        caption = _label("Banner caption", "bannerCaption", wrap=False)
        caption.setText("WHAT THE PATIENT SEES")
        caption.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self._tag = _label("Login situation", "situationTag", wrap=False)
        top.addWidget(caption)
        top.addStretch(1)
        top.addWidget(self._tag)
        layout.addLayout(top)
        self._message = _label("Message the patient sees", "patientMessage")
        self._explanation = _label("Why the patient sees it", "patientExplanation")
        self._fix_caption = _label("Suggested fix caption", "fixCaption", wrap=False)
        self._fix = _label("Suggested fix", "patientFix")
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
        chart, account, view = details.chart, details.account, details.patient_view
        self._name.setText(chart.full_name)
        self._subtitle.setText(f"MRN {chart.mrn}  ·  {account.username}")
        tag, tone = _SITUATION_TAGS.get(view.situation, ("!  " + view.situation, "warn"))
        self._tag.setText(tag)
        _set_tone(self._tag, tone)
        _set_tone(self._banner, tone)
        self._message.setText(view.message if view.signed_in else f"“{view.message}”")
        self._explanation.setText(view.explanation)
        self._fix_caption.setText("WHAT FIXES IT" if view.suggested_fix else "")
        self._fix.setText(view.suggested_fix or "")
        self._fix_caption.setVisible(bool(view.suggested_fix))
        self._fix.setVisible(bool(view.suggested_fix))

        self._chart.set("MRN", chart.mrn)
        self._chart.set("Born", f"{chart.birth_date:%d %b %Y}  (age {chart.age})")
        self._chart.set("Contact e-mail", chart.contact_email or "—")
        self._chart.set("Mobile phone", chart.mobile_phone or "—")
        self._account.set("Username", account.username)
        self._account.set("Login e-mail", account.login_email or "— none —")
        self._account.set("State", _STATES.get(account.state, account.state))
        if account.shared_email:
            others = ", ".join(account.shares_email_with)
            self._account.set("Shared e-mail", f"Yes — also used by {others}")
        else:
            self._account.set("Shared e-mail", "No")
        self._account.set("Last login", _when(account.last_login_at, "Never"))
        self._account.set("Failed logins", str(account.failed_logins))
        self._account.set("Locked until", _when(account.locked_until, "Not locked"))
        self._account.set(
            "Holds",
            f"{_count(account.message_count, 'message')}  ·  "
            f"{_count(account.intake_form_count, 'intake form')}",
        )

        for seen in details.can_see:
            detail = f"MRN {seen.mrn}  ·  age {seen.age}"
            if seen.needs_review:
                detail += "  ·  needs review (adult)"
            if seen.ended:
                detail += "  ·  access ended"
            self._can_see.add_row(
                seen.relation.capitalize(), seen.full_name, detail, "muted" if seen.ended else ""
            )
        if not details.can_see:
            self._can_see.add_note("No charts — this account sees nothing in the portal.")
        for invitation in details.invitations:
            state = "expired" if invitation.lapsed else invitation.state
            self._invitations.add_row(
                state.capitalize(),
                invitation.target_email,
                f"Sent {_when(invitation.created_at)}  ·  expires {_when(invitation.expires_at)}",
                "" if state == "pending" else "muted",
            )
        if not details.invitations:
            self._invitations.add_note("No invitations sent from this chart.")
        for event in details.history:
            action = _ACTIONS.get(event.action, event.action.replace("_", " ").capitalize())
            if event.outcome != "ok":
                action += f" ({event.outcome})"
            by = event.staff_username or "system"
            about = "chart" if event.target_type == "patient" else "account"
            self._history.add_row("", action, f"{_when(event.occurred_at)}  ·  {by}  ·  {about}")
        if not details.history:
            self._history.add_note("Nothing recorded yet.")

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
            label.clear()
        for section in self._sections:
            section.wipe()


__all__ = ["EMPTY_TEXT", "LOADING_TEXT", "AccountDetailsPanel"]
