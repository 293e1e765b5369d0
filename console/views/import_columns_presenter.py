"""What the import wizard's columns page says and checks, without Qt: each field an import
reads with the column it is read from, the columns left unread, what is still missing
before the preview, and a mapping file checked against the file's own columns.

The page's choices become the mapping the import opens the file with: every field named,
the ones not read with an empty header, so that a column is never read by its usual name
once staff said not to (``match_columns``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from console.services.errors import DomainError
from console.services.imports.columns import REQUIRED, ColumnMatch, Field, header_key
from console.services.imports.files import write_mapping

#: Each field in the clinic's words, in the page's order.
FIELD_LABELS: dict[Field, str] = {
    Field.MRN: "MRN",
    Field.FIRST_NAME: "First name",
    Field.LAST_NAME: "Last name",
    Field.BIRTH_DATE: "Date of birth",
    Field.EMAIL: "Contact e-mail",
    Field.MOBILE: "Mobile phone",
    Field.USERNAME: "Portal username",
    Field.LOGIN_EMAIL: "Portal login e-mail",
    Field.STATUS: "Portal status",
    Field.LAST_LOGIN: "Last portal login",
}
#: What a field's list says for "no column".
NOT_READ = "(not read)"
EVERY_COLUMN_READ = "Every column of the file is read."


@dataclass(frozen=True)
class ColumnChoice:
    """One field of the page, and the column it is read from (None: not read)."""

    field: Field
    #: The field's name, and whether it is needed ("MRN (required)").
    label: str
    header: str | None


@dataclass(frozen=True)
class ColumnsPage:
    """What the columns page shows."""

    #: The file, its number of columns and its encoding, in one line.
    about: str
    headers: tuple[str, ...]
    choices: tuple[ColumnChoice, ...]
    #: The columns no field is read from.
    unread: str


def field_label(field: Field) -> str:
    """The field's name, and whether an import needs it."""
    name = FIELD_LABELS[field]
    if field in REQUIRED:
        return f"{name} (required)"
    if field in (Field.FIRST_NAME, Field.LAST_NAME):
        return f"{name} (this or the {'last' if field is Field.FIRST_NAME else 'first'} name)"
    return name


def columns_page(
    file_name: str,
    match: ColumnMatch,
    choices: Mapping[Field, str | None],
    encoding: str | None = None,
) -> ColumnsPage:
    """The page for the file ``file_name`` whose columns are ``match``."""
    count = len(match.headers)
    about = f"{file_name} · {count} column{'' if count == 1 else 's'}"
    if encoding:
        about += f" · read as {encoding.upper() if encoding.startswith('utf') else encoding}"
    return ColumnsPage(
        about,
        match.headers,
        tuple(ColumnChoice(f, field_label(f), choices.get(f)) for f in FIELD_LABELS),
        unread_text(match, choices),
    )


def unread_text(match: ColumnMatch | None, choices: Mapping[Field, str | None]) -> str:
    """ "Not read: Favourite colour, Notes." — the file's columns no field is read from."""
    if match is None:
        return ""
    chosen = {header_key(h) for h in choices.values() if h}
    left = [h for h in match.headers if h.strip() and header_key(h) not in chosen]
    return f"Not read: {', '.join(left)}." if left else EVERY_COLUMN_READ


def still_needed_columns(choices: Mapping[Field, str | None]) -> str:
    """What must be chosen (or undone) before the preview; "" when nothing."""
    for field in REQUIRED:
        if not choices.get(field):
            return f"Choose the column that holds the {_lower(field)}."
    if not choices.get(Field.FIRST_NAME) and not choices.get(Field.LAST_NAME):
        return "Choose the column that holds the last name (or the first name)."
    fields_of: dict[str, list[Field]] = defaultdict(list)
    for field, header in choices.items():
        if header:
            fields_of[header_key(header)].append(field)
    for header in (h for h in choices.values() if h):
        both = fields_of[header_key(header)]
        if len(both) > 1:
            names = " and ".join(FIELD_LABELS[f] for f in both)
            return f"The column '{header}' is chosen for {names}: a column holds one field."
    return ""


def applied_mapping(choices: Mapping[Field, str | None]) -> dict[str, str]:
    """The mapping the import opens the file with: every field, "" for those not read."""
    return {field.value: choices.get(field) or "" for field in FIELD_LABELS}


def mapping_problem(
    match: ColumnMatch, mapping: Mapping[str, str]
) -> tuple[str, dict[Field, str | None]]:
    """A mapping file's choices for the file whose columns are ``match``, spelled as the
    file spells its headers; or why it does not fit this file (then nothing is chosen)."""
    by_key = {header_key(h): h for h in match.headers}
    chosen: dict[Field, str | None] = {}
    for name, header in mapping.items():
        try:
            field = Field(name)
        except ValueError:
            known = ", ".join(f.value for f in Field)
            return (
                f"The mapping names '{name}', which is not a field an import reads "
                f"(those are: {known}).",
                {},
            )
        if not header.strip():
            chosen[field] = None
        elif header_key(header) in by_key:
            chosen[field] = by_key[header_key(header)]
        else:
            return f"The mapping names the column '{header}', which this file has not.", {}
    return "", chosen


def save_mapping_file(path: Path, choices: Mapping[Field, str | None]) -> None:
    """Save ``choices`` as a mapping file (for the next export, or the command line); a
    ``DomainError`` says why it could not be."""
    try:
        write_mapping(path, {field: header or "" for field, header in choices.items()})
    except OSError as error:
        raise DomainError(
            f"The mapping could not be saved to {path} ({error.strerror or error}); "
            "choose another folder."
        ) from None


def _lower(field: Field) -> str:
    name = FIELD_LABELS[field]
    return name if name.isupper() else name[0].lower() + name[1:]


__all__ = [
    "EVERY_COLUMN_READ",
    "FIELD_LABELS",
    "NOT_READ",
    "ColumnChoice",
    "ColumnsPage",
    "applied_mapping",
    "columns_page",
    "field_label",
    "mapping_problem",
    "save_mapping_file",
    "still_needed_columns",
    "unread_text",
]
