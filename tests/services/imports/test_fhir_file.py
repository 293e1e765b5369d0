"""Reading a clinic's FHIR R4 export (issue 13): the specification's own Patient examples and
two Synthea bundles (tests/fixtures/fhir, provenance in their SOURCES.md), the MRN found by
type or by the system a mapping names, and malformed resources, Bundles and NDJSON lines
each reported with its number and a reason rather than a crash."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from console.services.imports.columns import MappingRefused
from console.services.imports.files import read_mapping
from console.services.imports.source import ChartRecord, ExportFormat, FileRefused
from tests.services.imports.reading import read_export, write_file

FIXTURES = Path(__file__).parents[2] / "fixtures" / "fhir"
MR = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}
#: The Dutch citizen service number (BSN), the only identifier of two of the examples.
BSN = "urn:oid:2.16.840.1.113883.2.4.6.3"


def chart(
    mrn: str,
    first: str,
    last: str,
    born: dt.date,
    email: str | None = None,
    phone: str | None = None,
) -> ChartRecord:
    return ChartRecord(mrn, first, last, born, email, phone)


#: What each published example is, as read from what it contains: a chart and its warnings,
#: or the reason it is rejected.
SPEC_EXAMPLES: dict[str, tuple[ChartRecord, tuple[str, ...]] | str] = {
    # The official name, the mobile phone rather than the work or the "old" one.
    "patient-example.json": (
        chart("12345", "Peter James", "Chalmers", dt.date(1974, 12, 25), None, "(03) 3410 5613"),
        (),
    ),
    "patient-example-a.json": "no date of birth",
    "patient-example-b.json": "no date of birth",
    "patient-example-c.json": (
        chart("123457", "Simon", "Notsowell", dt.date(1982, 1, 23)),
        ("the patient is recorded as deceased (2015-02-14)",),
    ),
    "patient-example-d.json": (
        chart("123458", "Sandy", "Notsowell", dt.date(1982, 8, 2)),
        ("the patient is recorded as deceased",),
    ),
    # The name only as a whole, and only a work phone: taken, as no mobile is given.
    "patient-example-chinese.json": (
        chart("3112219680806371X", "", "张无忌", dt.date(1974, 12, 25), None, "18337177888"),
        ("the name is given only as a whole ('张无忌'); kept as the last name",),
    ),
    "patient-example-infant-twin-1.json": (
        chart("MRN7465737865", "Jaina", "Solo", dt.date(2017, 5, 15)),
        (),
    ),
    # A dog, with a dog tag and no MRN: the animal is what the clinic needs to hear.
    "patient-example-animal.json": "the record is of an animal (Dog), not a person",
    # An MRN, but neither a name nor a date of birth: the first missing is said, as for a row.
    "patient-example-infant-fetal.json": "no name",
    # Identifiers without a type (a BSN) or of another type (a social security number).
    "patient-example-f001-pieter.json": "no MRN (no identifier of type MR)",
    "patient-example-f201-roel.json": "no MRN (no identifier of type MR)",
    "patient-example-mom.json": "no MRN (no identifier of type MR)",
}


def test_every_specification_example_has_its_outcome_decided() -> None:
    assert sorted(p.name for p in (FIXTURES / "spec").glob("*.json")) == sorted(SPEC_EXAMPLES)
    assert (FIXTURES / "spec" / "SOURCES.md").is_file()
    assert (FIXTURES / "synthea" / "SOURCES.md").is_file()


@pytest.mark.parametrize("name", sorted(SPEC_EXAMPLES))
def test_a_specification_example_is_a_chart_or_a_reason(name: str) -> None:
    read = read_export(FIXTURES / "spec" / name)
    assert read.export.format is ExportFormat.FHIR and read.export.unit == "entry"
    assert read.export.columns is None and read.export.encoding is None
    expected = SPEC_EXAMPLES[name]
    if isinstance(expected, str):
        assert read.rows == ()
        assert [(p.row, p.reason) for p in read.rejected] == [(1, expected)]
    else:
        (row,) = read.rows
        assert (row.row, row.chart, row.warnings, row.account) == (1, *expected, None)
        assert read.rejected == ()


def test_a_mapping_names_the_identifier_system_of_the_mrns() -> None:
    spec = FIXTURES / "spec"
    (pieter,) = read_export(
        spec / "patient-example-f001-pieter.json", mapping={"mrn_system": BSN}
    ).rows
    # Its second BSN identifier has no value: the first with one is the MRN.
    assert pieter.chart == chart(
        "738472983",
        "Pieter",
        "van de Heuvel",
        dt.date(1944, 11, 17),
        "p.heuvel@gmail.com",
        "0648352638",
    )
    (roel,) = read_export(spec / "patient-example-f201-roel.json", mapping={"mrn_system": BSN}).rows
    assert roel.chart == chart(
        "123456789", "Roelof Olaf", "Bor", dt.date(1960, 3, 13), None, "+31612345678"
    )
    # With a system named, an identifier typed MR of another system is not the MRN.
    other = read_export(spec / "patient-example.json", mapping={"mrn_system": BSN})
    assert [p.reason for p in other.rejected] == [f"no MRN (no identifier of the system '{BSN}')"]


def test_a_mapping_file_names_the_system_and_column_names_are_refused(tmp_path: Path) -> None:
    mapping_file = write_file(tmp_path, f"field,column\nmrn_system,{BSN}\n", "mapping.csv")
    example = FIXTURES / "spec" / "patient-example-f201-roel.json"
    (row,) = read_export(example, mapping=read_mapping(mapping_file)).rows
    assert row.chart.mrn == "123456789"
    with pytest.raises(MappingRefused, match="names 'mrn', which a FHIR export has no column"):
        read_export(example, mapping={"mrn": "MRN"})
    with pytest.raises(MappingRefused, match="'mrn_system' is empty"):
        read_export(example, mapping={"mrn_system": " "})


@pytest.mark.parametrize(
    ("name", "kind", "entries", "expected"),
    [
        (
            "Alfonzo975_Hickle134_cd3d3588-94fc-b980-9e94-0390d989d921.json",
            "collection",
            154,
            ("cd3d3588-94fc-b980-9e94-0390d989d921", "Alfonzo975", "Hickle134", "1994-01-20"),
        ),
        (
            "Clemente_Kreiger_1484a42d-0eaf-4654-9cbf-6b050a5cd73b.json",
            "transaction",
            70,
            ("1484a42d-0eaf-4654-9cbf-6b050a5cd73b", "Clemente", "Kreiger", "1984-07-02"),
        ),
    ],
)
def test_a_synthea_bundle_is_one_chart_among_its_other_resources(
    name: str, kind: str, entries: int, expected: tuple[str, str, str, str]
) -> None:
    bundle = json.loads((FIXTURES / "synthea" / name).read_text(encoding="utf-8"))
    assert (bundle["type"], len(bundle["entry"])) == (kind, entries)
    (row,) = read_export(FIXTURES / "synthea" / name).rows
    # Synthea's MRN is a UUID, 36 characters: a chart keeps up to 64.
    mrn, first, last, born = expected
    assert (row.chart.mrn, row.chart.first_name, row.chart.last_name) == (mrn, first, last)
    assert row.chart.birth_date == dt.date.fromisoformat(born)
    # Only a home phone: taken, as no mobile is given.
    assert row.chart.mobile_phone is not None and row.chart.contact_email is None
    assert (row.row, row.account, row.warnings) == (1, None, ())


def patient(mrn: str | None, **fields: Any) -> dict[str, Any]:
    """A Patient with an MR identifier ``mrn`` (none when None), a name and a date of birth,
    ``fields`` replacing or adding to them."""
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "name": [{"use": "official", "family": "Lee", "given": ["Ann", "Marie"]}],
        "birthDate": "1990-01-31",
    }
    if mrn is not None:
        resource["identifier"] = [{"type": MR, "system": "urn:clinic", "value": mrn}]
    return resource | fields


def test_malformed_lines_of_an_ndjson_export_are_rejected_with_their_reasons(
    tmp_path: Path,
) -> None:
    lines: list[Any] = [
        patient(
            "N1",
            telecom=[
                {"system": "phone", "value": "555-0100", "use": "home"},
                {"system": "email", "value": "ann@example.org"},
                {"system": "phone", "value": "555-0199", "use": "mobile", "rank": 2},
                {"system": "phone", "value": "555-0111", "use": "old"},
            ],
            active=True,
        ),
        "",  # 2: a blank line, skipped but counted
        patient("N3", name="Peter Chalmers"),
        patient("N4", birthDate="1990-02-30"),
        "this is not json",
        {"resourceType": "Observation", "status": "final"},
        [1, 2],
        {"name": [{"family": "Lee"}], "birthDate": "1990-01-01"},
        patient("N9", birthDate="1990-05"),
        patient(None, identifier=[{"type": MR, "value": 12345}]),
        patient("N1"),
        patient(
            "N12",
            active=False,
            deceasedDateTime="2020-03-04T05:06:07Z",
            telecom=[
                {"system": "email", "value": "not-an-address"},
                {"system": "phone", "value": "555-0111", "use": "old"},
                {"system": "phone", "value": "555-0122", "use": "work"},
            ],
        ),
        patient("N13", name=[{"given": "Ann"}]),
        patient(None, identifier=[{"use": "old", "type": MR, "value": "N14"}]),
        patient("N15", birthDate="03/04/1990"),
        patient("N16", active="yes"),
        patient(
            "N17",
            name=[
                {"use": "usual", "given": ["Jim"]},
                {"use": "official", "family": "Chalmers", "given": ["Peter", " James "]},
            ],
            telecom=[
                {"system": "phone", "value": "555-0100", "use": "home", "rank": 1},
                {"system": "sms", "value": "555-0177"},
            ],
        ),
        patient("N18", birthDate="1849-12-31"),
    ]
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    read = read_export(write_file(tmp_path, text + "\n\n", "Patient.ndjson"))
    assert [(p.row, p.reason) for p in read.rejected] == [
        (3, "Patient.name should be a list, not text"),
        (4, "the date of birth '1990-02-30' is not a real date"),
        (5, "the line is not JSON (Expecting value at character 1)"),
        (6, "the resource is of type Observation, not Patient"),
        (7, "the resource should be an object, not a list"),
        (8, "the resource has no resourceType"),
        (9, "the date of birth '1990-05' is only a year and month; a chart needs the full date"),
        (10, "Patient.identifier[0].value should be text, not a number"),
        (11, "MRN N1 repeats entry 1"),
        (13, "Patient.name[0].given should be a list, not text"),
        (14, "no MRN (no identifier of type MR)"),  # an identifier marked old is not the MRN
        (15, "the date of birth '03/04/1990' is not a FHIR date (YYYY-MM-DD)"),
        (16, "Patient.active should be true or false, not text"),
        (18, "the date of birth '1849-12-31' cannot be right"),
    ]
    assert [r.row for r in read.rows] == [1, 12, 17]
    ann, n12, n17 = read.rows
    assert ann.chart == chart(
        "N1", "Ann Marie", "Lee", dt.date(1990, 1, 31), "ann@example.org", "555-0199"
    )
    assert (ann.account, ann.warnings) == (None, ())
    assert n12.chart.contact_email is None
    assert n12.chart.mobile_phone == "555-0122"  # a phone marked old is no longer in use
    assert n12.warnings == (
        "the e-mail 'not-an-address' is not a valid address; imported without it",
        "the record is marked inactive in the EHR",
        "the patient is recorded as deceased (2020-03-04)",
    )
    assert n17.chart.mobile_phone == "555-0177"  # a number for text messages is a mobile
    assert (n17.chart.first_name, n17.chart.last_name) == ("Peter James", "Chalmers")  # official


def test_a_bundle_of_mixed_resources_is_numbered_by_its_patients(tmp_path: Path) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"resource": {"resourceType": "Organization", "name": "Clinic"}},
            {"resource": patient("P1")},  # entry 1
            {"resource": {"resourceType": "Observation", "status": "final"}},
            {"request": {"method": "DELETE", "url": "Patient/gone"}},  # no resource, rightly
            "oops",  # entry 2: might have been a Patient
            {"resource": {"id": "x"}},  # entry 3
            {"resource": patient("P2", deceasedBoolean=True)},  # entry 4
            {"resource": {"resourceType": "Encounter", "status": "finished"}},
            {"resource": patient("p1", birthDate="1970-01-01")},  # entry 5
        ],
    }
    read = read_export(write_file(tmp_path, json.dumps(bundle, indent=2), "bundle.json"))
    assert [(r.row, r.chart.mrn, r.warnings) for r in read.rows] == [
        (1, "P1", ()),
        (4, "P2", ("the patient is recorded as deceased",)),
    ]
    assert [(p.row, p.reason) for p in read.rejected] == [
        (2, "Bundle.entry[4] should be an object, not text"),
        (3, "Bundle.entry[5].resource has no resourceType"),
        (5, "MRN p1 repeats entry 1"),
    ]
    assert all(r.account is None for r in read.rows)


def test_one_line_a_resource_in_a_json_file_is_ndjson_and_a_bom_is_allowed(tmp_path: Path) -> None:
    text = "\ufeff" + json.dumps(patient("A1")) + "\n" + json.dumps(patient("A2")) + "\n"
    read = read_export(write_file(tmp_path, text, "export.json"))
    assert [(r.row, r.chart.mrn) for r in read.rows] == [(1, "A1"), (2, "A2")]
    (single,) = read_export(
        write_file(tmp_path, "\ufeff" + json.dumps(patient("B1")), "one.json")
    ).rows
    assert single.chart.mrn == "B1"
    said = read_export(
        write_file(tmp_path, json.dumps(patient("C1")), "export.txt"), format=ExportFormat.FHIR
    )
    assert said.rows[0].chart.mrn == "C1"
    observation = read_export(write_file(tmp_path, '{"resourceType": "Observation"}', "o.json"))
    assert [(p.row, p.reason) for p in observation.rejected] == [
        (1, "the resource is of type Observation, not Patient")
    ]


@pytest.mark.parametrize(
    ("name", "data", "refusal"),
    [
        ("export.json", "MRN,DOB\nM1,1990-01-01\n", r"^The file is not JSON \(line 1, character 1"),
        ("export.json", "[1, 2]", "not FHIR: it holds a list, not a resource"),
        ("export.json", '{\n"name": "Lee"\n}', "JSON but not FHIR: it has no resourceType"),
        ("export.json", " \n\n", "empty"),
        ("export.json", b'{"resourceType": "Patient", "name": "\xe9"}', "not UTF-8 text"),
        ("export.ndjson", "MRN,DOB\nM1,1990-01-01\n", "not FHIR NDJSON"),
        ("export.ndjson", '{"name": "Lee"}\n', "its first line has no resourceType"),
        ("export.json", '{"resourceType": "Bundle", "entry": {}}', "its entry is not a list"),
    ],
)
def test_a_file_that_is_not_fhir_is_one_clear_refusal(
    tmp_path: Path, name: str, data: str | bytes, refusal: str
) -> None:
    with pytest.raises(FileRefused, match=refusal):
        read_export(write_file(tmp_path, data, name))


def test_an_ndjson_line_in_another_encoding_is_rejected_and_the_others_read(
    tmp_path: Path,
) -> None:
    good = json.dumps(patient("L1")).encode("utf-8")
    latin1 = json.dumps(patient("L2", name=[{"family": "Müller"}]), ensure_ascii=False)
    data = b"\xef\xbb\xbf" + good + b"\n" + latin1.encode("latin-1") + b"\n"
    read = read_export(write_file(tmp_path, data, "Patient.ndjson"))
    assert [r.chart.mrn for r in read.rows] == ["L1"]
    assert [(p.row, p.reason) for p in read.rejected] == [(2, "the line is not UTF-8 text")]
