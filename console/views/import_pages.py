"""The import wizard's first pages and its progress page: the export file with its format
and encoding, the columns found with the field each is read as, and the import's progress.

Widgets only: each page forwards what staff choose as a signal and shows what it is given;
the decisions are ``import_presenter``'s and ``import_columns_presenter``'s.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from console.services.imports.columns import Field
from console.services.imports.source import ExportFormat
from console.views.import_columns_presenter import FIELD_LABELS, NOT_READ, ColumnsPage
from console.views.import_steps_presenter import ENCODINGS, FORMATS, ImportProgress
from console.views.list_page import named_label, show_value

#: Each field's keyboard mnemonic on the columns page (unique in the wizard's window).
_MNEMONICS = {
    Field.MRN: "&MRN",
    Field.FIRST_NAME: "&First name",
    Field.LAST_NAME: "&Last name",
    Field.BIRTH_DATE: "&Date of birth",
    Field.EMAIL: "&Contact e-mail",
    Field.MOBILE: "Mobile p&hone",
    Field.USERNAME: "Portal &username",
    Field.LOGIN_EMAIL: "Portal lo&gin e-mail",
    Field.STATUS: "Portal s&tatus",
    Field.LAST_LOGIN: "Last &portal login",
}

FILE_INTRO = (
    "Bring charts and portal accounts in from your EHR's or your portal's export. Nothing is "
    "written until you have seen the preview and pressed Import."
)
FILE_NOTE = (
    "CSV (.csv, .txt), Excel workbooks (.xlsx) and FHIR R4 Patient resources (.json, "
    ".ndjson). Charts are matched by MRN and accounts by username: the same export imported "
    "twice changes nothing, and a newer one updates what changed."
)
MEANWHILE = (
    "The console stays usable meanwhile: other pages and dialogs can be used while the rows "
    "are written. Closing this window stops the import after the batch under way."
)
COLUMNS_INTRO = (
    "Each field is read from the column chosen beside it. The console chose the columns "
    "whose names it knows; change any choice, or choose “(not read)”."
)


class ExportFilePage(QWidget):
    """Step 1: the file, its format and its text encoding."""

    #: The path typed or chosen.
    path_changed = Signal(str)
    #: "Browse…" pressed.
    browse_requested = Signal()
    #: The format chosen (None: from the file's name).
    format_chosen = Signal(object)
    #: The encoding chosen (None: found out).
    encoding_chosen = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("importFilePage")
        self.path = QLineEdit()
        self.path.setObjectName("importPath")
        self.path.setAccessibleName("Export file")
        self.path.setPlaceholderText("The export's full path, or Browse…")
        self.path.setClearButtonEnabled(True)
        self.path.textChanged.connect(self.path_changed)
        self.browse = QPushButton("B&rowse…")
        self.browse.setAccessibleName("Browse for the export file")
        self.browse.setAutoDefault(False)
        self.browse.clicked.connect(self.browse_requested)
        self.format = QComboBox()
        self.format.setAccessibleName("Kind of export")
        for text, kind in FORMATS:
            self.format.addItem(text, kind)
        self.format.currentIndexChanged.connect(
            lambda i: self.format_chosen.emit(self.format.itemData(i))
        )
        self.encoding = QComboBox()
        self.encoding.setAccessibleName("Text encoding (CSV only)")
        for text, codec in ENCODINGS:
            self.encoding.addItem(text, codec)
        self.encoding.currentIndexChanged.connect(
            lambda i: self.encoding_chosen.emit(self.encoding.itemData(i))
        )

        file_row = QHBoxLayout()
        file_row.setSpacing(6)
        file_row.addWidget(self.path, 1)
        file_row.addWidget(self.browse)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setVerticalSpacing(10)
        for text, field, row in (
            ("&File:", self.path, file_row),
            ("F&ormat:", self.format, self.format),
            ("&Encoding:", self.encoding, self.encoding),
        ):
            caption = QLabel(text)
            caption.setBuddy(field)
            form.addRow(caption, row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(14)
        layout.addWidget(named_label("What importing does", "importIntro", FILE_INTRO, wrap=True))
        layout.addLayout(form)
        layout.addWidget(named_label("What can be imported", "importHint", FILE_NOTE, wrap=True))
        layout.addStretch(1)

    @property
    def first_control(self) -> QWidget:
        return self.path

    def set_editable(self, editable: bool, *, encoding_applies: bool) -> None:
        for control in (self.path, self.browse, self.format):
            control.setEnabled(editable)
        self.encoding.setEnabled(editable and encoding_applies)

    def chosen_kind(self) -> ExportFormat | None:
        return self.format.currentData()  # type: ignore[no-any-return]


class ColumnMappingPage(QWidget):
    """Step 2: each field with the column it is read from, the columns left unread, and
    the mapping saved or read from a file."""

    #: A field's column chosen: the field, the header (None: not read).
    column_chosen = Signal(object, object)
    save_requested = Signal()
    load_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("importColumnsPage")
        self.about = named_label("The file", "importAbout", wrap=True)
        self.combos: dict[Field, QComboBox] = {}
        self.captions: dict[Field, QLabel] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setVerticalSpacing(6)
        for field, text in _MNEMONICS.items():
            combo = QComboBox()
            combo.setObjectName(f"column_{field.value}")
            combo.setMinimumContentsLength(24)
            combo.currentIndexChanged.connect(
                lambda i, f=field, c=combo: self.column_chosen.emit(f, c.itemData(i))
            )
            caption = QLabel(f"{text}:")
            caption.setBuddy(combo)
            form.addRow(caption, combo)
            self.combos[field], self.captions[field] = combo, caption
        fields = QWidget()
        fields.setObjectName("importFields")
        fields.setLayout(form)
        scroll = QScrollArea()
        scroll.setObjectName("importFieldsScroll")
        scroll.setAccessibleName("Fields and their columns, scrollable")
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes from list to list
        scroll.setWidget(fields)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.unread = named_label("Columns not read", "importUnread", wrap=True)
        self.save_button = QPushButton("&Save mapping…")
        self.save_button.setAccessibleName("Save these columns as a mapping file")
        self.load_button = QPushButton("L&oad mapping…")
        self.load_button.setAccessibleName("Choose the columns a mapping file names")
        for button, signal in (
            (self.save_button, self.save_requested),
            (self.load_button, self.load_requested),
        ):
            button.setAutoDefault(False)
            button.clicked.connect(signal)
        self.note = named_label("Mapping file", "importNote", wrap=True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.load_button)
        buttons.addWidget(self.note, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self.about)
        layout.addWidget(
            named_label("How columns are read", "importHint", COLUMNS_INTRO, wrap=True)
        )
        layout.addWidget(scroll)
        layout.addWidget(self.unread)
        layout.addLayout(buttons)
        layout.addStretch(1)

    @property
    def first_control(self) -> QWidget:
        return self.combos[Field.MRN]

    def show_columns(self, page: ColumnsPage) -> None:
        """Every field's choice among the file's headers."""
        show_value(self.about, page.about)
        for choice in page.choices:
            combo = self.combos[choice.field]
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(NOT_READ, None)
            for header in page.headers:
                if header.strip():
                    combo.addItem(header, header)
            combo.setCurrentIndex(max(combo.findData(choice.header), 0))
            combo.blockSignals(False)
            combo.setAccessibleName(choice.label)
            needed = choice.label.removeprefix(FIELD_LABELS[choice.field])  # " (required)"
            self.captions[choice.field].setText(f"{_MNEMONICS[choice.field]}{needed}:")
        self.show_unread(page.unread)

    def show_unread(self, text: str) -> None:
        show_value(self.unread, text)

    def show_note(self, text: str) -> None:
        show_value(self.note, text)

    def set_editable(self, editable: bool) -> None:
        for control in (*self.combos.values(), self.save_button, self.load_button):
            control.setEnabled(editable)


class ProgressPage(QWidget):
    """Step 4: the import's progress, entries gone through of the preview's count."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("importProgressPage")
        self.about = named_label("What is being imported", "importIntro", wrap=True)
        self.bar = QProgressBar()
        self.bar.setObjectName("importProgress")
        self.bar.setAccessibleName("Import progress")
        self.bar.setTextVisible(False)  # the line under it says how far, in rows
        self.text = named_label("Rows gone through", "importProgressText", wrap=True)
        meanwhile = named_label("Meanwhile", "importHint", MEANWHILE, wrap=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.setSpacing(10)
        layout.addWidget(self.about)
        layout.addSpacing(6)
        layout.addWidget(self.bar)
        layout.addWidget(self.text)
        layout.addSpacing(10)
        layout.addWidget(meanwhile)
        layout.addStretch(1)

    def show_progress(self, progress: ImportProgress) -> None:
        self.bar.setRange(0, max(progress.total, 1))
        self.bar.setValue(min(progress.done, max(progress.total, 1)))
        self.bar.setAccessibleDescription(progress.text)
        show_value(self.text, progress.text)


__all__ = ["ColumnMappingPage", "ExportFilePage", "ProgressPage"]
