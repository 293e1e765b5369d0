"""A FHIR R4 Patient resource read as a chart (issue 13): which identifier is the MRN, which
name, date of birth, e-mail and phone the chart takes, and what the clinic should know
about the record (inactive, deceased).

The MRN is the identifier whose type is the HL7 v2 "MR" code (medical record number). An
EHR that does not type its identifiers names the system its MRNs are issued under instead,
with the mapping key ``mrn_system`` (``{"mrn_system": "urn:oid:2.16.840.1.113883.2.4.6.3"}``,
or the row ``mrn_system,<system>`` in a mapping file): then the identifier of that system is
the MRN, whatever its type. An identifier marked ``old`` is never the MRN.

The chart's name is the official name, else the first; its first name the given names, its
last name the family name. A date of birth must be a whole date: FHIR allows "1974" or
"1974-12", which are not enough to tell two patients apart at the front desk. Of the phones,
a mobile one is preferred; of the e-mails and phones, one marked ``old`` is never taken.

Only the fields read here are checked (type by type, as FHIR's JSON format says): a resource
whose name is text rather than a list of names is rejected with the path of the field, as
FHIR validators print it (``Patient.name``), so the EHR's staff can find it. JSON ``null``
is read as an absent field. No FHIR library is used: the few fields read do not justify one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from console.services.imports.chart_rules import (
    Rejected,
    check_mrn,
    check_name,
    contact_email,
    mobile_phone,
    real_birth_date,
)
from console.services.imports.columns import MappingRefused
from console.services.imports.source import ChartRecord

#: The mapping key naming the identifier system an EHR issues its MRNs under.
MRN_SYSTEM = "mrn_system"
#: HL7 v2 table 0203, identifier types; its code "MR" is the medical record number.
IDENTIFIER_TYPES = "http://terminology.hl7.org/CodeSystem/v2-0203"
#: The extension that makes a Patient an animal (a veterinary record).
ANIMAL = "http://hl7.org/fhir/StructureDefinition/patient-animal"
_FHIR_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def mrn_system_of(mapping: Mapping[str, str] | None) -> str | None:
    """The identifier system ``mapping`` names for MRNs, or None: then the identifier typed
    "MR" is the MRN. A FHIR export has no columns, so any other key is refused."""
    named = dict(mapping or {})
    others = sorted(set(named) - {MRN_SYSTEM})
    if others:
        raise MappingRefused(
            f"The mapping names '{others[0]}', which a FHIR export has no column for (a FHIR "
            f"import reads only '{MRN_SYSTEM}', the identifier system of the clinic's MRNs)."
        )
    system = named.get(MRN_SYSTEM, "").strip()
    if MRN_SYSTEM in named and not system:
        raise MappingRefused(f"The mapping's '{MRN_SYSTEM}' is empty; name an identifier system.")
    return system or None


def read_patient(
    resource: Mapping[str, object], *, today: dt.date, mrn_system: str | None
) -> tuple[ChartRecord, list[str]]:
    """The chart the Patient ``resource`` is, and the warnings about it; ``Rejected`` when
    it cannot be one (a malformed field first, then as for any row: MRN, name, date of
    birth)."""
    patient = _Element(resource, "Patient")
    # Every field read is type-checked before any is judged, so that a malformed resource
    # is reported as malformed rather than as whatever it happens to lack.
    identifiers = [_Identifier.read(i) for i in patient.elements("identifier")]
    names = [_Name.read(n) for n in patient.elements("name")]
    birth_date = patient.text("birthDate")
    telecom = [_ContactPoint.read(t, n) for n, t in enumerate(patient.elements("telecom"))]
    active = patient.flag("active")
    deceased, deceased_at = patient.flag("deceasedBoolean"), patient.text("deceasedDateTime")
    if species := _animal(patient):
        raise Rejected(f"the record is of an animal ({species}), not a person")

    said: list[str] = []
    mrn = check_mrn(_mrn(identifiers, mrn_system))
    first, last = _name(names, said)
    check_name(first, last)
    born = _birth_date(birth_date, today)
    email = contact_email(_contact(telecom, "email"), said)
    phone = mobile_phone(_contact(telecom, "phone"), said)
    if active is False:
        said.append("the record is marked inactive in the EHR")
    if deceased_at:
        said.append(f"the patient is recorded as deceased ({deceased_at.partition('T')[0]})")
    elif deceased:
        said.append("the patient is recorded as deceased")
    return ChartRecord(mrn, first, last, born, email, phone), said


class _Element:
    """A JSON object of the resource, read field by field with the field's type checked."""

    def __init__(self, data: Mapping[str, object], path: str) -> None:
        self.data = data
        self.path = path

    def text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None or isinstance(value, str):
            return value
        raise self._wrong(key, value, "text")

    def flag(self, key: str) -> bool | None:
        value = self.data.get(key)
        if value is None or isinstance(value, bool):
            return value
        raise self._wrong(key, value, "true or false")

    def whole_number(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise self._wrong(key, value, "a whole number")

    def element(self, key: str) -> _Element | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, dict):
            return _Element(value, f"{self.path}.{key}")
        raise self._wrong(key, value, "an object")

    def elements(self, key: str) -> list[_Element]:
        elements = []
        for n, item in enumerate(self._list(key)):
            if not isinstance(item, dict):
                raise self._wrong(f"{key}[{n}]", item, "an object")
            elements.append(_Element(item, f"{self.path}.{key}[{n}]"))
        return elements

    def texts(self, key: str) -> list[str]:
        texts = []
        for n, item in enumerate(self._list(key)):
            if not isinstance(item, str):
                raise self._wrong(f"{key}[{n}]", item, "text")
            texts.append(item)
        return texts

    def _list(self, key: str) -> list[object]:
        value = self.data.get(key)
        if value is None:
            return []
        if isinstance(value, list):
            return value
        raise self._wrong(key, value, "a list")

    def _wrong(self, key: str, value: object, wanted: str) -> Rejected:
        return Rejected(f"{self.path}.{key} should be {wanted}, not {json_kind(value)}")


