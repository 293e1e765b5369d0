"""Which column of a clinic's export holds what (issue 13, point 1): header names matched
whatever their case, spacing, punctuation or accents against the names EHRs and portals use,
or named outright by a mapping; the columns nobody asked for are listed, never guessed."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from console.services.errors import DomainError


class Field(StrEnum):
    """What an import reads from a row."""

    MRN = "mrn"
    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    BIRTH_DATE = "birth_date"
    EMAIL = "email"
    MOBILE = "mobile"
    USERNAME = "portal_username"
    LOGIN_EMAIL = "portal_email"
    STATUS = "portal_status"
    LAST_LOGIN = "last_login"


#: The header names each field goes by in the exports clinics bring.
SYNONYMS: dict[Field, tuple[str, ...]] = {
    Field.MRN: ("MRN", "Chart Number", "Chart No", "Patient ID", "Medical Record Number"),
    Field.FIRST_NAME: ("First Name", "Given Name", "Forename"),
    Field.LAST_NAME: ("Last Name", "Family Name", "Surname"),
    Field.BIRTH_DATE: ("DOB", "Date of Birth", "Birth Date", "Birthdate"),
    Field.EMAIL: ("Email", "E-mail Address", "Email Address", "Contact Email"),
    Field.MOBILE: ("Mobile", "Mobile Phone", "Cell", "Cell Phone"),
    Field.USERNAME: ("Portal Username", "Username", "User Name"),
    Field.LOGIN_EMAIL: ("Portal Email", "Login Email", "Portal Login Email"),
    Field.STATUS: ("Portal Status", "Status", "Account Status"),
    Field.LAST_LOGIN: ("Last Login", "Last Login At", "Last Sign In"),
}

#: Without these a row cannot be a chart.
REQUIRED = (Field.MRN, Field.BIRTH_DATE)


class MappingRefused(DomainError):
    """A header or a mapping that cannot be used; the message says which and why.

    When the only trouble is a field no column was found for, ``match`` is what was found
    (the file's headers, and the fields their names or the mapping gave), so that staff can
    be shown the file's columns and name the missing one; otherwise it is None."""

    def __init__(self, message: str, match: ColumnMatch | None = None) -> None:
        super().__init__(message)
        self.match = match


def header_key(name: str) -> str:
    """``name`` as headers are compared: accents, case, spaces and punctuation ignored
    ("E-mail Address" and "email address" alike)."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed.casefold() if c.isalnum())


_BY_KEY = {header_key(name): field for field, names in SYNONYMS.items() for name in names}


@dataclass(frozen=True)
class ColumnMatch:
    """Which column (by position) holds each field, and the columns left unread."""

    columns: dict[Field, int]
    headers: tuple[str, ...]
    unknown: tuple[str, ...]

    def header_of(self, field: Field) -> str:
        """The header of the column read as ``field``."""
        return self.headers[self.columns[field]]


def match_columns(headers: Sequence[str], mapping: Mapping[str, str] | None = None) -> ColumnMatch:
    """The fields ``headers`` hold: by ``mapping`` (field name → header, as typed in the
    file) where it names one, else by the usual names; a field the mapping gives an empty
    header is not read at all, even from a column with its usual name (an EHR's "Status"
    that is not the portal's). Refuses a file without an MRN or a date-of-birth column, and
    two columns read as the same field."""
    keys = [header_key(h) for h in headers]
    columns: dict[Field, int] = {}
    left_out: set[Field] = set()
    named = dict(mapping or {})
    for field_name, header in named.items():
        try:
            field = Field(field_name)
        except ValueError:
            known = ", ".join(f.value for f in Field)
            raise MappingRefused(
                f"The mapping names '{field_name}', which is not a field an import reads "
                f"(those are: {known})."
            ) from None
        if not header.strip():
            left_out.add(field)
            continue
        if header_key(header) not in keys:
            raise MappingRefused(
                f"The mapping names the column '{header}', which the file has not."
            )
        columns[field] = keys.index(header_key(header))
    for position, key in enumerate(keys):
        usual = _BY_KEY.get(key)
        if usual is None or usual in columns or usual in left_out or position in columns.values():
            continue
        columns[usual] = position
    used = set(columns.values())
    unknown = tuple(h for i, h in enumerate(headers) if i not in used and h.strip())
    found = ColumnMatch(columns, tuple(headers), unknown)
    missing = [f for f in REQUIRED if f not in columns]
    if Field.FIRST_NAME not in columns and Field.LAST_NAME not in columns:
        missing.append(Field.LAST_NAME)
    if missing:
        wanted = "; ".join(f"{f.value} ({', '.join(SYNONYMS[f][:3])}…)" for f in missing)
        raise MappingRefused(
            f"The file has no column for: {wanted}. Rename the column or name it in a mapping.",
            found,
        )
    return found


__all__ = [
    "REQUIRED",
    "SYNONYMS",
    "ColumnMatch",
    "Field",
    "MappingRefused",
    "header_key",
    "match_columns",
]
