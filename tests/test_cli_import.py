"""``portal-console import`` (issue 13, point 7): a dry run that writes nothing, an import
whose exit status says whether rows were rejected, a report file with every line, and one
line with status 2 for a file that cannot be read at all."""

from __future__ import annotations

import csv
import hashlib
import json
import stat
from pathlib import Path

import pytest

from console.cli_import import SOME_REJECTED
from console.models.schema import Patient
from tests.cli import run
from tests.factories import count_rows

PASSWORD = "Harbour-Lights-4271"
EXPORT = (
    "Chart No,Given Name,Family Name,Birth Date,Contact Email,Username\n"
    "A1,Ann,Lee,01/02/1980,ann@example.org,ann\n"
    "A2,Bob,Lee,1981-02-03,bob@example.org,bob\n"
    "A3,Cy,Lee,1982-02-30,,\n"
)


@pytest.fixture
def clinic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A clinic made by ``init``, whose administrator (``boss``) may import."""
    monkeypatch.setenv("PORTAL_CONSOLE_AUDIT_KEY", hashlib.sha256(b"import test").hexdigest())
    path = tmp_path / "clinic.db"
    status, _out, err = run(
        capsys, monkeypatch, "init", "--db", str(path), "--admin", "boss", stdin=PASSWORD + "\n"
    )
    assert status == 0, err
    monkeypatch.setenv("PORTAL_CONSOLE_STAFF_PASSWORD", PASSWORD)
    return path


def test_dry_run_then_import_then_the_same_file_again(
    clinic: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    export = tmp_path / "ehr.csv"
    export.write_text(EXPORT, encoding="utf-8")
    base = ("import", str(export), "--db", str(clinic), "--staff", "boss")
    status, out, err = run(capsys, monkeypatch, *base, "--dry-run")
    assert status == SOME_REJECTED, err
    assert out.startswith("Dry run — nothing was written: ehr.csv")
    assert "rejected row 4: the date of birth '1982-02-30' is not a real date" in err
    assert count_rows(clinic, Patient) == 0

    report = tmp_path / "report.csv"
    status, out, err = run(capsys, monkeypatch, *base, "--report", str(report))
    assert status == SOME_REJECTED, err
    assert count_rows(clinic, Patient) == 2
    assert stat.S_IMODE(report.stat().st_mode) == 0o600  # it names patients
    with report.open(encoding="utf-8", newline="") as file:
        lines = list(csv.DictReader(file))
    kinds = [
        (line["row"], line["kind"], line["mrn"]) for line in lines if line["kind"] != "summary"
    ]
    assert kinds == [
        ("2", "new chart", "A1"),
        ("2", "new account", "A1"),
        ("3", "new chart", "A2"),
        ("3", "new account", "A2"),
        ("4", "rejected", ""),
    ]
    totals = [line["detail"] for line in lines if line["kind"] == "summary"]
    assert totals[0] == "import finished" and "new_charts: 2" in totals
    assert f"sha256: {hashlib.sha256(export.read_bytes()).hexdigest()}" in totals

    # Row 4 corrected: everything is imported (status 0), and only row 4 is new.
    export.write_text(EXPORT.replace("1982-02-30", "1982-02-28"), encoding="utf-8")
    json_report = tmp_path / "report.json"
    status, out, err = run(capsys, monkeypatch, *base, "--report", str(json_report))
    assert status == 0, err
    figures = {
        line["detail"].split(": ")[0]: line["detail"].split(": ")[1]
        for line in json.loads(json_report.read_text(encoding="utf-8"))
        if line["kind"] == "summary" and ": " in line["detail"]
    }
    assert (figures["new_charts"], figures["unchanged_charts"]) == ("1", "2")
    assert count_rows(clinic, Patient) == 3


@pytest.mark.parametrize(
    ("content", "extra", "said"),
    [
        (None, (), "There is no file at"),
        ("", (), "The file is empty"),
        ("Name,Colour\nAnn,blue\n", (), "The file has no column for: mrn"),
        (EXPORT, ("--encoding", "nonsense"), "'nonsense' is not an encoding"),
        (EXPORT, ("--report", "out.pdf"), "A report is saved as .csv or .json"),
        (EXPORT, ("--mapping", "missing.csv"), "The mapping file cannot be read"),
    ],
)
def test_a_file_that_cannot_be_read_is_one_line_and_status_2(
    clinic: Path,
    tmp_path: Path,
    content: str | None,
    extra: tuple[str, ...],
    said: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    export = tmp_path / "ehr.csv"
    if content is not None:
        export.write_text(content, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    argv = ("import", str(export), "--db", str(clinic), "--staff", "boss", *extra)
    status, out, err = run(capsys, monkeypatch, *argv)
    assert status == 2 and said in err and len(err.strip().splitlines()) == 1, err
    assert out == "" and count_rows(clinic, Patient) == 0
    assert not (tmp_path / "out.pdf").exists()
