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

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from console.models.schema import EMAIL_LENGTH, NAME_LENGTH, USERNAME_LENGTH
from console.models.states import AccountState
from console.services.email_rules import validate_email
from console.services.errors import DomainError
from console.services.imports.columns import ColumnMatch, Field, match_columns

MRN_LENGTH = 32
PHONE_LENGTH = 40
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_STATUS_WORDS = {state.value.replace("_", ""): state for state in AccountState}


class FileRefused(DomainError):
    """The file cannot be read as an export at all; the message says why."""


@dataclass(frozen=True)
class ChartRecord:
    """A chart as the export gives it."""

    mrn: str
    first_name: str
    last_name: str
    birth_date: dt.date
    contact_email: str | None
    mobile_phone: str | None


@dataclass(frozen=True)
class AccountRecord:
    """A portal account as the export gives it."""

    username: str
    login_email: str | None
    state: AccountState
    last_login_at: dt.datetime | None


@dataclass(frozen=True)
class SourceRow:
    """One row that can be a chart, with its account if it has one."""

    row: int
    chart: ChartRecord
    account: AccountRecord | None


@dataclass(frozen=True)
class RowProblem:
    """What is wrong with row ``row`` (rejected, or warned about)."""

    row: int
    reason: str


@dataclass(frozen=True)
class ReadFile:
    """Everything a file holds, before anything is written."""

    rows: tuple[SourceRow, ...]
    rejected: tuple[RowProblem, ...]
    warnings: tuple[RowProblem, ...]
    columns: ColumnMatch
    encoding: str


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The text of ``data`` and the encoding it was read in: ``encoding`` when given, else
    UTF-8 (a byte-order mark dropped), else Windows-1252."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (LookupError, UnicodeDecodeError) as error:
            raise FileRefused(f"The file is not in the encoding {encoding!r} ({error}).") from None
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError:
        raise FileRefused(
            "The file is neither UTF-8 nor Windows-1252 text; save it as CSV (UTF-8) and try again."
        ) from None


def read_csv(
    data: bytes,
    *,
    today: dt.date,
    encoding: str | None = None,
    mapping: Mapping[str, str] | None = None,
) -> ReadFile:
    """Every row of the CSV export ``data``, as charts, rejections and warnings (a date of
    birth after ``today`` cannot be right)."""
    text, used = decode(data, encoding)
    lines = csv.reader(io.StringIO(text, newline=""))
    try:
        headers = next(lines)
    except StopIteration:
        raise FileRefused("The file is empty: it has not even a header row.") from None
    except csv.Error as error:
        raise FileRefused(f"The file is not CSV ({error}).") from None
    return read_rows(headers, _numbered(lines), today=today, mapping=mapping, encoding=used)


def read_rows(
    headers: Sequence[str],
    rows: Iterator[tuple[int, Sequence[str]]],
    *,
    today: dt.date,
    mapping: Mapping[str, str] | None = None,
    encoding: str = "",
) -> ReadFile:
    """``rows`` (row number, cells) under ``headers``: what any tabular export reads to."""
    columns = match_columns(headers, mapping)
    found: list[SourceRow] = []
    rejected: list[RowProblem] = []
    warnings: list[RowProblem] = []
    first_row_of: dict[str, int] = {}
    for number, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue  # a blank line, as spreadsheets leave at the end
        try:
            chart, account, said = _row(columns, cells, today)
        except _Rejected as why:
            rejected.append(RowProblem(number, str(why)))
            continue
        key = chart.mrn.casefold()
        if key in first_row_of:
            rejected.append(RowProblem(number, f"MRN {chart.mrn} repeats row {first_row_of[key]}"))
            continue
        first_row_of[key] = number
        found.append(SourceRow(number, chart, account))
        warnings.extend(RowProblem(number, text) for text in said)
    return ReadFile(tuple(found), tuple(rejected), tuple(warnings), columns, encoding)


class _Rejected(Exception):
    pass


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
    mrn = cell(Field.MRN)
    if not mrn:
        raise _Rejected("no MRN")
    if len(mrn) > MRN_LENGTH:
        raise _Rejected(f"the MRN is longer than {MRN_LENGTH} characters")
    first, last = cell(Field.FIRST_NAME), cell(Field.LAST_NAME)
    if not first and not last:
        raise _Rejected("no name")
    if len(first) > NAME_LENGTH or len(last) > NAME_LENGTH:
        raise _Rejected(f"a name is longer than {NAME_LENGTH} characters")
    birth_date = _birth_date(cell(Field.BIRTH_DATE), today)
    email = _contact_email(cell(Field.EMAIL), said)
    phone = cell(Field.MOBILE) or None
    if phone is not None and len(phone) > PHONE_LENGTH:
        said.append(f"the mobile phone '{phone[:20]}…' is too long; imported without it")
        phone = None
    chart = ChartRecord(mrn, first, last, birth_date, email, phone)
    return chart, _account(columns, cell, said), said


def _birth_date(text: str, today: dt.date) -> dt.date:
    if not text:
        raise _Rejected("no date of birth")
    if iso := _ISO_DATE.fullmatch(text):
        year, month, day = (int(part) for part in iso.groups())
    elif us := _US_DATE.fullmatch(text):
        month, day, year = (int(part) for part in us.groups())
    else:
        raise _Rejected(f"the date of birth '{text}' is not a date (YYYY-MM-DD or MM/DD/YYYY)")
    try:
        born = dt.date(year, month, day)
    except ValueError:
        raise _Rejected(f"the date of birth '{text}' is not a real date") from None
    if born > today or born.year < 1850:
        raise _Rejected(f"the date of birth '{text}' cannot be right")
    return born


def _contact_email(text: str, said: list[str]) -> str | None:
    if not text:
        return None
    try:
        return validate_email(text)
    except DomainError:
        said.append(f"the e-mail '{text[:60]}' is not a valid address; imported without it")
        return None


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


__all__ = [
    "AccountRecord",
    "ChartRecord",
    "FileRefused",
    "ReadFile",
    "RowProblem",
    "SourceRow",
    "decode",
    "read_csv",
    "read_rows",
]
