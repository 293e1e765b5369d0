"""Reading a clinic's FHIR R4 export (issue 13): Patient resources, as an EHR gives them in
one of three shapes, each Patient becoming a chart (never a portal account: FHIR has none)
or a rejection with its number and a reason (what a Patient reads to is
``fhir_patient.read_patient``).

- One Patient resource in a JSON file: entry 1.
- A Bundle (a collection, a transaction, a search result…) in a JSON file: its Patients, in
  order, entry 1 being the first Patient; the other resources (observations, encounters…)
  are passed over. An entry whose resource cannot be read at all (not an object, no
  ``resourceType``) is numbered as a Patient would be, since it may have been one, and its
  reason names its place in the Bundle. A JSON file is parsed whole (as JSON must be), so
  a Bundle sits in memory while it is read; EHRs give large exports as NDJSON instead.
- An NDJSON file (a bulk export: one resource a line): read a line at a time, entry N being
  line N (blank lines are skipped, but counted, so that the number is the line an editor
  shows). A line that is not a Patient, or not JSON at all, is rejected with its reason.

A file is NDJSON when it ends in .ndjson or .jsonl, or when its first line is a whole JSON
object and another line follows. A file that is not UTF-8 JSON, or JSON that is not a FHIR
resource, is refused: it is not a FHIR export at all.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from pathlib import Path

from console.services.imports.chart_rules import Rejected
from console.services.imports.fhir_patient import json_kind, mrn_system_of, read_patient
from console.services.imports.source import (
    Entry,
    Export,
    ExportFormat,
    FileRefused,
    RowProblem,
    SourceRow,
)

NDJSON_SUFFIXES = (".ndjson", ".jsonl")
_BOM = b"\xef\xbb\xbf"


def open_fhir(
    path: Path,
    *,
    today: dt.date,
    mapping: Mapping[str, str] | None = None,
) -> Export:
    """The FHIR export at ``path``, its shape found and checked; refused (``FileRefused``,
    or ``MappingRefused`` for a mapping other than ``{"mrn_system": …}``) when it cannot be
    read at all. A date of birth after ``today`` cannot be right."""
    mrn_system = mrn_system_of(mapping)

    def patient(number: int, resource: Mapping[str, object]) -> Entry:
        try:
            chart, said = read_patient(resource, today=today, mrn_system=mrn_system)
        except Rejected as why:
            return RowProblem(number, str(why))
        return SourceRow(number, chart, None, tuple(said))

    if _is_ndjson(path):

        def read() -> Iterator[Entry]:
            for number, resource in _lines(path):
                yield resource if isinstance(resource, RowProblem) else patient(number, resource)

    else:
        _document(path)  # refused now rather than when the dry run starts

        def read() -> Iterator[Entry]:
            for number, resource in _resources(_document(path)):
                yield resource if isinstance(resource, RowProblem) else patient(number, resource)

    return Export(path, ExportFormat.FHIR, "entry", read)


_Resource = tuple[int, Mapping[str, object] | RowProblem]


def _is_ndjson(path: Path) -> bool:
    """Whether ``path`` is NDJSON (refused when its first line is not a FHIR resource);
    False for a JSON document, checked whole by ``_document``."""
    named = path.suffix.casefold() in NDJSON_SUFFIXES
    with path.open("rb") as file:
        lines = (line for line in (raw.removeprefix(_BOM) for raw in file) if line.strip())
        first = next(lines, b"")
        if not first:
            raise FileRefused("The file is empty: it holds no FHIR resource.")
        try:
            resource = json.loads(first)
        except (ValueError, RecursionError):
            resource = None  # the start of a JSON document written over several lines
        if isinstance(resource, dict) and (named or next(lines, None) is not None):
            if not isinstance(resource.get("resourceType"), str):
                raise FileRefused("The file is not FHIR: its first line has no resourceType.")
            return True
    if named:
        raise FileRefused(
            "The file is not FHIR NDJSON: its first line is not a JSON resource on one line."
        )
    return False


def _document(path: Path) -> dict[str, object]:
    """The JSON document in ``path``: one resource (a Patient, a Bundle…)."""
    try:
        with path.open(encoding="utf-8-sig") as file:
            document = json.load(file)
    except UnicodeDecodeError:
        raise FileRefused("The file is not UTF-8 text, as a FHIR JSON export is.") from None
    except json.JSONDecodeError as error:
        raise FileRefused(
            f"The file is not JSON (line {error.lineno}, character {error.colno}: {error.msg})."
        ) from None
    except (ValueError, RecursionError):
        raise FileRefused("The file is not JSON that the console can read.") from None
    if not isinstance(document, dict):
        raise FileRefused(f"The file is not FHIR: it holds {json_kind(document)}, not a resource.")
    if not isinstance(document.get("resourceType"), str):
        raise FileRefused("The file is JSON but not FHIR: it has no resourceType.")
    if document["resourceType"] == "Bundle" and not isinstance(document.get("entry", []), list):
        raise FileRefused("The file's Bundle is malformed: its entry is not a list.")
    return document


def _resources(document: dict[str, object]) -> Iterator[_Resource]:
    """The Patients of a JSON document (or why one cannot be read), numbered."""
    if document["resourceType"] != "Bundle":
        yield 1, _as_patient(document)
        return
    entries = document.get("entry") or []
    assert isinstance(entries, list)  # checked by _document
    number = 0
    for place, entry in enumerate(entries):
        where = f"Bundle.entry[{place}]"
        if not isinstance(entry, dict):
            number += 1
            yield number, RowProblem(number, f"{where} should be an object, not {json_kind(entry)}")
            continue
        resource = entry.get("resource")
        if resource is None:
            continue  # a deletion in a transaction, or a response: no resource, rightly
        readable = isinstance(resource, dict) and isinstance(resource.get("resourceType"), str)
        if readable and resource["resourceType"] != "Patient":
            continue
        number += 1
        if readable:
            yield number, resource
        else:
            yield number, RowProblem(number, f"{where}.resource {_why_not(resource)}")


def _lines(path: Path) -> Iterator[_Resource]:
    """The resources of an NDJSON file, a line at a time, numbered by line."""
    with path.open("rb") as file:
        for number, raw in enumerate(file, start=1):
            line = raw.removeprefix(_BOM) if number == 1 else raw
            if not line.strip():
                continue
            try:
                resource = json.loads(line.decode("utf-8"))
            except UnicodeDecodeError:
                yield number, RowProblem(number, "the line is not UTF-8 text")
                continue
            except json.JSONDecodeError as error:
                said = f"the line is not JSON ({error.msg} at character {error.colno})"
                yield number, RowProblem(number, said)
                continue
            except (ValueError, RecursionError):
                yield number, RowProblem(number, "the line is not JSON that the console can read")
                continue
            yield number, _as_patient(resource, number)


def _as_patient(resource: object, number: int = 1) -> Mapping[str, object] | RowProblem:
    if isinstance(resource, dict) and resource.get("resourceType") == "Patient":
        return resource
    if isinstance(resource, dict) and isinstance(resource.get("resourceType"), str):
        kind = resource["resourceType"]
        return RowProblem(number, f"the resource is of type {kind[:40]}, not Patient")
    return RowProblem(number, f"the resource {_why_not(resource)}")


def _why_not(resource: object) -> str:
    """Why ``resource`` (not a readable resource) is not one, to follow "the resource"."""
    if not isinstance(resource, dict):
        return f"should be an object, not {json_kind(resource)}"
    if "resourceType" in resource:
        return f"has a resourceType that is {json_kind(resource['resourceType'])}, not a name"
    return "has no resourceType"


__all__ = ["NDJSON_SUFFIXES", "open_fhir"]
