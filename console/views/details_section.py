"""A titled block of the account details panel: name/value rows (the chart, the account) or
a list rebuilt on every load (charts it can see, invitations, history). Every value is
selectable for copying and reaches a screen reader as text."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from console.views.account_details_presenter import ListSection
from console.views.list_page import named_label, restyle, show_value


def value_label(name: str, object_name: str = "", text: str = "") -> QLabel:
    """A wrapped, selectable label called ``name`` that shows (and tells) a value."""
    label = named_label(name, object_name, text, wrap=True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def caption_label(name: str, object_name: str, text: str) -> QLabel:
    """A caption: one line, not selectable."""
    return named_label(name, object_name, text)


class DetailsSection(QWidget):
    """A titled block: either name/value rows or a list of rows rebuilt on every load."""

    def __init__(self, title: str, fields: tuple[str, ...] = ()) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(caption_label(f"{title} section", "sectionTitle", title.upper()))
        self.values: dict[str, QLabel] = {}
        if fields:
            form = QFormLayout()
            form.setContentsMargins(0, 0, 0, 0)
            form.setHorizontalSpacing(12)
            form.setVerticalSpacing(4)
            form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
            form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            for field in fields:
                name = caption_label(f"{field} caption", "fieldName", field)
                value = value_label(f"{title} {field.lower()}")
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

    def fill(self, values: dict[str, str]) -> None:
        """Show ``values`` by field name."""
        for field, text in values.items():
            show_value(self.values[field], text)

    def show_list(self, section: ListSection) -> None:
        """Show the rows of ``section``, or its note when it has none."""
        for number, row in enumerate(section.rows, start=1):
            line_widget = QWidget()
            line = QHBoxLayout(line_widget)
            line.setContentsMargins(0, 0, 0, 0)
            line.setSpacing(8)
            name = f"{self._title} row {number}"
            if row.pill:
                tag = caption_label(f"{name} kind", "pill", row.pill)
                tag.setAlignment(Qt.AlignmentFlag.AlignCenter)
                tag.setFixedWidth(70)
                restyle(tag, "tone", row.tone)
                line.addWidget(tag, 0, Qt.AlignmentFlag.AlignTop)
            texts = QVBoxLayout()
            texts.setSpacing(0)
            texts.addWidget(value_label(name, "", row.text))
            if row.detail:
                texts.addWidget(value_label(f"{name} detail", "rowDetail", row.detail))
            line.addLayout(texts, 1)
            self._rows.addWidget(line_widget)
        if section.note:
            self._rows.addWidget(value_label(f"{self._title} note", "nothingYet", section.note))

    def wipe(self) -> None:
        """Empty every value and remove every list row."""
        for value in self.values.values():
            show_value(value, "")
        while (item := self._rows.takeAt(0)) is not None:
            widget = item.widget()
            if widget is not None:
                widget.setParent(None)
                widget.deleteLater()


__all__ = ["DetailsSection", "caption_label", "value_label"]
