"""Reading a clinic's Excel export (.xlsx, issue 13): the first worksheet, read as the CSV
reader reads a file (same header names, same mapping, same checks and reasons), a row at a
time so that a workbook of a million rows never sits in memory.

The header is the first row that is not empty (some exports put a title or blank rows
above it), and rows are numbered as Excel shows them. Cells are turned into the text a
person would have typed: a date cell is ``YYYY-MM-DD`` (the time of day is kept only in the
last-login column), a whole number has no ``.0`` (an MRN stored as the number 12345 is
"12345"), an empty cell is empty. A formula is read as the value Excel last computed.

A file that is not a workbook Excel saved (a CSV renamed, a damaged file, a workbook locked
with a password, an old .xls) is refused in one sentence that says what to do.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

import openpyxl

from console.services.imports.columns import Field, match_columns
from console.services.imports.source import Entry, Export, ExportFormat, FileRefused
from console.services.imports.tabular_file import read_rows

#: The first bytes of an OLE compound file: an old .xls, or an .xlsx locked with a password
#: (Excel then wraps the encrypted workbook in one).
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: The stream an encrypted Office document is kept in, as named in the compound file.
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_ZIP_MAGIC = b"PK"

_Row = tuple[int, Sequence[object]]


def open_xlsx(
    path: Path,
    *,
    today: dt.date,
    mapping: Mapping[str, str] | None = None,
) -> Export:
    """The Excel export at ``path``, its header found and matched; refused
    (``FileRefused``, ``MappingRefused``) when it cannot be read at all. A date of birth
    after ``today`` cannot be right."""
    with _worksheet_rows(path) as rows:
        header_row, header = _header(rows)
    columns = match_columns([_text(value) for value in header], mapping)
    last_login = columns.columns.get(Field.LAST_LOGIN)

    def read() -> Iterator[Entry]:
        with _worksheet_rows(path) as rows:
            below = ((n, cells) for n, cells in rows if n > header_row)
            texts = ((n, [_text(v, i == last_login) for i, v in enumerate(c)]) for n, c in below)
            yield from read_rows(columns, texts, today=today)

    return Export(path, ExportFormat.XLSX, "row", read, columns=columns)


def _header(rows: Iterator[_Row]) -> _Row:
    for number, cells in rows:
        if any(_text(value).strip() for value in cells):
            return number, cells
    raise FileRefused("The first worksheet is empty: it has not even a header row.")


@contextmanager
def _worksheet_rows(path: Path) -> Iterator[Iterator[_Row]]:
    """The rows of the first worksheet of ``path``, numbered from 1 as Excel numbers them
    (empty rows included, as empty tuples), the workbook open until the block ends."""
    _refuse_ole(path)
    with ExitStack() as stack:
        # A file object rather than the path: openpyxl refuses a name not ending in .xlsx,
        # and the clinic may have said the file is Excel whatever its name.
        file = stack.enter_context(path.open("rb"))
        try:
            book = openpyxl.load_workbook(file, read_only=True, data_only=True)
        except OSError:
            raise
        except Exception as error:  # openpyxl says "damaged" in a dozen exception types
            raise _refusal(path, error) from None
        stack.callback(book.close)
        if not book.worksheets:
            raise FileRefused("The workbook has no worksheet to read.")
        sheet = book.worksheets[0]
        # The size a workbook records is sometimes wrong (some exporters write "A1"); read
        # every row there is instead.
        sheet.reset_dimensions()
        yield _numbered(sheet.iter_rows(values_only=True))


def _numbered(rows: Iterator[tuple[object, ...]]) -> Iterator[_Row]:
    number = 0
    try:
        for cells in rows:
            number += 1
            yield number, cells
    except OSError:
        raise
    except Exception as error:  # a damaged worksheet shows only when it is read that far
        raise FileRefused(
            f"Row {number + 1} of the workbook cannot be read ({error}); the file is damaged: "
            "open it in Excel and save it again."
        ) from None


def _refuse_ole(path: Path) -> None:
    """Refuses, with what to do, an old .xls or a workbook locked with a password: neither
    is the zip archive an .xlsx is, and openpyxl would only say "not a zip file"."""
    with path.open("rb") as file:
        if file.read(len(_OLE_MAGIC)) != _OLE_MAGIC:
            return
        tail = b""
        while block := file.read(1 << 20):
            if _ENCRYPTED_STREAM in tail + block:
                raise FileRefused(
                    "The workbook is protected by a password: open it in Excel, remove the "
                    "password (File > Info > Protect Workbook > Encrypt with Password) and "
                    "save it again."
                )
            tail = block[-len(_ENCRYPTED_STREAM) :]
    raise FileRefused(
        "The file is an old Excel 97-2003 workbook (.xls) or another Office file, not an .xlsx "
        "workbook: open it in Excel and save it as an Excel Workbook (.xlsx)."
    )


def _refusal(path: Path, error: Exception) -> FileRefused:
    with path.open("rb") as file:
        is_zip = file.read(len(_ZIP_MAGIC)) == _ZIP_MAGIC
    if not is_zip:
        return FileRefused(
            "The file is not an Excel workbook (an .xlsx file is a zip archive and this is "
            "not one); if it is a CSV export, name it .csv or say that it is CSV."
        )
    if isinstance(error, KeyError):
        return FileRefused(
            "The file is a zip archive but not an Excel workbook (it has no workbook parts); "
            "open it in Excel and save it as an Excel Workbook (.xlsx)."
        )
    detail = "its zip archive is broken" if isinstance(error, zipfile.BadZipFile) else str(error)
    return FileRefused(
        f"The workbook is damaged and cannot be read ({detail}): open it in Excel and save it "
        "again."
    )


def _text(value: object, keep_time: bool = False) -> str:
    """A cell's value as the text a person would have typed for it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        # Excel keeps dates as date-times at midnight; only a last login has a time of day.
        return value.isoformat() if keep_time else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


__all__ = ["open_xlsx"]
