"""Reading a clinic's CSV export (issue 13, points 1 and 2): headers by their usual names or
a mapping, encodings, quoting, dates, and what is rejected or only warned about."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from console.models.states import AccountState
from console.services.imports.columns import Field, MappingRefused, header_key, match_columns
from console.services.imports.files import read_mapping, write_mapping
from console.services.imports.source import FileRefused, FirstSeen
from tests.services.imports.reading import Read, read_export, write_file


@pytest.fixture
def read(tmp_path: Path) -> Callable[[str], Read]:
    return lambda text: read_export(write_file(tmp_path, text))


def test_headers_match_whatever_their_case_spacing_punctuation_or_accents() -> None:
    assert header_key(" E-mail Address ") == header_key("email address") == "emailaddress"
    assert header_key("Prénom") == "prenom"
    match = match_columns(
        [
            "Chart Number",
            "GIVEN NAME",
            "surname",
            "Date of Birth",
            "Contact Email",
            "Cell",
            "Username",
            "Login Email",
            "Status",
            "Last Login",
            "Favourite colour",
        ]
    )
    assert match.columns == {
        Field.MRN: 0,
        Field.FIRST_NAME: 1,
        Field.LAST_NAME: 2,
        Field.BIRTH_DATE: 3,
        Field.EMAIL: 4,
        Field.MOBILE: 5,
        Field.USERNAME: 6,
        Field.LOGIN_EMAIL: 7,
        Field.STATUS: 8,
        Field.LAST_LOGIN: 9,
    }
    assert match.unknown == ("Favourite colour",)


def test_a_mapping_names_columns_and_bad_ones_are_refused() -> None:
    match = match_columns(
        ["Acct", "Nom", "Né le"], {"mrn": "acct", "last_name": "NOM", "birth_date": "ne le"}
    )
    assert match.columns == {Field.MRN: 0, Field.LAST_NAME: 1, Field.BIRTH_DATE: 2}
    with pytest.raises(MappingRefused, match="'colour', which is not a field"):
        match_columns(["MRN"], {"colour": "MRN"})
    with pytest.raises(MappingRefused, match="which the file has not"):
        match_columns(["MRN", "DOB", "Surname"], {"mrn": "Chart"})
    with pytest.raises(MappingRefused, match="no column for: birth_date"):
        match_columns(["MRN", "Surname"])


def test_utf8_with_or_without_bom_and_windows_1252(tmp_path: Path) -> None:
    text = "MRN,First Name,Last Name,DOB\nM1,José,Müller,1980-01-02\n"
    for data in (text.encode("utf-8"), b"\xef\xbb\xbf" + text.encode("utf-8")):
        read = read_export(write_file(tmp_path, data))
        assert read.export.encoding == "utf-8"
        assert read.export.columns is not None and read.export.columns.headers[0] == "MRN"
        assert read.rows[0].chart.first_name == "José"
    path_1252 = write_file(tmp_path, text.encode("cp1252"))
    read_1252 = read_export(path_1252)
    assert read_1252.export.encoding == "windows-1252"
    assert read_1252.rows[0].chart.first_name == "José"
    said = read_export(path_1252, encoding="cp1252")
    assert said.rows[0].chart.last_name == "Müller"
    with pytest.raises(FileRefused, match="not in the encoding 'ascii'"):
        read_export(write_file(tmp_path, text), encoding="ascii")
    with pytest.raises(FileRefused, match="'klingon' is not an encoding"):
        read_export(write_file(tmp_path, text), encoding="klingon")


def test_quoted_fields_with_commas_quotes_and_line_breaks(read: Callable[[str], Read]) -> None:
    text = (
        "MRN,Last Name,First Name,DOB,Mobile\n"
        '"M1","O\'Brien, Jr.","Anne ""Annie""",03/04/1990,"555-0100\n ext 2"\n'
    )
    (row,) = read(text).rows
    assert row.chart.last_name == "O'Brien, Jr." and row.chart.first_name == 'Anne "Annie"'
    assert row.chart.birth_date == dt.date(1990, 3, 4)  # US month/day/year
    assert row.chart.mobile_phone == "555-0100 ext 2"


def test_what_is_rejected_with_its_row_number_and_what_is_not(
    read: Callable[[str], Read],
) -> None:
    text = "\n".join(
        [
            "MRN,First Name,Last Name,DOB,Email",
            "M1,Ann,Lee,1990-01-31,ann@example.org",  # row 2
            ",Bob,Lee,1990-01-31,",  # 3: no MRN
            "M3,,,1990-01-31,",  # 4: no name
            "M4,Cy,Lee,1990-02-30,",  # 5: impossible date
            "M5,Di,Lee,13/45/1990,",  # 6: impossible date
            "M6,Ed,Lee,,",  # 7: no date
            "M1,Fay,Lee,1991-05-05,",  # 8: MRN repeated
            "M8,Gus,Lee,2/3/2001,not-an-address",  # 9: bad e-mail: warning only
            "m1,Hal,Lee,1992-01-01,",  # 10: the same MRN in another case
            "",
        ]
    )
    result = read(text)
    assert [(r.row, r.chart.mrn) for r in result.rows] == [(2, "M1"), (9, "M8")]
    assert [(p.row, p.reason) for p in result.rejected] == [
        (3, "no MRN"),
        (4, "no name"),
        (5, "the date of birth '1990-02-30' is not a real date"),
        (6, "the date of birth '13/45/1990' is not a real date"),
        (7, "no date of birth"),
        (8, "MRN M1 repeats row 2"),
        (10, "MRN m1 repeats row 2"),
    ]
    (warning,) = result.warnings
    assert warning.row == 9 and "not-an-address" in warning.reason
    assert result.rows[1].chart.contact_email is None
    assert result.rows[1].chart.birth_date == dt.date(2001, 2, 3)


