"""Reading an export in a test: the file written to a temporary folder, opened as the console
opens it, and its entries sorted into what would be imported, rejected and warned about."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console.services.imports.files import open_export
from console.services.imports.source import Export, RowProblem, SourceRow

TODAY = dt.date(2026, 12, 6)


@dataclass(frozen=True)
class Read:
    export: Export
    rows: tuple[SourceRow, ...]
    rejected: tuple[RowProblem, ...]

    @property
    def warnings(self) -> tuple[RowProblem, ...]:
        return tuple(RowProblem(r.row, text) for r in self.rows for text in r.warnings)


def read_export(path: Path, **options: Any) -> Read:
    export = open_export(path, today=TODAY, **options)
    entries = list(export.entries())
    rows = tuple(e for e in entries if isinstance(e, SourceRow))
    rejected = tuple(e for e in entries if isinstance(e, RowProblem))
    return Read(export, rows, rejected)


def write_file(folder: Path, data: bytes | str, name: str = "export.csv") -> Path:
    path = folder / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path