def json_kind(value: object) -> str:
    """What a JSON value is, in plain words ("text", "a list"…)."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null"


@dataclass(frozen=True)
class _Identifier:
    system: str | None
    value: str
    old: bool
    medical_record: bool

    @classmethod
    def read(cls, identifier: _Element) -> _Identifier:
        kind = identifier.element("type")
        codings = kind.elements("coding") if kind else []
        medical_record = any(
            c.text("system") == IDENTIFIER_TYPES and c.text("code") == "MR" for c in codings
        )
        value = _clean(identifier.text("value"))
        old = identifier.text("use") == "old"
        return cls(identifier.text("system"), value, old, medical_record)


def _mrn(identifiers: list[_Identifier], mrn_system: str | None) -> str:
    for identifier in identifiers:
        wanted = identifier.system == mrn_system if mrn_system else identifier.medical_record
        if wanted and identifier.value and not identifier.old:
            return identifier.value
    if mrn_system:
        raise Rejected(f"no MRN (no identifier of the system '{mrn_system}')")
    raise Rejected("no MRN (no identifier of type MR)")


@dataclass(frozen=True)
class _Name:
    official: bool
    given: str
    family: str
    whole: str

    @classmethod
    def read(cls, name: _Element) -> _Name:
        official = name.text("use") == "official"
        given = _clean(" ".join(name.texts("given")))
        return cls(official, given, _clean(name.text("family")), _clean(name.text("text")))


def _name(names: list[_Name], said: list[str]) -> tuple[str, str]:
    if not names:
        return "", ""
    name = next((n for n in names if n.official), names[0])
    if not name.given and not name.family and name.whole:
        # A name given only as a whole (as the Chinese example writes 张无忌): kept, since
        # the console cannot tell which part is the family name.
        said.append(
            f"the name is given only as a whole ('{name.whole[:60]}'); kept as the last name"
        )
        return "", name.whole
    return name.given, name.family


def _birth_date(text: str | None, today: dt.date) -> dt.date:
    if not text:
        raise Rejected("no date of birth")
    date = _FHIR_DATE.fullmatch(text)
    if date is None:
        raise Rejected(f"the date of birth '{text[:40]}' is not a FHIR date (YYYY-MM-DD)")
    year, month, day = date.groups()
    if day is None:
        part = "a year and month" if month else "a year"
        raise Rejected(f"the date of birth '{text}' is only {part}; a chart needs the full date")
    return real_birth_date(int(year), int(month), int(day), written=text, today=today)


@dataclass(frozen=True)
class _ContactPoint:
    system: str | None
    value: str
    use: str | None
    rank: int
    position: int

    @classmethod
    def read(cls, contact: _Element, position: int) -> _ContactPoint:
        rank = contact.whole_number("rank")
        value = _clean(contact.text("value"))
        system, use = contact.text("system"), contact.text("use")
        # Without a rank, after every ranked one (FHIR: 1 is the most preferred).
        return cls(system, value, use, rank if rank is not None else 1 << 31, position)


def _contact(telecom: list[_ContactPoint], system: str) -> str:
    """The value of the preferred contact point of ``system`` ("email" or "phone"): a
    mobile before any other phone (a number for text messages counts as a mobile), then by
    rank, then in the resource's order; one marked ``old`` is no longer in use."""
    systems = {system, "sms"} if system == "phone" else {system}
    usable = [c for c in telecom if c.system in systems and c.value and c.use != "old"]
    if not usable:
        return ""

    def preference(c: _ContactPoint) -> tuple[bool, int, int]:
        mobile = c.use == "mobile" or c.system == "sms"
        return (system == "phone" and not mobile, c.rank, c.position)

    return min(usable, key=preference).value


def _animal(patient: _Element) -> str | None:
    """The species of an animal patient (or "unknown species"), None for a person."""
    for extension in patient.elements("extension"):
        if extension.text("url") != ANIMAL:
            continue
        for part in extension.elements("extension"):
            concept = part.element("valueCodeableConcept")
            if part.text("url") == "species" and concept is not None:
                shown = [c.text("display") for c in concept.elements("coding")]
                species = concept.text("text") or next((s for s in shown if s), None)
                if species:
                    return _clean(species)
        return "unknown species"
    return None


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


__all__ = ["ANIMAL", "IDENTIFIER_TYPES", "MRN_SYSTEM", "json_kind", "mrn_system_of", "read_patient"]
