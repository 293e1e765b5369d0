"""Writing records as an aligned table, CSV or JSON for the headless commands.

Records are streamed: a million-row export never holds more than the first screenful in
memory (the table format measures its column widths on that first screenful).
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TextIO

FORMATS = ("table", "csv", "json")
_TABLE_SAMPLE = 500
_TABLE_MAX_WIDTH = 40

Record = Mapping[str, object]


def write_records(records: Iterable[Record], columns: Sequence[str], fmt: str, out: TextIO) -> None:
    """Write ``records`` (mappings with at least ``columns``) to ``out`` in ``fmt``."""
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_text(record[c]) for c in columns] for record in records)
    elif fmt == "json":
        out.write("[")
        for index, record in enumerate(records):
            out.write(",\n " if index else "\n ")
            json.dump({c: _json(record[c]) for c in columns}, out, ensure_ascii=False)
        out.write("\n]\n")
    else:
        _write_table(records, columns, out)


def _write_table(records: Iterable[Record], columns: Sequence[str], out: TextIO) -> None:
    iterator = iter(records)
    sample = [[_text(r[c]) for c in columns] for r in itertools.islice(iterator, _TABLE_SAMPLE)]
    widths = [
        min(_TABLE_MAX_WIDTH, max([len(c), *(len(row[i]) for row in sample)]))
        for i, c in enumerate(columns)
    ]

    def line(cells: Sequence[str]) -> str:
        fitted = (_fit(cell, width) for cell, width in zip(cells, widths, strict=True))
        return "  ".join(fitted).rstrip() + "\n"

    out.write(line(columns))
    out.write(line(["-" * w for w in widths]))
    for row in sample:
        out.write(line(row))
    for record in iterator:
        out.write(line([_text(record[c]) for c in columns]))


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
