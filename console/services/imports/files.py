"""Opening a clinic's export whatever its kind (issue 13): the format by its name or as said,
the mapping file that names columns (or, for FHIR, the identifier system of the MRNs), and
the file's fingerprint for the audit log."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections.abc import Mapping
from pathlib import Path

from console.services.imports.columns import Field
from console.services.imports.fhir_file import NDJSON_SUFFIXES, open_fhir
from console.services.imports.source import Export, ExportFormat, FileRefused
from console.services.imports.tabular_file import open_csv
from console.services.imports.xlsx_file import open_xlsx

_BY_SUFFIX = {
    ".csv": ExportFormat.CSV,
    ".txt": ExportFormat.CSV,
    ".xlsx": ExportFormat.XLSX,
    ".json": ExportFormat.FHIR,
    **dict.fromkeys(NDJSON_SUFFIXES, ExportFormat.FHIR),
}


def open_export(
    path: Path,
    *,
    today: dt.date,
    format: ExportFormat | None = None,
    encoding: str | None = None,
    mapping: Mapping[str, str] | None = None,
) -> Export:
    """The export at ``path``, opened and checked: ``FileRefused`` (or ``MappingRefused``)
    says, in one sentence, why it cannot be read at all. ``format`` says what the file is
    whatever its name; ``encoding`` is for CSV only (Excel and FHIR say their own);
    ``mapping`` names columns, or for FHIR holds ``mrn_system``."""
    if not path.is_file():
        raise FileRefused(f"There is no file at {path}.")
    kind = format or _BY_SUFFIX.get(path.suffix.casefold())
    if kind is None:
        known = ", ".join(sorted(_BY_SUFFIX))
        raise FileRefused(
            f"The console cannot tell what kind of export '{path.name}' is from its name "
            f"(it knows {known}); say which."
        )
    try:
        if kind is ExportFormat.XLSX:
            return open_xlsx(path, today=today, mapping=mapping)
        if kind is ExportFormat.FHIR:
            return open_fhir(path, today=today, mapping=mapping)
        return open_csv(path, today=today, encoding=encoding, mapping=mapping)
    except OSError as error:
        raise FileRefused(f"The file cannot be read ({error.strerror}).") from None


def file_sha256(path: Path) -> str:
    """The SHA-256 of the file's bytes, as the audit event records it."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def read_mapping(path: Path) -> dict[str, str]:
    """A mapping file: a CSV of two columns, the field (``mrn``, ``first_name``…) and the
    header of the column that holds it in the export (empty: the field is not read), with a
    header row of its own. For a FHIR export its one row is ``mrn_system`` and the
    identifier system of the MRNs."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            rows = [row for row in csv.reader(file) if any(cell.strip() for cell in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise FileRefused(f"The mapping file cannot be read ({error}).") from None
    mapping: dict[str, str] = {}
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != 2 or not row[0].strip():
            raise FileRefused(
                f"Row {number} of the mapping file should be a field and a column header."
            )
        mapping[row[0].strip()] = row[1].strip()
    return mapping


def write_mapping(path: Path, mapping: Mapping[Field, str]) -> None:
    """Save ``mapping`` as a mapping file ``read_mapping`` reads back (an empty header: the
    field is not read)."""
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["field", "column"])
        writer.writerows((field.value, header) for field, header in mapping.items())


__all__ = ["file_sha256", "open_export", "read_mapping", "write_mapping"]
