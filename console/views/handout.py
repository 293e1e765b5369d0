"""The printed invitation handout (SPEC §5): one page the patient takes home, with their
name, the PIN, the expiry and the steps to create their portal account.

The page is ``console/resources/handout.html`` laid out by Qt's rich-text engine, written to
a PDF (``write_handout``) or sent to a printer (``print_handout``). It never shows the date
of birth (the patient proves it when accepting) nor the link's token (only the e-mail has
it): a lost handout alone cannot open the account.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from string import Template

from PySide6.QtCore import QMarginsF, QRectF, QSizeF
from PySide6.QtGui import (
    QImage,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QTextDocument,
)
from PySide6.QtPrintSupport import QPrinter

#: The default portal password policy (SPEC §5), as the patient reads it.
DEFAULT_POLICY_WORDS = (
    "at least 8 characters, with at least one capital letter, one small letter and one digit."
)
_MARGINS_MM = QMarginsF(18, 16, 18, 16)
_LAYOUT_DPI = 96


def _layout_device() -> QImage:
    image = QImage(1, 1, QImage.Format.Format_RGB32)
    dots_per_metre = round(_LAYOUT_DPI / 0.0254)
    image.setDotsPerMeterX(dots_per_metre)
    image.setDotsPerMeterY(dots_per_metre)
    return image


_LAYOUT_DEVICE = _layout_device()


@dataclass(frozen=True)
class HandoutText:
    """What a handout says. ``pin`` is the six digits as issued."""

    clinic_name: str
    portal_name: str
    patient_name: str
    pin: str
    expires_at: dt.datetime
    portal_url: str = ""
    address: str = ""
    password_rule: str = DEFAULT_POLICY_WORDS
    clinic_phone: str = ""


def spaced_pin(pin: str) -> str:
    """The PIN in two groups of three, as read aloud: ``246810`` → ``246 810``."""
    digits = pin.strip()
    return f"{digits[:3]} {digits[3:]}" if len(digits) == 6 else digits


def expiry_words(expires_at: dt.datetime) -> str:
    """The expiry as a person reads it, in the workstation's time zone:
    "Monday 9 March 2026, 10:00"."""
    local = expires_at.astimezone()
    return f"{local:%A} {local.day} {local:%B %Y}, {local:%H:%M}"


def handout_html(text: HandoutText) -> str:
    """The handout's HTML, every value escaped."""
    template = Template((files("console.resources") / "handout.html").read_text("utf-8"))

    def e(value: str) -> str:
        return html.escape(value, quote=True)

    portal_line = (
        f" It opens {e(text.portal_name)} at <b>{e(text.portal_url)}</b>."
        if text.portal_url
        else ""
    )
    clinic = text.clinic_name or "your clinic"
    contact = f"Call {e(clinic)} on {e(text.clinic_phone)}." if text.clinic_phone else ""
    return template.substitute(
        clinic_name=e(text.clinic_name),
        portal_name=e(text.portal_name),
        patient_name=e(text.patient_name),
        pin=e(spaced_pin(text.pin)),
        expires=e(expiry_words(text.expires_at)),
        address=e(text.address) if text.address else "your e-mail address",
        portal_line=portal_line,
        password_rule=e(text.password_rule),
        contact_line=contact or f"Ask {e(clinic)}.",
    )


def _lay_out(device: QPagedPaintDevice, text: HandoutText, *, a4: bool) -> QTextDocument:
    if a4:
        device.setPageLayout(
            QPageLayout(
                QPageSize(QPageSize.PageSizeId.A4),
                QPageLayout.Orientation.Portrait,
                _MARGINS_MM,
                QPageLayout.Unit.Millimeter,
            )
        )
    else:  # the paper the person chose in the print dialog
        device.setPageMargins(_MARGINS_MM, QPageLayout.Unit.Millimeter)
    document = QTextDocument()
    document.setDocumentMargin(0)
    # Laid out at 96 dots per inch whatever the device (the template's px are a screen's)
    # and scaled when painted; QTextDocument.print_ would add margins and a page number.
    document.documentLayout().setPaintDevice(_LAYOUT_DEVICE)
    document.setHtml(handout_html(text))
    area = device.pageLayout().paintRect(QPageLayout.Unit.Inch)
    document.setPageSize(QSizeF(area.width() * _LAYOUT_DPI, area.height() * _LAYOUT_DPI))
    return document


def _paint(device: QPagedPaintDevice, document: QTextDocument) -> None:
    painter = QPainter()
    if not painter.begin(device):
        raise OSError("The handout could not be started (the file or printer refused it).")
    try:
        scale = device.logicalDpiX() / _LAYOUT_DPI
        painter.scale(scale, scale)
        size = document.pageSize()
        document.drawContents(painter, QRectF(0, 0, size.width(), size.height()))
    finally:
        painter.end()


def write_handout(
    path: str | Path,
    *,
    clinic_name: str,
    portal_name: str,
    patient_name: str,
    pin: str,
    expires_at: dt.datetime,
    portal_url: str,
    address: str = "",
    password_rule: str = DEFAULT_POLICY_WORDS,
    clinic_phone: str = "",
) -> Path:
    """Write the one-page handout PDF to ``path``; return it. Raises ``OSError`` when the
    file cannot be written."""
    text = HandoutText(
        clinic_name,
        portal_name,
        patient_name,
        pin,
        expires_at,
        portal_url,
        address,
        password_rule,
        clinic_phone,
    )
    target = Path(path)
    target.open("wb").close()  # a folder that is missing or read-only: the OSError, named
    writer = QPdfWriter(str(target))
    writer.setTitle(f"{portal_name} invitation")
    writer.setCreator(clinic_name or portal_name)
    writer.setResolution(300)
    _paint(writer, _lay_out(writer, text, a4=True))
    del writer  # finishes the file
    if not target.is_file() or target.stat().st_size == 0:
        raise OSError(f"The handout could not be written to {target}.")
    return target


def print_handout(printer: QPrinter, text: HandoutText) -> None:
    """Send the handout to ``printer`` (set up by the print dialog)."""
    _paint(printer, _lay_out(printer, text, a4=False))


__all__ = [
    "DEFAULT_POLICY_WORDS",
    "HandoutText",
    "expiry_words",
    "handout_html",
    "print_handout",
    "spaced_pin",
    "write_handout",
]
