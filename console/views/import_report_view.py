"""The import wizard's preview and report pages: what the run would do or did in a few
sentences, every figure as a caption and its value, the first lines in a table (the report
page chooses which kind), and "Save … as CSV…".

Each value is a plain-text label whose caption is its accessible name and whose value its
accessible description, so that a screen reader says "New charts, 30"; the table holds the
texts themselves. What is shown comes from ``import_report_presenter``'s ``ReportPage``.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.adapters.text_table import TextTableModel
from console.services.imports.plan import FIGURES, Kind
from console.views.import_report_presenter import LINE_HEADERS, Figure, ReportPage
from console.views.list_page import named_label, show_value
from console.views.row_table_view import row_table_view

#: The figures' grid: this many caption-and-value pairs side by side.
FIGURE_COLUMNS = 3


class FiguresGrid(QFrame):
    """Every figure of a report, caption and value, in a few columns.

    Its labels are made with it, before the page is on screen, and afterwards only their
    texts change: labels added to a page already on screen are shown and laid out one by
    one, which at the end of an import, with every page reading again meanwhile, kept the
    GUI thread some 50 ms longer (bench/gui_stall.py)."""

    def __init__(self, name: str, names: Sequence[str] = FIGURES) -> None:
        super().__init__()
        self.setObjectName("importFigures")
        self.setAccessibleName(name)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(12, 8, 12, 8)
        self._grid.setHorizontalSpacing(10)
        self._grid.setVerticalSpacing(3)
        self.captions: dict[str, QLabel] = {}
        self.values: dict[str, QLabel] = {}
        rows = -(-len(names) // FIGURE_COLUMNS)
        for number, figure in enumerate(names):
            caption = named_label("", "figureCaption")
            value = named_label("", "figureValue")
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            row, column = number % rows, number // rows * 3
            self._grid.addWidget(caption, row, column)
            self._grid.addWidget(value, row, column + 1)
            self._grid.setColumnMinimumWidth(column + 2, 18)
            self.captions[figure], self.values[figure] = caption, value

    def show_figures(self, figures: tuple[Figure, ...]) -> None:
        """Show ``figures``, each in its caption's and value's label."""
        for figure in figures:
            caption, value = self.captions[figure.name], self.values[figure.name]
            caption.setAccessibleName(figure.caption)
            show_value(caption, f"{figure.caption}:")
            value.setAccessibleName(figure.caption)
            show_value(value, figure.value)
            value.setProperty("zero", figure.value == "0")
            value.style().unpolish(value)
            value.style().polish(value)

    def value(self, name: str) -> str:
        """The value shown for the figure ``name`` ("new_charts")."""
        return self.values[name].text()


class ReportView(QWidget):
    """The preview page (``kinds`` False) or the report page (with its "Show" choice)."""

    #: "Save … as CSV…" pressed.
    save_requested = Signal()
    #: The report page's "Show" choice changed: the kind (None: every kind).
    kind_chosen = Signal(object)

    def __init__(self, *, preview: bool) -> None:
        super().__init__()
        what = "preview" if preview else "report"
        self.setObjectName(f"import{what.capitalize()}Page")
        self.outcome = named_label(
            "What the import would do" if preview else "What the import did",
            "importOutcome",
            wrap=True,
        )
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.figures = FiguresGrid("Figures of the preview" if preview else "Figures")
        self.caption = named_label("About the lines below", "importLinesCaption", wrap=True)
        self.model = TextTableModel(LINE_HEADERS, self)
        self.table = _lines_table(
            self.model,
            "First rejected rows and warnings" if preview else "Report lines",
            what_width=90 if preview else 200,  # "Warning", or "Contact and login e-mail differ"
        )
        self.kinds: QComboBox | None = None
        self.save_button = QPushButton(
            "Sa&ve preview as CSV…" if preview else "&Save report as CSV…"
        )
        self.save_button.setObjectName(f"save{what.capitalize()}Button")
        self.save_button.setAccessibleName(f"Save the whole {what} as a CSV file")
        self.save_button.setAutoDefault(False)
        self.save_button.clicked.connect(self.save_requested)
        self.note = named_label("Where it was saved", "importNote", wrap=True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self.outcome)
        layout.addWidget(self.figures)
        above = QHBoxLayout()
        above.addWidget(self.caption, 1)
        if not preview:
            self.kinds = QComboBox()
            self.kinds.setAccessibleName("Show the lines of")
            self.kinds.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            self.kinds.currentIndexChanged.connect(
                lambda _i: self.kind_chosen.emit(self.chosen_kind())
            )
            show = QLabel("Sho&w:")
            show.setBuddy(self.kinds)
            above.addWidget(show)
            above.addWidget(self.kinds)
        layout.addLayout(above)
        layout.addWidget(self.table, 1)
        below = QHBoxLayout()
        below.addWidget(self.save_button)
        below.addWidget(self.note, 1)
        layout.addLayout(below)

    @property
    def first_control(self) -> QWidget:
        """Where the focus goes when the page opens."""
        return self.kinds if self.kinds is not None else self.table

    def show_page(self, page: ReportPage) -> None:
        """Show ``page``: its outcome, figures, lines and, on the report page, its kinds."""
        show_value(self.outcome, page.outcome)
        self.figures.show_figures(page.figures)
        show_value(self.caption, page.lines_caption)
        self.model.load(page.lines)
        self.show_note("")
        if self.kinds is not None:
            self.kinds.blockSignals(True)
            self.kinds.clear()
            for choice in page.kinds:  # by value: Qt hands a str enum back as a plain str
                self.kinds.addItem(choice.label, choice.kind.value if choice.kind else None)
            self.kinds.setCurrentIndex(0)
            self.kinds.blockSignals(False)

    def show_lines(self, lines: tuple[tuple[str, ...], ...]) -> None:
        """Show these lines in the table (another kind chosen)."""
        self.model.load(lines)

    def show_note(self, text: str) -> None:
        """Say where the report was saved ("" to clear it)."""
        show_value(self.note, text)

    def _kind_changed(self) -> None:
        self.kind_chosen.emit(self.chosen_kind())

    def chosen_kind(self) -> Kind | None:
        """The kind of line the report page shows (None: every kind)."""
        value = self.kinds.currentData() if self.kinds is not None else None
        return Kind(value) if value else None


def _lines_table(model: TextTableModel, name: str, *, what_width: int) -> QTableView:
    widths = ((0, 56), (1, what_width), (2, 84), (3, 120))
    table = row_table_view(model, "importLines", name, widths)
    table.setTabKeyNavigation(False)  # Tab leaves the table; the arrows move by row
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    table.setMinimumHeight(140)
    return table


__all__ = ["FIGURE_COLUMNS", "FiguresGrid", "ReportView"]
