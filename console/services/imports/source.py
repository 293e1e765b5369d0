"""What every reader of a clinic's export gives (CSV, Excel, FHIR): the file opened and
checked, and its entries read again on each call, one at a time, so that a million rows
never sit in memory at once.

An entry is a ``SourceRow`` (a chart, with its portal account if the export has one, and
the warnings about it) or a ``RowProblem`` (a rejected row or resource, and why). Rows are
numbered as the clinic sees them: a spreadsheet's row (the header is row 1), or a FHIR
resource's place in the file (entry 1 is the first Patient).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TypeAlias

from console.models.states import AccountState
from console.services.errors import DomainError
from console.services.imports.columns import ColumnMatch


class FileRefused(DomainError):
    """The file cannot be read as an export at all; the message says why."""


class ExportFormat(StrEnum):
    """The kinds of export an import reads."""

    CSV = "csv"
    XLSX = "xlsx"
    FHIR = "fhir"


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
    """One row (or resource) that can be a chart, with its account if it has one, and what
    the clinic should know about it (an address left out, a chart marked deceased…)."""

    row: int
    chart: ChartRecord
    account: AccountRecord | None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class RowProblem:
    """Why row ``row`` is rejected (or, in a report, what is wrong with it)."""

    row: int
    reason: str


Entry: TypeAlias = SourceRow | RowProblem


@dataclass(frozen=True)
class Export:
    """An export file, opened and checked: ``entries()`` reads it from the start each time
    it is called (the dry run, then the import)."""

    path: Path
    format: ExportFormat
    #: What the clinic calls one record of this file: "row" or "entry".
    unit: str
    read: Callable[[], Iterator[Entry]]
    #: The encoding the text was read in (CSV), else None.
    encoding: str | None = None
    #: Which column holds what (CSV and Excel), else None.
    columns: ColumnMatch | None = None

    def entries(self) -> Iterator[Entry]:
        """Every entry of the file in order; an MRN or username seen earlier in the file is
        rejected (the chart) or left out (the account), the first one winning."""
        return first_in_file(self.read(), self.unit)


def first_in_file(entries: Iterable[Entry], unit: str = "row") -> Iterator[Entry]:
    """``entries`` with repeats taken out: a chart whose MRN an earlier entry had is
    rejected, naming that entry; an account whose username an earlier entry had is left
    out with a warning. MRNs and usernames compare whatever their case.

    Only a hash of each key is kept (a million MRNs in about 100 MB, not 250)."""
    charts: dict[int, int] = {}
    accounts: dict[int, int] = {}
    for entry in entries:
        if isinstance(entry, RowProblem):
            yield entry
            continue
        mrn = hash(entry.chart.mrn.casefold())
        if (first := charts.get(mrn)) is not None:
            yield RowProblem(entry.row, f"MRN {entry.chart.mrn} repeats {unit} {first}")
            continue
        charts[mrn] = entry.row
        if entry.account is not None:
            username = hash(entry.account.username.casefold())
            if (first := accounts.get(username)) is not None:
                said = f"the username '{entry.account.username}' repeats {unit} {first}; no account"
                entry = SourceRow(entry.row, entry.chart, None, (*entry.warnings, said))
            else:
                accounts[username] = entry.row
        yield entry


__all__ = [
    "AccountRecord",
    "ChartRecord",
    "Entry",
    "Export",
    "ExportFormat",
    "FileRefused",
    "RowProblem",
    "SourceRow",
    "first_in_file",
]
