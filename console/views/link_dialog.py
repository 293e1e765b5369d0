"""The "Link to an account…" dialog (SPEC §5, Family link): find the family member's active
account, choose guardian or proxy, see the age warning before linking an adult's chart; then
the link on a worker thread, and the review warning the service gives.

``LinkDialog`` lays out the controls and forwards them to a ``LinkPresenter``
(``console.views.link_presenter``), which decides. The dialog is opened with ``open()`` and
answers through signals: ``changed`` with the ``Changes``, and ``reload_requested`` when the
account was changed elsewhere (it stays open, the choice kept).
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QRadioButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.models.ages import age_on
from console.models.states import AccessRelation
from console.services.accounts.chart_actions import LinkedChart
from console.services.accounts.lookup import AccountChoice
from console.services.desk import StaffDesk
from console.services.permissions import Permission
from console.views.action_dialog import (
    PRIMARY_BLUE,
    ActionDialog,
    dialog_style,
    filled_button_style,
)
from console.views.link_presenter import (
    RELATION_CHOICES,
    RELATION_LABELS,
    LinkForm,
    LinkPresenter,
)
from console.workers.service_calls import Submitter

#: How long typing must pause before the search runs.
SEARCH_DELAY_MS = 300

#: The link button's fill, hover and edge once it is enabled.

_STYLE = """
QLabel#linkChart { color: #3e4c59; }
QLabel#searchStatus { color: #5f6b7a; }
QLabel#sectionCaption { font-weight: 600; color: #1f2933; }
QFrame#ageWarning, QFrame#reviewWarning {
    background: #fff8eb; border: 1px solid #f0d49a; border-radius: 6px;
}
QFrame#ageWarning QLabel, QFrame#reviewWarning QLabel { background: transparent; color: #5c3c00; }
QFrame#linkedNotice { background: #ecfdf3; border: 1px solid #a6e3c0; border-radius: 6px; }
QFrame#linkedNotice QLabel { background: transparent; color: #05603a; }
QLabel#warningCaption { font-weight: 600; }
QTreeWidget#linkResults {
    border: 1px solid #c9d0d9; border-radius: 4px; background: #ffffff;
    alternate-background-color: #f7f9fb;
}
QTreeWidget#linkResults::item { padding: 4px 6px; }
QTreeWidget#linkResults QHeaderView::section {
    padding: 4px 6px; border: none; border-bottom: 1px solid #c9d0d9; background: #f3f5f8;
    color: #3e4c59; font-weight: 600;
}
QTreeWidget#linkResults::item:selected { background: #d8e6fb; color: #102a43; }
"""


class LinkDialog(ActionDialog):
    """Link one patient's chart to a family member's portal account."""

    #: ``Changes`` — the chart is linked (the account and the chart changed).
    changed = Signal(object)

    presenter: LinkPresenter

    def __init__(
        self,
        desk: StaffDesk,
        runner: Submitter,
        patient_id: int,
        *,
        patient_name: str,
        mrn: str,
        birth_date: dt.date,
        guardian: tuple[str, int] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """``guardian``: the username and id of the account to find and choose at once
        (the worklist's proposal); staff still confirm with the Link button."""
        desk.actor.require(Permission.LINK_CHART)
        super().__init__(
            f"Link to an account — {patient_name}", "&Link chart", prefix="link", parent=parent
        )
        self.setObjectName("linkDialog")
        self.setStyleSheet(
            dialog_style("link") + filled_button_style("linkButton", *PRIMARY_BLUE) + _STYLE
        )
        self.patient_name = patient_name
        self.presenter = LinkPresenter(
            desk, runner, patient_id, self, mrn=mrn, birth_date=birth_date
        )
        self.search = QLineEdit()
        self.results = QTreeWidget()
        self.status = QLabel()
        self.relations = QButtonGroup(self)
        self.relation_buttons = {
            r: QRadioButton(f"&{RELATION_LABELS[r]}") for r in RELATION_CHOICES
        }
        self.age_warning = QLabel(self.presenter.age_warning)
        self.age_frame = QFrame()
        self.linked_notice = QLabel()
        self.linked_frame = QFrame()
        self.review_warning = QLabel()
        self.review_frame = QFrame()
        self.link_button = self.action_button
        self.first_field = self.search
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._search_now)
        self._build(mrn, birth_date, desk.clock.now().date())
        self.search.textEdited.connect(self._edited)
        self.search.returnPressed.connect(self._search_now)
        self.results.currentItemChanged.connect(self._chosen)
        self.relations.idToggled.connect(self._relation_toggled)
        self.link_button.clicked.connect(self.presenter.link)
        self.show_form(self.presenter.form)
        if guardian is not None:
            self.search.setText(guardian[0])
            self.presenter.search(guardian[0], choose=guardian[1])

    # --- LinkView ---------------------------------------------------------------------------

    def show_results(self, choices: tuple[AccountChoice, ...], chosen: int | None) -> None:
        with QSignalBlocker(self.results):
            self.results.clear()
            for choice in choices:
                item = QTreeWidgetItem(
                    [choice.username, choice.patient_name, choice.login_email or "—"]
                )
                item.setData(0, Qt.ItemDataRole.UserRole, choice.account_id)
                item.setToolTip(0, f"{choice.summary} (MRN {choice.mrn})")
                self.results.addTopLevelItem(item)
                if choice.account_id == chosen:
                    self.results.setCurrentItem(item)
        self.results.setAccessibleDescription(f"{len(choices)} accounts found")

    def show_form(self, form: LinkForm) -> None:
        for control in (self.search, self.results, *self.relation_buttons.values()):
            control.setEnabled(form.editable)
        self.status.setText(form.status)
        self.link_button.setEnabled(form.accept_enabled)
        self.link_button.setVisible(not form.linked)
        self.link_button.setText("Linking…" if form.busy else "&Link chart")
        self.link_button.setToolTip(form.still_needed)
        self.cancel_button.setEnabled(form.cancel_enabled)
        self.cancel_button.setText("&Close" if form.linked else "Cancel")
        self.cancel_button.setAccessibleName("Close" if form.linked else "Cancel")
        self.hint.setText("" if form.linked else form.still_needed)

    def chart_linked(self, linked: LinkedChart) -> None:
        chosen = self.presenter.chosen
        holder = chosen.username if chosen is not None else "The account"
        self.linked_notice.setText(
            f"Linked: {holder} can now see {self.patient_name}'s chart as "
            f"{self.presenter.relation.value}."
        )
        self.linked_notice.setAccessibleDescription(self.linked_notice.text())
        self.linked_frame.show()
        self.age_frame.hide()
        self.changed.emit(linked.changes)
        if linked.review_warning:
            self.review_warning.setText(linked.review_warning)
            self.review_warning.setAccessibleDescription(linked.review_warning)
            self.review_frame.show()
            self.cancel_button.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.accept()

    # --- closing ----------------------------------------------------------------------------

    def done(self, result: int) -> None:
        self._search_timer.stop()
        super().done(result)

    # --- reacting ---------------------------------------------------------------------------

    def _edited(self, _text: str) -> None:
        self._search_timer.start()

    def _search_now(self) -> None:
        self._search_timer.stop()
        self.presenter.search(self.search.text())

    def _chosen(self, item: QTreeWidgetItem | None) -> None:
        account_id = item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None
        self.presenter.choose(account_id)

    def _relation_toggled(self, index: int, checked: bool) -> None:
        if checked:
            self.presenter.choose_relation(RELATION_CHOICES[index])

    # --- building ---------------------------------------------------------------------------

    def _build(self, mrn: str, birth_date: dt.date, today: dt.date) -> None:
        self.describe(
            f"Link {self.patient_name}'s chart to an account",
            "Link the chart to an account",
            "The account's holder will see this chart in the portal beside their own. When a "
            "family shares one e-mail address, link the children's charts to the parent's "
            "account, then revoke the children's own accounts.",
            "What linking does",
        )
        chart = QLabel(f"MRN {mrn} · born {birth_date:%d %b %Y} (age {age_on(birth_date, today)})")
        chart.setObjectName("linkChart")
        chart.setAccessibleName("Chart")

        self.age_frame.setObjectName("ageWarning")
        self._warning_box(self.age_frame, "Adult's chart", self.age_warning, "Age warning")
        self.age_frame.setVisible(bool(self.age_warning.text()))

        search_label = QLabel("&Find the account:")
        search_label.setObjectName("sectionCaption")
        search_label.setBuddy(self.search)
        self.search.setObjectName("linkSearch")
        self.search.setAccessibleName("Find the account")
        self.search.setPlaceholderText("Username, name, login e-mail or MRN")
        self.search.setClearButtonEnabled(True)
        self.results.setObjectName("linkResults")
        self.results.setAccessibleName("Accounts found")
        self.results.setHeaderLabels(["Username", "Name", "Login e-mail"])
        self.results.setRootIsDecorated(False)
        self.results.setAlternatingRowColors(True)
        self.results.setUniformRowHeights(True)
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.results.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.results.setMinimumHeight(150)
        self.status.setObjectName("searchStatus")
        self.status.setAccessibleName("Search status")

        relation_label = QLabel("Link as:")
        relation_label.setObjectName("sectionCaption")
        relation_row = QHBoxLayout()
        relation_row.addWidget(relation_label)
        for index, relation in enumerate(RELATION_CHOICES):
            button = self.relation_buttons[relation]
            button.setObjectName(f"relation_{relation.value}")
            button.setAccessibleName(f"Link as {relation.value}")
            self.relations.addButton(button, index)
        self.relation_buttons[AccessRelation.GUARDIAN].setChecked(True)
        for button in self.relation_buttons.values():
            relation_row.addWidget(button)
        relation_row.addStretch(1)

        self.linked_frame.setObjectName("linkedNotice")
        notice_layout = QVBoxLayout(self.linked_frame)
        notice_layout.setContentsMargins(12, 8, 12, 8)
        self.linked_notice.setAccessibleName("Linked")
        self.linked_notice.setWordWrap(True)
        notice_layout.addWidget(self.linked_notice)
        self.linked_frame.hide()
        self.review_frame.setObjectName("reviewWarning")
        self._warning_box(self.review_frame, "Flagged for review", self.review_warning, "Review")
        self.review_frame.hide()

        layout = self.begin_layout(8)
        layout.addWidget(chart)
        layout.addWidget(self.intro)
        layout.addWidget(self.age_frame)
        layout.addSpacing(4)
        layout.addWidget(search_label)
        layout.addWidget(self.search)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.status)
        layout.addSpacing(2)
        layout.addLayout(relation_row)
        layout.addWidget(self.linked_frame)
        layout.addWidget(self.review_frame)
        self.end_layout(layout, stretch=False)
        guardian, proxy = self.relation_buttons.values()
        QWidget.setTabOrder(self.search, self.results)
        QWidget.setTabOrder(self.results, guardian)
        QWidget.setTabOrder(guardian, proxy)
        QWidget.setTabOrder(proxy, self.link_button)
        QWidget.setTabOrder(self.link_button, self.cancel_button)
        self.setMinimumWidth(620)
        self.resize(660, 0)

    @staticmethod
    def _warning_box(frame: QFrame, caption: str, label: QLabel, name: str) -> None:
        layout = QVBoxLayout(frame)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(2)
        title = QLabel(caption)
        title.setObjectName("warningCaption")
        title.setAccessibleName(caption)
        label.setAccessibleName(name)
        label.setAccessibleDescription(label.text())
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(title)
        layout.addWidget(label)


__all__ = ["SEARCH_DELAY_MS", "LinkDialog"]
