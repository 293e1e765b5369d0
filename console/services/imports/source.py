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
from array import array
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
    out with a warning. MRNs and usernames compare whatever their case."""
    charts, accounts = FirstSeen(), FirstSeen()
    for entry in entries:
        if isinstance(entry, RowProblem):
            yield entry
            continue
        if (first := charts.first(entry.chart.mrn.casefold(), entry.row)) is not None:
            yield RowProblem(entry.row, f"MRN {entry.chart.mrn} repeats {unit} {first}")
            continue
        account = entry.account
        if account is not None and (
            first := accounts.first(account.username.casefold(), entry.row)
        ):
            said = f"the username '{account.username}' repeats {unit} {first}; no account"
            entry = SourceRow(entry.row, entry.chart, None, (*entry.warnings, said))
        yield entry


class FirstSeen:
    """Which entry first had each key: an open-addressing table of two flat arrays (the
    keys' 64-bit hashes and their rows, 16 bytes a slot), so that the MRNs and usernames
    of a million rows take about 50 MB rather than the 200 MB of two dicts. Two keys with
    one hash (about one chance in ten billion in a million rows) count as one."""

    def __init__(self) -> None:
        self._hashes = array("q", bytes(8 * 1024))
        self._rows = array("q", bytes(8 * 1024))
        self._count = 0

    def first(self, key: str, row: int) -> int | None:
        """The row that had ``key`` first; None, and ``row`` remembered, when none did."""
        wanted = hash(key) or 1  # 0 marks an empty slot
        hashes, mask = self._hashes, len(self._hashes) - 1
        slot = wanted & mask
        while (found := hashes[slot]) != 0:
            if found == wanted:
                return self._rows[slot]
            slot = (slot + 1) & mask
        hashes[slot], self._rows[slot] = wanted, row
        self._count += 1
        if 2 * self._count > len(hashes):
            self._grow()
        return None

    def _grow(self) -> None:
        old = zip(self._hashes, self._rows, strict=True)
        size = 2 * len(self._hashes)
        self._hashes, self._rows = array("q", bytes(8 * size)), array("q", bytes(8 * size))
        mask = size - 1
        for wanted, row in old:
            if wanted:
                slot = wanted & mask
                while self._hashes[slot] != 0:
                    slot = (slot + 1) & mask
                self._hashes[slot], self._rows[slot] = wanted, row


__all__ = [
    "AccountRecord",
    "ChartRecord",
    "Entry",
    "Export",
    "ExportFormat",
    "FileRefused",
    "FirstSeen",
    "RowProblem",
    "SourceRow",
    "first_in_file",
]
