"""Reading a clinic's Excel export (issue 13): real .xlsx files written with openpyxl, read as
the CSV reader reads (same headers, checks and reasons), cells turned into the text a person
would have typed, and files that are not a workbook refused in one sentence."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import msoffcrypto.format.ooxml
import openpyxl
import pytest

from console.services.imports.columns import MappingRefused
from console.services.imports.files import open_export
from console.services.imports.source import ExportFormat, FileRefused
from tests.services.imports.reading import TODAY, read_export, write_file

SHEET = "xl/worksheets/sheet1.xml"
HEADER = [
    " Chart Number ",
    "GIVEN name",
    "Surname",
    "Date of Birth",
    "E-mail Address",
    "Cell",
    "Portal Username",
    "Last Login",
    "Favourite colour",
]


def write_workbook(folder: Path, rows: dict[int, list[object]], name: str = "export.xlsx") -> Path:
    """A workbook whose first worksheet has ``rows`` (row number as Excel shows it → cells)
    and whose second worksheet, which is not read, has rows of its own."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for number, cells in rows.items():
        for column, value in enumerate(cells, start=1):
            sheet.cell(row=number, column=column, value=value)
    book.create_sheet("Notes").append(["MRN", "DOB", "Surname"])
    path = folder / name
    book.save(path)
    return path


def rewrite_sheet(path: Path, edit: Callable[[bytes], bytes]) -> Path:
    """A copy of the workbook at ``path`` with its first worksheet's XML edited."""
    edited = path.with_name(f"edited-{path.name}")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(edited, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, edit(data) if item.filename == SHEET else data)
    return edited


LOGIN = dt.datetime(2026, 11, 2, 10, 30)
MESSY: dict[int, list[object]] = {
    # row 1 is empty: the header is the first row that is not
    2: HEADER,
    3: [12345, "Ann", "Lee", dt.date(1990, 3, 4), "ann@example.org", 5550100, "ann", LOGIN, "blue"],
    4: [12346.5, "Bob", "Lee", dt.datetime(1991, 5, 6), None, None, None, None],
    # row 5 is blank
    6: ["M7", "Cy", "Lee", "1990-02-30"],  # an impossible date typed as text
    7: [12345, "Di", "Lee", dt.date(1992, 1, 1)],  # the MRN of row 3 again
    8: ["M9", "Ed", "Lee", dt.date(1980, 1, 1), "not-an-address"],  # a warning only
    9: [None, "Fay", "Lee", dt.date(1980, 1, 1)],
    10: ["M11", None, None, dt.date(1980, 1, 1)],
    11: ["M12", "Gus", "Lee", "03/04/1990", None, None, "", None, None],
}


def test_a_messy_workbook_is_read_as_a_csv_of_the_same_rows_would_be(tmp_path: Path) -> None:
    # Java-based exporters write a whole number as "12346.0" (openpyxl and Excel, as "12346").
    path = rewrite_sheet(
        write_workbook(tmp_path, MESSY), lambda xml: xml.replace(b">12346.5<", b">12346.0<")
    )
    read = read_export(path)
    assert read.export.format is ExportFormat.XLSX and read.export.unit == "row"
    assert read.export.encoding is None
    assert read.export.columns is not None
    assert read.export.columns.unknown == ("Favourite colour",)
    assert [(r.row, r.chart.mrn) for r in read.rows] == [
        (3, "12345"),  # a number in Excel, no ".0"
        (4, "12346"),  # a whole number stored as 12346.0
        (8, "M9"),
        (11, "M12"),
    ]
    assert [(p.row, p.reason) for p in read.rejected] == [
        (6, "the date of birth '1990-02-30' is not a real date"),
        (7, "MRN 12345 repeats row 3"),
        (9, "no MRN"),
        (10, "no name"),
    ]
    assert [(w.row, w.reason) for w in read.warnings] == [
        (8, "the e-mail 'not-an-address' is not a valid address; imported without it")
    ]
    ann, bob, ed, gus = read.rows
    assert ann.chart.birth_date == dt.date(1990, 3, 4)
    assert (ann.chart.first_name, ann.chart.contact_email) == ("Ann", "ann@example.org")
    assert ann.chart.mobile_phone == "5550100"
    assert ann.account is not None and ann.account.username == "ann"
    assert ann.account.last_login_at == dt.datetime(2026, 11, 2, 10, 30, tzinfo=dt.UTC)
    assert bob.chart.birth_date == dt.date(1991, 5, 6)  # a date-time cell at midnight
    assert bob.account is None and ed.chart.contact_email is None
    assert gus.chart.birth_date == dt.date(1990, 3, 4)  # a US date typed as text
    # The entries are read again, the same, each time they are asked for.
    assert list(read.export.entries()) == [*read.export.entries()]


