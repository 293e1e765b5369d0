"""Reading a clinic's CSV export into charts and portal accounts (issue 13, points 1 and 2),
writing nothing: each row becomes a chart (with its account, when the row has a username),
or a rejection with its row number (the header is row 1) and a reason in the clinic's words.

Text is UTF-8, with or without a byte-order mark, or Windows-1252 (found out when the bytes
are not UTF-8, or said by the caller). A row is rejected only when it cannot be a chart: no
MRN, no name, no usable date of birth, or an MRN that an earlier row already had (the first
wins). A bad contact e-mail or phone is a warning: the chart comes in without it. An
account's login e-mail is the portal e-mail column when the file has one, else the chart's
e-mail, and comes in as it is, valid or not: the console then shows what it means for the
patient.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from console.models.schema import EMAIL_LENGTH, USERNAME_LENGTH
from console.models.states import AccountState
from console.services.imports.chart_rules import (
    Rejected,
    check_mrn,
    check_name,
    contact_email,
    mobile_phone,
    real_birth_date,
)
from console.services.imports.columns import ColumnMatch, Field, match_columns
from console.services.imports.source import (
    AccountRecord,
    ChartRecord,
    Entry,
    Export,
    ExportFormat,
    FileRefused,
    RowProblem,
    SourceRow,
)

_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_STATUS_WORDS = {state.value.replace("_", ""): state for state in AccountState}


def detect_encoding(path: Path, encoding: str | None = None) -> str:
    """The encoding ``path`` is read in: ``encoding`` when given (and the file is in it),
    else UTF-8 (a byte-order mark is dropped), else Windows-1252. The file is read through
    once, a block at a time."""
    candidates = [encoding] if encoding else ["utf-8-sig", "cp1252"]
    for candidate in candidates:
        try:
            decoder = codecs.getincrementaldecoder(candidate)()
        except LookupError:
            raise FileRefused(f"'{encoding}' is not an encoding this console knows.") from None
        try:
            with path.open("rb") as file:
                while block := file.read(1 << 20):
                    decoder.decode(block)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError as error:
            if encoding:
                raise FileRefused(
                    f"The file is not in the encoding '{encoding}' (byte {error.start + 1} of "
                    "a block cannot be read). Leave the encoding out to let the console find it."
                ) from None
            continue
        return candidate
    raise FileRefused(
        "The file is neither UTF-8 nor Windows-1252 text; save it as CSV (UTF-8) and try again."
    )


def open_csv(
    path: Path,
    *,
    today: dt.date,
    encoding: str | None = None,
    mapping: Mapping[str, str] | None = None,
) -> Export:
    """The CSV export at ``path``, its encoding found (or ``encoding``) and its header read
    and matched; refused (``FileRefused``, ``MappingRefused``) when it cannot be read at
    all. A date of birth after ``today`` cannot be right."""
    used = detect_encoding(path, encoding)
    with path.open(encoding=used, newline="") as file:
        headers = _header(csv.reader(file))
    columns = match_columns(headers, mapping)

    def read() -> Iterator[Entry]:
        with path.open(encoding=used, newline="") as file:
            lines = csv.reader(file)
            next(lines, None)
            yield from read_rows(columns, _numbered(lines), today=today)

    name = "utf-8" if used == "utf-8-sig" else "windows-1252" if used == "cp1252" else used
    return Export(path, ExportFormat.CSV, "row", read, encoding=name, columns=columns)


def _header(lines: Iterator[list[str]]) -> list[str]:
    try:
        return next(lines)
    except StopIteration:
        raise FileRefused("The file is empty: it has not even a header row.") from None
    except csv.Error as error:
        raise FileRefused(f"The file is not CSV ({error}).") from None


def read_rows(
    columns: ColumnMatch,
    rows: Iterable[tuple[int, Sequence[str]]],
    *,
    today: dt.date,
) -> Iterator[Entry]:
    """``rows`` (row number, cells) read as ``columns`` says: what any tabular export reads
    to. Blank rows are skipped; repeats are left to ``Export.entries``."""
    for number, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue  # a blank line, as spreadsheets leave at the end
        try:
            chart, account, said = _row(columns, cells, today)
        except Rejected as why:
            yield RowProblem(number, str(why))
            continue
        yield SourceRow(number, chart, account, tuple(said))


def _numbered(lines: Iterator[list[str]]) -> Iterator[tuple[int, Sequence[str]]]:
    number = 1
    try:
        for cells in lines:
            number += 1
            yield number, cells
    except csv.Error as error:
        raise FileRefused(f"Row {number + 1} cannot be read as CSV ({error}).") from None


_Cell = Callable[[Field], str]


def _row(
    columns: ColumnMatch, cells: Sequence[str], today: dt.date
) -> tuple[ChartRecord, AccountRecord | None, list[str]]:
    def cell(field: Field) -> str:
        position = columns.columns.get(field)
        if position is None or position >= len(cells):
            return ""
        return " ".join(cells[position].split())

    said: list[str] = []
    mrn = check_mrn(cell(Field.MRN))
    first, last = cell(Field.FIRST_NAME), cell(Field.LAST_NAME)
    check_name(first, last)
    birth_date = _birth_date(cell(Field.BIRTH_DATE), today)
    email = contact_email(cell(Field.EMAIL), said)
    phone = mobile_phone(cell(Field.MOBILE), said)
    chart = ChartRecord(mrn, first, last, birth_date, email, phone)
    return chart, _account(columns, cell, said), said


def _birth_date(text: str, today: dt.date) -> dt.date:
    if not text:
        raise Rejected("no date of birth")
    if iso := _ISO_DATE.fullmatch(text):
        year, month, day = (int(part) for part in iso.groups())
    elif us := _US_DATE.fullmatch(text):
        month, day, year = (int(part) for part in us.groups())
    else:
        raise Rejected(f"the date of birth '{text}' is not a date (YYYY-MM-DD or MM/DD/YYYY)")
    return real_birth_date(year, month, day, written=text, today=today)


def _account(columns: ColumnMatch, read: _Cell, said: list[str]) -> AccountRecord | None:
    username = read(Field.USERNAME)
    if not username:
        return None
    if len(username) > USERNAME_LENGTH:
        said.append(f"the username is longer than {USERNAME_LENGTH} characters; no account")
        return None
    status = read(Field.STATUS)
    state = _STATUS_WORDS.get(re.sub(r"[^a-z]", "", status.casefold())) if status else None
    if status and state is None:
        said.append(f"the portal status '{status[:40]}' is not one the console knows; no account")
        return None
    login = read(Field.LOGIN_EMAIL) if Field.LOGIN_EMAIL in columns.columns else None
    login = login if login else (read(Field.EMAIL) or None)
    if login is not None and len(login) > EMAIL_LENGTH:
        said.append("the login e-mail is too long to keep; no account")
        return None
    return AccountRecord(username, login, state or AccountState.LEGACY, _last_login(read, said))


def _last_login(read: _Cell, said: list[str]) -> dt.datetime | None:
    text = read(Field.LAST_LOGIN)
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        said.append(f"the last login '{text[:40]}' is not a date and time; left empty")
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


__all__ = ["detect_encoding", "open_csv", "read_rows"]
