"""The invitation handout: a one-page PDF with the patient's name, the PIN, the expiry and
the steps to register — and never the date of birth."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from console.views.handout import write_handout
from console.views.handout_text import HandoutText, handout_html, spaced_pin

EXPIRES = dt.datetime(2026, 3, 9, 9, 0, tzinfo=dt.UTC)


def write(path: Path, patient_name: str = "Maria Gonzalez") -> Path:
    return write_handout(
        path,
        clinic_name="Riverside Family Practice",
        portal_name="MyHealth Portal",
        patient_name=patient_name,
        pin="246810",
        expires_at=EXPIRES,
        portal_url="https://portal.riverside.example",
    )


def pages_and_text(path: Path) -> tuple[int, str]:
    try:
        from PySide6.QtPdf import QPdfDocument
    except ImportError:  # a PySide6 without QtPdf: the size has to do
        assert path.stat().st_size > 1024
        return 1, ""
    document = QPdfDocument()
    document.load(str(path))
    count = document.pageCount()
    text = document.getAllText(0).text() if count else ""
    document.close()
    return count, text


def test_the_handout_is_a_one_page_pdf(qapp: QApplication, tmp_path: Path) -> None:
    path = write(tmp_path / "handout.pdf")
    assert path.read_bytes().startswith(b"%PDF")
    count, text = pages_and_text(path)
    assert count == 1
    if text:
        flat = " ".join(text.split())
        assert "Maria Gonzalez" in flat
        assert "246 810" in flat
        assert "Monday 9 March 2026" in flat
        assert "never by e-mail" in flat


def test_a_long_name_still_fits_one_page(qapp: QApplication, tmp_path: Path) -> None:
    path = write(tmp_path / "long.pdf", "Maria-Fernanda de los Ángeles " * 6)
    assert pages_and_text(path)[0] == 1


def test_an_unwritable_path_is_an_os_error(qapp: QApplication, tmp_path: Path) -> None:
    with pytest.raises(OSError):
        write(tmp_path / "no-such-folder" / "handout.pdf")


def test_the_html_says_the_steps_escapes_names_and_has_no_birth_date() -> None:
    html = handout_html(
        HandoutText(
            clinic_name="Riverside",
            portal_name="MyHealth Portal",
            patient_name="Ann <script>",
            pin="013579",
            expires_at=EXPIRES,
        )
    )
    assert "Ann &lt;script&gt;" in html and "<script>" not in html
    assert "013 579" in html
    for step in (
        "Open the e-mail",
        "Click the link",
        "<b>PIN</b> above and your <b>date of birth</b>",
        "at least 8 characters, with at least one capital letter, one small letter and one digit",
        "The PIN comes from your clinic, never by e-mail.",
    ):
        assert step in html
    assert "1980" not in html and "birth_date" not in html
    assert spaced_pin("246810") == "246 810"
