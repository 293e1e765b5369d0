"""What makes an entry of an export a chart, whatever the kind of export (SPEC §8): the
rules the CSV, Excel and FHIR readers share, so that a row and a FHIR Patient are rejected
or warned about in the same words.

An entry is rejected (``Rejected``, its message the reason the clinic reads) only when it
cannot be a chart: no MRN, no name, no usable date of birth. A contact e-mail that is not an
address, or a phone too long to keep, is only a warning: the chart comes in without it.
Each reader says where its values come from and how its dates are written; these rules
say what is acceptable once they are read.
"""

from __future__ import annotations

import datetime as dt

from console.models import schema
from console.models.schema import NAME_LENGTH
from console.services.email_rules import validate_email
from console.services.errors import DomainError

#: The longest MRN a chart keeps (the ``patients.mrn`` column).
MRN_LENGTH = schema.MRN_LENGTH
#: The longest mobile phone a chart keeps (the ``patients.mobile_phone`` column).
PHONE_LENGTH = 40
#: No one alive was born earlier; an earlier year is a typing or an export error.
EARLIEST_BIRTH_YEAR = 1850


class Rejected(Exception):
    """An entry that cannot be a chart; ``str(error)`` is the reason, in the clinic's words."""


def check_mrn(mrn: str) -> str:
    """``mrn`` when a chart can be keyed by it; rejected when empty or too long to keep."""
    if not mrn:
        raise Rejected("no MRN")
    if len(mrn) > MRN_LENGTH:
        raise Rejected(f"the MRN is longer than {MRN_LENGTH} characters")
    return mrn


def check_name(first: str, last: str) -> None:
    """Rejects a chart with neither a first nor a last name, or a name too long to keep."""
    if not first and not last:
        raise Rejected("no name")
    if len(first) > NAME_LENGTH or len(last) > NAME_LENGTH:
        raise Rejected(f"a name is longer than {NAME_LENGTH} characters")


def real_birth_date(year: int, month: int, day: int, *, written: str, today: dt.date) -> dt.date:
    """The date of birth ``year``-``month``-``day`` (as the export wrote it: ``written``),
    rejected when no calendar has it (30 February) or when it cannot be a living
    patient's: after ``today``, or before 1850."""
    try:
        born = dt.date(year, month, day)
    except ValueError:
        raise Rejected(f"the date of birth '{written}' is not a real date") from None
    if born > today or born.year < EARLIEST_BIRTH_YEAR:
        raise Rejected(f"the date of birth '{written}' cannot be right")
    return born


def contact_email(text: str, said: list[str]) -> str | None:
    """The contact e-mail in ``text`` in its normalised form, or None when there is none or
    it is not an address (then a warning is added to ``said``: the chart comes in without
    it, since a chart without an e-mail is still a chart)."""
    if not text:
        return None
    try:
        return validate_email(text)
    except DomainError:
        said.append(f"the e-mail '{text[:60]}' is not a valid address; imported without it")
        return None


def mobile_phone(text: str, said: list[str]) -> str | None:
    """The mobile phone in ``text``, or None when there is none or it is too long to keep
    (then a warning is added to ``said``)."""
    if not text:
        return None
    if len(text) > PHONE_LENGTH:
        said.append(f"the mobile phone '{text[:20]}…' is too long; imported without it")
        return None
    return text


__all__ = [
    "EARLIEST_BIRTH_YEAR",
    "MRN_LENGTH",
    "PHONE_LENGTH",
    "Rejected",
    "check_mrn",
    "check_name",
    "contact_email",
    "mobile_phone",
    "real_birth_date",
]