def test_a_mapping_names_the_columns_of_a_workbook(tmp_path: Path) -> None:
    rows: dict[int, list[object]] = {1: ["Acct", "Nom", "Né le"], 2: [7, "Lee", "1990-01-01"]}
    path = write_workbook(tmp_path, rows)
    mapping = {"mrn": "acct", "last_name": "NOM", "birth_date": "ne le"}
    (row,) = read_export(path, mapping=mapping).rows
    assert (row.row, row.chart.mrn, row.chart.last_name) == (2, "7", "Lee")
    with pytest.raises(MappingRefused, match="no column for: mrn"):
        read_export(path)


def test_a_workbook_named_otherwise_is_read_when_said_to_be_excel(tmp_path: Path) -> None:
    path = write_workbook(tmp_path, {1: ["MRN", "Surname", "DOB"], 2: ["M1", "Lee", "1990-01-01"]})
    renamed = path.rename(tmp_path / "export.dat")
    (row,) = read_export(renamed, format=ExportFormat.XLSX).rows
    assert row.chart.mrn == "M1"


def test_a_file_that_is_not_a_workbook_is_one_clear_refusal(tmp_path: Path) -> None:
    csv = write_file(tmp_path, "MRN,Surname,DOB\nM1,Lee,1990-01-01\n", "renamed.xlsx")
    with pytest.raises(FileRefused, match=r"not an Excel workbook \(an \.xlsx file is a zip"):
        read_export(csv)

    good = write_workbook(tmp_path, {1: ["MRN", "Surname", "DOB"], 2: ["M1", "Lee", "1990-01-01"]})
    data = good.read_bytes()
    cut = write_file(tmp_path, data[: len(data) // 2], "cut.xlsx")
    with pytest.raises(FileRefused, match=r"^The workbook is damaged .*zip archive is broken"):
        read_export(cut)

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("notes.txt", "not a workbook")
    other_zip = write_file(tmp_path, archive.getvalue(), "other.xlsx")
    with pytest.raises(FileRefused, match="a zip archive but not an Excel workbook"):
        read_export(other_zip)

    locked = tmp_path / "locked.xlsx"
    with good.open("rb") as plain, locked.open("wb") as out:
        msoffcrypto.format.ooxml.OOXMLFile(plain).encrypt("clinic-pass", out)
    with pytest.raises(FileRefused, match="protected by a password"):
        read_export(locked)

    # An OLE compound file without an encrypted package: an Excel 97-2003 workbook.
    old = write_file(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096), "old.xlsx")
    with pytest.raises(FileRefused, match=r"old Excel 97-2003 workbook \(\.xls\)"):
        read_export(old)

    empty = write_workbook(tmp_path, {}, "empty.xlsx")
    with pytest.raises(FileRefused, match="first worksheet is empty"):
        read_export(empty)


def test_a_worksheet_damaged_below_its_header_is_refused_when_read(tmp_path: Path) -> None:
    rows: dict[int, list[object]] = {1: ["MRN", "Surname", "DOB"]}
    rows.update({n: [f"M{n}", "Lee", dt.date(1990, 1, 1)] for n in range(2, 200)})
    good = write_workbook(tmp_path, rows)
    damaged = rewrite_sheet(good, lambda xml: xml[: len(xml) // 2])
    opened = open_export(damaged, today=TODAY)  # the header reads
    with pytest.raises(FileRefused, match=r"^Row \d+ of the workbook cannot be read .* damaged"):
        list(opened.entries())