def test_accounts_their_login_email_and_their_status(read: Callable[[str], Read]) -> None:
    text = "\n".join(
        [
            "MRN,Last Name,DOB,Email,Portal Username,Portal Email,Portal Status,Last Login",
            "M1,Lee,1990-01-01,chart@example.org,ann,login@example.org,RESET_PENDING,",
            "M2,Lee,1990-01-01,chart2@example.org,bob,,Reset pending,2026-11-02T10:00:00",
            "M3,Lee,1990-01-01,,cy,not an address,,",
            "M4,Lee,1990-01-01,,,,Migrated,",
            "M5,Lee,1990-01-01,,di,,Archived,",
        ]
    )
    rows = {r.chart.mrn: r for r in read(text).rows}
    ann, bob, cy = (rows[m].account for m in ("M1", "M2", "M3"))
    assert ann.login_email == "login@example.org" and ann.state is AccountState.RESET_PENDING
    assert bob.login_email == "chart2@example.org"  # no portal e-mail: the chart's
    assert bob.state is AccountState.RESET_PENDING
    assert bob.last_login_at == dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC)
    assert cy.login_email == "not an address" and cy.state is AccountState.LEGACY  # as it is
    assert rows["M4"].account is None  # no username, no account
    assert rows["M5"].account is None  # an unknown status: the chart, not the account


def test_an_empty_broken_or_missing_file_is_one_clear_refusal(tmp_path: Path) -> None:
    with pytest.raises(FileRefused, match="empty"):
        read_export(write_file(tmp_path, b""))
    with pytest.raises(FileRefused, match="neither UTF-8 nor Windows-1252"):
        read_export(write_file(tmp_path, b"MRN,DOB\n\x81\x8d\x8f\x90\x9d"))
    with pytest.raises(FileRefused, match="There is no file"):
        read_export(tmp_path / "gone.csv")
    with pytest.raises(FileRefused, match=r"cannot tell what kind of export 'x\.pdf' is"):
        read_export(write_file(tmp_path, b"%PDF", "x.pdf"))


def test_a_username_repeated_in_the_file_keeps_the_chart_without_the_account(
    read: Callable[[str], Read],
) -> None:
    result = read("MRN,Last Name,DOB,Username\nM1,Lee,1990-01-01,ann\nM2,Lee,1990-01-01,ANN\n")
    first, second = result.rows
    assert first.account is not None and second.account is None
    assert second.warnings == ("the username 'ANN' repeats row 2; no account",)


def test_a_mapping_file_round_trips_and_bad_ones_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "mapping.csv"
    write_mapping(path, {Field.MRN: "Acct No", Field.BIRTH_DATE: "Né le"})
    assert read_mapping(path) == {"mrn": "Acct No", "birth_date": "Né le"}
    path.write_text("field,column\nmrn\n", encoding="utf-8")
    with pytest.raises(FileRefused, match="Row 2 of the mapping file"):
        read_mapping(path)
    export = write_file(tmp_path, "Acct No,Surname,Né le\nA1,Lee,1990-01-01\n")
    write_mapping(path, {Field.MRN: "Acct No", Field.BIRTH_DATE: "Né le"})
    (row,) = read_export(export, mapping=read_mapping(path)).rows
    assert row.chart.mrn == "A1" and row.chart.birth_date == dt.date(1990, 1, 1)


def test_the_first_row_of_each_key_is_remembered_across_growth() -> None:
    seen = FirstSeen()
    assert all(seen.first(f"mrn{n}", n + 2) is None for n in range(5_000))
    assert [seen.first(f"mrn{n}", 0) for n in (0, 1_234, 4_999)] == [2, 1_236, 5_001]
    assert seen.first("mrn5000", 7) is None and seen.first("mrn5000", 8) == 7


def test_a_refusal_for_a_missing_column_says_what_the_file_has() -> None:
    """The window shows the file's columns so that staff can name the missing one."""
    with pytest.raises(MappingRefused, match="no column for: mrn") as refused:
        match_columns(["Acct No", "Surname", "DOB", "Favourite colour"])
    found = refused.value.match
    assert found is not None
    assert found.headers == ("Acct No", "Surname", "DOB", "Favourite colour")
    assert found.columns == {Field.LAST_NAME: 1, Field.BIRTH_DATE: 2}
    assert found.unknown == ("Acct No", "Favourite colour")
    with pytest.raises(MappingRefused, match="which the file has not") as unusable:
        match_columns(["MRN", "DOB", "Surname"], {"mrn": "Chart"})
    assert unusable.value.match is None


def test_a_field_mapped_to_no_column_is_not_read_even_by_its_usual_name(tmp_path: Path) -> None:
    """An EHR's "Status" (of the chart, not of a portal account) left unread."""
    headers = ["MRN", "Surname", "DOB", "Username", "Status"]
    assert match_columns(headers).columns[Field.STATUS] == 4
    match = match_columns(headers, {"portal_status": ""})
    assert Field.STATUS not in match.columns and match.unknown == ("Status",)
    with pytest.raises(MappingRefused, match="no column for: mrn"):
        match_columns(headers, {"mrn": " "})
    mapping = tmp_path / "mapping.csv"
    write_mapping(mapping, {Field.MRN: "MRN", Field.STATUS: ""})
    assert read_mapping(mapping) == {"mrn": "MRN", "portal_status": ""}
    export = write_file(tmp_path, "MRN,Surname,DOB,Username,Status\nM1,Lee,1990-01-01,ann,Active\n")
    (row,) = read_export(export, mapping=read_mapping(mapping)).rows
    assert row.account is not None and row.account.state is AccountState.LEGACY
    assert row.warnings == ()  # "Active" is not read as a portal status
