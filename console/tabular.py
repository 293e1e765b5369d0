"""Writing records as an aligned table, CSV or JSON for the headless commands.

Records are streamed: a million-row export never holds more than the first screenful in
memory (the table format measures its column widths on that first screenful).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TextIO

FORMATS = ("table", "csv", "json")
_TABLE_SAMPLE = 500
_TABLE_MAX_WIDTH = 40

Record = Mapping[str, object]


def write_records(records: Iterable[Record], columns: Sequence[str], fmt: str, out: TextIO) -> None:
    """Write ``records`` (mappings with at least ``columns``) to ``out`` in ``fmt``."""
    writer = RecordWriter(columns, fmt, out)
    for record in records:
        writer.write(record)
    writer.close()


class RecordWriter:
    """Records written one at a time as they are made (an import's report lines), in
    ``fmt``; ``close`` ends the output (the JSON array, the table's last lines)."""

    def __init__(self, columns: Sequence[str], fmt: str, out: TextIO) -> None:
        self._columns, self._fmt, self._out = tuple(columns), fmt, out
        self._count = 0
        self._sample: list[list[str]] | None = None
        self._widths: list[int] = []
        if fmt == "csv":
            self._csv = csv.writer(out, lineterminator="\n")
            self._csv.writerow(columns)
        elif fmt == "json":
            out.write("[")
        else:
            self._sample = []

    def write(self, record: Record) -> None:
        """Write one record (a mapping with at least the columns)."""
        if self._fmt == "csv":
            self._csv.writerow([_text(record[c]) for c in self._columns])
        elif self._fmt == "json":
            self._out.write(",\n " if self._count else "\n ")
            json.dump({c: _json(record[c]) for c in self._columns}, self._out, ensure_ascii=False)
        elif self._sample is not None:
            self._sample.append([_text(record[c]) for c in self._columns])
            if len(self._sample) >= _TABLE_SAMPLE:
                self._start_table()
        else:
            self._table_line([_text(record[c]) for c in self._columns])
        self._count += 1

    def close(self) -> None:
        """End the output; nothing more may be written."""
        if self._fmt == "json":
            self._out.write("\n]\n")
        elif self._sample is not None:
            self._start_table()

    def _start_table(self) -> None:
        """Measure the columns on the first screenful, then write it under the headings."""
        sample, self._sample = self._sample or [], None
        self._widths = [
            min(_TABLE_MAX_WIDTH, max([len(c), *(len(row[i]) for row in sample)]))
            for i, c in enumerate(self._columns)
        ]
        self._table_line(self._columns)
        self._table_line(["-" * w for w in self._widths])
        for row in sample:
            self._table_line(row)

    def _table_line(self, cells: Sequence[str]) -> None:
        fitted = (_fit(cell, width) for cell, width in zip(cells, self._widths, strict=True))
        self._out.write("  ".join(fitted).rstrip() + "\n")


def _fit(cell: str, width: int) -> str:
    return cell.ljust(width) if len(cell) <= width else cell[: width - 1] + "…"


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def _json(value: object) -> object:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value
